/**
 * The browser demo: pretrain a small conv encoder with a self-supervised
 * method on unlabeled Fashion-MNIST images, live, on TensorFlow.js's wasm
 * backend. Built by `npm run demo:browser` (scripts/build-browser-demo.ts)
 * and driven by tests/browser/demo.test.ts through `window.selfsupDemo`.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  BYOL,
  convEncoder,
  createRng,
  embedImages,
  fetchVendoredData,
  grayscaleAugment,
  knnClassifier,
  loadFashionMnistSubset,
  RotationPrediction,
  rotationBatch,
  SimCLR,
  twoViews,
  useBackend,
  type BackendInfo,
  type PretextTask,
} from 'selfsup';

type MethodName = 'simclr' | 'byol' | 'rotation';

/** What a scripted run reports (the browser test reads it). */
export interface RunReport {
  backend: string;
  simd: boolean | null;
  /** Threads of the wasm backend (all cores on a cross-origin-isolated page, else 1). */
  threads: number;
  /** Threads selfsup's own kernels split their work over. */
  kernelThreads: number;
  /** Why fewer threads than cores, or null. */
  threadsReason: string | null;
  /** `navigator.hardwareConcurrency`. */
  cores: number;
  /** What the page shows as its backend. */
  backendText: string;
  method: MethodName;
  steps: number;
  losses: number[];
  tensorCounts: number[];
  stepsPerSecond: number;
  knnRandomInit: number;
  knnTrained: number;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = (text: string, error = false) => {
  const el = $('status');
  el.textContent = text;
  el.className = error ? 'error' : '';
};

// Colours of the ten Fashion-MNIST classes in the scatter plots.
const CLASS_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#555555'];

let info: BackendInfo;
// Loaded once the backend is ready (tensors need one): 600 training images are the
// unlabeled pretraining set and the kNN bank; 200 held-back test images are scored and plotted.
let train: ReturnType<typeof loadFashionMnistSubset>;
let test: ReturnType<typeof loadFashionMnistSubset>;
const rng = createRng(0);

interface Session {
  method: MethodName;
  encoder: ReturnType<typeof convEncoder>;
  task: PretextTask;
  losses: number[];
  tensorCounts: number[];
  knnRandomInit: number;
  knnTrained: number;
  running: boolean;
}
let session: Session | undefined;

function makeTask(method: MethodName, encoder: ReturnType<typeof convEncoder>, temperature: number): PretextTask {
  switch (method) {
    case 'simclr':
      return new SimCLR(encoder, { temperature, seed: 1 });
    case 'byol':
      return new BYOL(encoder, { seed: 1 });
    case 'rotation':
      return new RotationPrediction(encoder, { seed: 1 });
  }
}

async function newSession(): Promise<Session> {
  session?.task.dispose();
  session?.encoder.dispose();
  const method = ($('method') as HTMLSelectElement).value as MethodName;
  const temperature = Number(($('temperature') as HTMLInputElement).value);
  const encoder = convEncoder({ inputShape: [28, 28, 1], channels: [16, 32, 64], strides: [1, 2, 2], batchNorm: true, seed: 7 });
  const task = makeTask(method, encoder, temperature);
  // The temperature is SimCLR's; the other methods have none to set.
  ($('temperature') as HTMLInputElement).disabled = method !== 'simclr';
  $('views-caption').textContent =
    method === 'rotation'
      ? 'Top: the images rotated by 90°, bottom: by 180° (the network predicts the angle).'
      : 'Top: view 1, bottom: view 2 of the same eight images.';
  const s: Session = { method, encoder, task, losses: [], tensorCounts: [], knnRandomInit: 0, knnTrained: 0, running: false };
  status('Scoring the random-init embedding…');
  s.knnRandomInit = await evaluate(s, 'scatter-random');
  $('caption-random').textContent = `random init: kNN ${(100 * s.knnRandomInit).toFixed(1)}%`;
  clear('scatter-trained');
  clear('loss-curve');
  $('caption-trained').textContent = 'after training';
  $('step').textContent = '0';
  $('loss').textContent = '—';
  $('knn').textContent = `${(100 * s.knnRandomInit).toFixed(1)}% (random init)`;
  status(`Ready: ${task.name} on 600 unlabeled images. Press Start.`);
  return s;
}

function clear(id: string): void {
  const c = $<HTMLCanvasElement>(id);
  c.getContext('2d')!.clearRect(0, 0, c.width, c.height);
}

/** kNN accuracy of the encoder's features on the held-back images, and their PCA scatter. */
async function evaluate(s: Session, canvasId: string): Promise<number> {
  const bank = embedImages(s.encoder, train.images);
  const queries = embedImages(s.encoder, test.images);
  const { accuracy } = await knnClassifier(bank, train.labels, queries, test.labels, { k: 20 });
  drawScatter(canvasId, pca2(queries), Array.from(test.labels.dataSync()));
  tf.dispose([bank, queries]);
  return accuracy ?? 0;
}

/** Projects rows on their top two principal components (power iteration on the covariance). */
function pca2(x: tf.Tensor2D): [number, number][] {
  const [n, d] = x.shape;
  const data = tf.tidy(() => tf.sub(x, tf.mean(x, 0, true)).dataSync());
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const va = data[i * d + a] as number;
      if (va === 0) continue;
      for (let b = 0; b < d; b++) cov[a * d + b] = (cov[a * d + b] as number) + va * (data[i * d + b] as number);
    }
  }
  const components: Float64Array[] = [];
  for (let k = 0; k < 2; k++) {
    let v = Float64Array.from({ length: d }, (_, i) => Math.sin(i + 1 + k));
    for (let iter = 0; iter < 100; iter++) {
      const w = new Float64Array(d);
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) w[a] = (w[a] as number) + (cov[a * d + b] as number) * (v[b] as number);
      for (const c of components) {
        const dot = w.reduce((s, wi, i) => s + wi * (c[i] as number), 0);
        for (let i = 0; i < d; i++) w[i] = (w[i] as number) - dot * (c[i] as number);
      }
      const norm = Math.hypot(...w) || 1;
      v = w.map((wi) => wi / norm);
    }
    components.push(v);
  }
  return Array.from({ length: n }, (_, i) => {
    let p0 = 0;
    let p1 = 0;
    for (let a = 0; a < d; a++) {
      p0 += (data[i * d + a] as number) * (components[0]![a] as number);
      p1 += (data[i * d + a] as number) * (components[1]![a] as number);
    }
    return [p0, p1];
  });
}

function drawScatter(id: string, points: [number, number][], labels: number[]): void {
  const c = $<HTMLCanvasElement>(id);
  const ctx = c.getContext('2d')!;
  ctx.clearRect(0, 0, c.width, c.height);
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  points.forEach(([x, y], i) => {
    ctx.fillStyle = CLASS_COLORS[labels[i] as number] as string;
    ctx.beginPath();
    ctx.arc(8 + ((x - x0) / (x1 - x0 || 1)) * (c.width - 16), 8 + ((y - y0) / (y1 - y0 || 1)) * (c.height - 16), 3, 0, 2 * Math.PI);
    ctx.fill();
  });
}

function drawLossCurve(losses: number[]): void {
  const c = $<HTMLCanvasElement>('loss-curve');
  const ctx = c.getContext('2d')!;
  ctx.clearRect(0, 0, c.width, c.height);
  if (losses.length < 2) return;
  const lo = Math.min(...losses);
  const hi = Math.max(...losses);
  ctx.strokeStyle = '#4e79a7';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  losses.forEach((l, i) => {
    const x = 30 + (i / (losses.length - 1)) * (c.width - 40);
    const y = 10 + (1 - (l - lo) / (hi - lo || 1)) * (c.height - 30);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = '#555';
  ctx.font = '11px system-ui';
  ctx.fillText(hi.toFixed(3), 2, 14);
  ctx.fillText(lo.toFixed(3), 2, c.height - 22);
  ctx.fillText(`step ${losses.length}`, c.width - 60, c.height - 4);
}

/** Draws eight images of the batch in the two views the method trains on (rotations for RotNet). */
function drawViews(batch: tf.Tensor4D, method: MethodName, seed: number): void {
  const eight = tf.slice(batch, [0, 0, 0, 0], [8, -1, -1, -1]) as tf.Tensor4D;
  let top: tf.Tensor4D;
  let bottom: tf.Tensor4D;
  if (method === 'rotation') {
    const r = rotationBatch(eight); // [4·8]: eight unrotated, then 90°, 180°, 270°
    top = tf.slice(r.images, [8, 0, 0, 0], [8, -1, -1, -1]);
    bottom = tf.slice(r.images, [16, 0, 0, 0], [8, -1, -1, -1]);
    tf.dispose([r.images, r.labels]);
  } else {
    [top, bottom] = twoViews(eight, grayscaleAugment(), { seed });
  }
  const c = $<HTMLCanvasElement>('views');
  const ctx = c.getContext('2d')!;
  const pixels = tf.tidy(() => tf.concat([tf.concat(tf.unstack(top), 1), tf.concat(tf.unstack(bottom), 1)], 0).dataSync());
  const h = 56;
  const w = 224;
  const image = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const v = Math.round((pixels[i] as number) * 255);
    image.data.set([v, v, v, 255], i * 4);
  }
  // Draw at 2× through an offscreen canvas (putImageData ignores scaling).
  const off = document.createElement('canvas');
  off.width = w;
  off.height = h;
  off.getContext('2d')!.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, w * 2, h * 2);
  tf.dispose([eight, top, bottom]);
}

const nextFrame = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Trains until stopped (or for `maxSteps`), yielding to the page between steps. */
async function train_(s: Session, maxSteps = Infinity): Promise<number> {
  const batchSize = Number(($('batch') as HTMLSelectElement).value);
  s.running = true;
  $('start').textContent = 'Stop';
  const start = performance.now();
  let steps = 0;
  while (s.running && steps < maxSteps) {
    const indices = tf.tensor1d(Array.from({ length: batchSize }, () => rng.int(0, train.images.shape[0])), 'int32');
    const batch = tf.gather(train.images, indices) as tf.Tensor4D;
    const loss = s.task.step(batch);
    s.losses.push(loss);
    if (steps % 5 === 0) drawViews(batch, s.method, s.task.steps);
    tf.dispose([indices, batch]);
    s.tensorCounts.push(tf.memory().numTensors);
    steps++;
    const rate = steps / ((performance.now() - start) / 1000);
    $('step').textContent = String(s.task.steps);
    $('loss').textContent = loss.toFixed(4);
    $('rate').textContent = rate.toFixed(2);
    $('tensors').textContent = String(tf.memory().numTensors);
    if (steps % 5 === 0) drawLossCurve(s.losses);
    await nextFrame(); // keep the page responsive: the UI runs between steps
  }
  s.running = false;
  $('start').textContent = 'Start';
  drawLossCurve(s.losses);
  status('Scoring the trained embedding…');
  const knn = await evaluate(s, 'scatter-trained');
  s.knnTrained = knn;
  $('caption-trained').textContent = `after ${s.task.steps} steps: kNN ${(100 * knn).toFixed(1)}%`;
  $('knn').textContent = `${(100 * knn).toFixed(1)}% (random init ${(100 * s.knnRandomInit).toFixed(1)}%)`;
  status(`Stopped after ${s.task.steps} steps.`);
  return steps / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  info = await useBackend('wasm', { wasmPaths: './' }); // tfjs's .wasm files and selfsup's kernels sit beside the page
  await fetchVendoredData({ url: './', names: ['fashion-mnist-subset'] }); // so is selfsup's data/fashion-mnist-subset.bin.gz
  train = loadFashionMnistSubset({ split: 'train' });
  test = loadFashionMnistSubset({ split: 'test' });
  $('legend').innerHTML = train.classNames
    .map((name, i) => `<span style="color: ${CLASS_COLORS[i]}">●</span> ${name}`)
    .join(' &nbsp;');
  // The thread count, and why it is lower than the cores (a page served without COOP/COEP runs on one).
  $('backend').textContent =
    `${info.backend}${info.simd ? ' + SIMD' : ''}, ${info.threads} thread${info.threads === 1 ? '' : 's'}` +
    (info.threadsReason ? ` — ${info.threadsReason}` : '');
  session = await newSession();
  $('start').addEventListener('click', () => {
    if (!session) return;
    if (session.running) session.running = false;
    else void train_(session);
  });
  $('reset').addEventListener('click', async () => {
    if (session) session.running = false;
    session = await newSession();
  });
  for (const id of ['method', 'temperature']) {
    $(id).addEventListener('change', async () => {
      if (session) session.running = false;
      session = await newSession();
    });
  }
}

const ready = main().catch((e: unknown) => {
  status(`Error: ${e instanceof Error ? e.message : String(e)}`, true);
  throw e;
});

// The hook the browser test drives: a fixed number of steps with a given method.
(window as unknown as { selfsupDemo: unknown }).selfsupDemo = {
  ready,
  async run(method: MethodName, steps: number, batchSize = 64): Promise<RunReport> {
    await ready;
    ($('method') as HTMLSelectElement).value = method;
    ($('batch') as HTMLSelectElement).value = String(batchSize);
    session = await newSession();
    const stepsPerSecond = await train_(session, steps);
    return {
      backend: info.backend,
      simd: info.simd,
      threads: info.threads,
      kernelThreads: info.kernelThreads,
      threadsReason: info.threadsReason,
      cores: navigator.hardwareConcurrency,
      backendText: $('backend').textContent ?? '',
      method,
      steps,
      losses: session.losses,
      tensorCounts: session.tensorCounts,
      stepsPerSecond,
      knnRandomInit: session.knnRandomInit,
      knnTrained: session.knnTrained,
    };
  },
};
