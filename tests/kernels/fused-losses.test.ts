/**
 * selfsup's fused loss and k-means kernels on wasm (src/kernels/c/contrastive.c,
 * kmeans.c) against the tfjs compositions they replace (the same losses with
 * the fused kernels unregistered) and the PyTorch / scikit-learn fixtures:
 * odd sizes that exercise every SIMD tail and block edge, gradients by
 * central differences, dispatch, leaks, memory growth, and the accuracy of
 * the vectorised exp.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { backendMemory, type WasmBackendLike } from '../../src/kernels/wasm-runtime.js';
import { FUSED, hasFusedKernel } from '../../src/core/fused-kernels.js';
import { clipLoss, infoNCELoss, kMeans, ntXentLoss } from '../../src/losses/index.js';
import { loadFixture } from '../helpers/fixtures.js';
import { checkGradients, expectClose, expectFinite, expectNoLeak } from '../helpers/numerics.js';
import { randn, randn2d } from '../losses/inputs.js';
import { checkCase, type ReferenceCase } from '../losses/reference-cases.js';

type Loss = (...xs: tf.Tensor[]) => tf.Scalar;

/** Runs `fn` with selfsup's fused kernels hidden from the wasm backend (the losses fall back to their tfjs compositions). */
function composed<T>(fn: () => T): T {
  const saved = Object.values(FUSED)
    .map((name) => tf.getKernel(name, 'wasm'))
    .filter((k): k is tf.KernelConfig => k !== undefined);
  for (const k of saved) tf.unregisterKernel(k.kernelName, 'wasm');
  try {
    return fn();
  } finally {
    for (const k of saved) tf.registerKernel(k);
  }
}

/** Loss value and the gradients of every input, as plain arrays. */
function valueAndGrads(f: Loss, inputs: tf.Tensor[]): [number, Float32Array[]] {
  return tf.tidy(() => {
    const { value, grads } = tf.valueAndGrads(f)(inputs);
    return [value.dataSync()[0]!, grads.map((g) => g.dataSync() as Float32Array)];
  });
}

/** Fused and composed results agree: the value to `rtol`, each gradient to `rtol` of its largest entry. */
function expectPathsAgree(label: string, f: Loss, inputs: tf.Tensor[], rtol = 2e-5): void {
  const [fv, fg] = valueAndGrads(f, inputs);
  const [cv, cg] = composed(() => valueAndGrads(f, inputs));
  expectClose(fv, cv, { rtol, atol: rtol, label: `${label}: loss` });
  fg.forEach((g, i) => {
    const scale = Math.max(1e-30, ...Array.from(cg[i]!, Math.abs));
    expectClose(g, cg[i]!, { rtol: 0, atol: 20 * rtol * scale, label: `${label}: gradient ${i}` });
  });
}

beforeAll(async () => {
  await useBackend('wasm');
});

afterAll(async () => {
  await useBackend('cpu');
});

describe('fused contrastive kernels (wasm)', () => {
  it('are registered by useBackend and are what the losses run', async () => {
    for (const name of Object.values(FUSED)) expect(hasFusedKernel(name), name).toBe(true);
    const a = randn2d(6, 5, 1);
    const b = randn2d(6, 5, 2);
    const queue = randn2d(9, 5, 3);
    const kernelsOf = async (f: () => tf.Tensor) => (await tf.profile(() => tf.tidy(f))).kernelNames;
    expect(await kernelsOf(() => ntXentLoss(a, b))).toContain(FUSED.ntXent);
    expect(await kernelsOf(() => infoNCELoss(a, b, queue))).toContain(FUSED.infoNCEQueue);
    expect(await kernelsOf(() => clipLoss(a, b))).toContain(FUSED.clip);
    expect(composed(() => hasFusedKernel(FUSED.ntXent))).toBe(false);
    tf.dispose([a, b, queue]);
  });

  it('NT-Xent matches the composition at odd sizes (SIMD tails, symmetric blocks, N = 2, 3)', () => {
    // M = 2N rows: 4, 6 (tails), 74 = 2 blocks of 32 + 10, 130; D: 1, 7, 9, 67, 130. (N = 1 has no negatives: an error.)
    const one = randn2d(1, 3, 1);
    expect(() => ntXentLoss(one, one)).toThrow('ntXentLoss: z1 must have N ≥ 2 on axis 0');
    one.dispose();
    const sizes: [number, number, number][] = [[2, 1, 0.2], [3, 7, 0.01], [5, 9, 0.5], [37, 67, 0.07], [65, 130, 0.1]];
    for (const [n, d, temperature] of sizes) {
      const a = randn2d(n, d, n * 7 + d);
      const b = randn2d(n, d, n * 11 + d);
      expectPathsAgree(`ntXent N=${n} D=${d} τ=${temperature}`, (x, y) => ntXentLoss(x as tf.Tensor2D, y as tf.Tensor2D, { temperature }), [a, b]);
      tf.dispose([a, b]);
    }
  });

  it('InfoNCE with a queue matches the composition, the queue\'s own gradient included', () => {
    // K past one queue block (256) with a tail, N past a query group with a tail, D with tails.
    const sizes: [number, number, number][] = [[1, 1, 1], [2, 7, 3], [5, 33, 9], [37, 301, 13]];
    for (const [n, k, d] of sizes) {
      const q = randn2d(n, d, n + k);
      const key = randn2d(n, d, n + k + 1);
      const queue = randn2d(k, d, n + k + 2);
      const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => infoNCELoss(x as tf.Tensor2D, y as tf.Tensor2D, z as tf.Tensor2D, { temperature: 0.07 });
      expectPathsAgree(`infoNCE N=${n} K=${k} D=${d}`, f, [q, key, queue]);
      tf.dispose([q, key, queue]);
    }
  });

  it('CLIP matches the composition, the learnable log scale\'s gradient included', () => {
    const sizes: [number, number][] = [[1, 2], [2, 3], [5, 17], [70, 9]];
    for (const [n, d] of sizes) {
      const img = randn2d(n, d, 3 * n + d);
      const txt = randn2d(n, d, 5 * n + d);
      const logScale = tf.scalar(Math.log(30));
      const f = (x: tf.Tensor, y: tf.Tensor, s: tf.Tensor) => clipLoss(x as tf.Tensor2D, y as tf.Tensor2D, { logScale: s as tf.Scalar });
      expectPathsAgree(`clip N=${n} D=${d}`, f, [img, txt, logScale]);
      tf.dispose([img, txt, logScale]);
    }
  });

  it('match the PyTorch fixtures through the fused kernels', () => {
    const cases = loadFixture<{ cases: ReferenceCase[] }>('losses-contrastive').cases;
    // NT-Xent, CLIP and InfoNCE with a shared [K, D] queue are fused (in-batch and per-query InfoNCE stay compositions).
    const isFused = (c: ReferenceCase) =>
      c.fn === 'ntXentLoss' || c.fn === 'clipLoss' || (c.fn === 'infoNCELoss' && c.name.startsWith('infoNCE queue'));
    const fusedCases = cases.filter(isFused);
    expect(fusedCases.length).toBe(11);
    for (const c of fusedCases) checkCase(c);
  });

  it('pass finite-difference gradient checks through the fused kernels', () => {
    const a = randn2d(3, 5, 41);
    const b = randn2d(3, 5, 42);
    const queue = randn2d(6, 5, 43);
    const logScale = tf.scalar(0.7);
    checkGradients((x, y) => ntXentLoss(x as tf.Tensor2D, y as tf.Tensor2D, { temperature: 0.3 }), [a, b]);
    checkGradients((x, y, n) => infoNCELoss(x as tf.Tensor2D, y as tf.Tensor2D, n as tf.Tensor2D, { temperature: 0.4 }), [a, b, queue]);
    checkGradients((x, y, s) => clipLoss(x as tf.Tensor2D, y as tf.Tensor2D, { logScale: s as tf.Scalar }), [a, b, logScale]);
    tf.dispose([a, b, queue, logScale]);
  });

  it('stay finite at τ = 0.01 with zero rows, identical rows and norms of 1e4', () => {
    const base = randn2d(6, 10, 51);
    const mixed = tf.concat([tf.zeros([2, 10]), tf.slice(base, [0, 0], [4, 10])]) as tf.Tensor2D; // two zero rows
    const huge = tf.mul(randn2d(6, 10, 52), 1e4) as tf.Tensor2D;
    const queue = tf.concat([tf.zeros([3, 10]), randn2d(4, 10, 53)]) as tf.Tensor2D;
    const losses: Record<string, Loss> = {
      ntXent: (x, y) => ntXentLoss(x as tf.Tensor2D, y as tf.Tensor2D, { temperature: 0.01 }),
      infoNCE: (x, y) => infoNCELoss(x as tf.Tensor2D, y as tf.Tensor2D, queue, { temperature: 0.01 }),
      clip: (x, y) => clipLoss(x as tf.Tensor2D, y as tf.Tensor2D, { logScale: Math.log(100) }),
    };
    for (const [name, f] of Object.entries(losses)) {
      for (const [label, x, y] of [['zero rows', mixed, base], ['identical', base, base], ['norms 1e4', huge, base]] as const) {
        const [v, g] = valueAndGrads(f, [x, y]);
        expectFinite(v, `${name} (${label})`);
        g.forEach((gi, i) => expect(gi.every(Number.isFinite), `${name} (${label}) gradient ${i}`).toBe(true));
        expectPathsAgree(`${name} (${label})`, f, [x, y], 1e-4);
      }
    }
    tf.dispose([base, mixed, huge, queue]);
  });

  it('leave nothing alive but their results, and the wasm memory stops growing', () => {
    const a = randn2d(40, 24, 61);
    const b = randn2d(40, 24, 62);
    const queue = randn2d(70, 24, 63);
    const logScale = tf.variable(tf.scalar(2));
    const fs: Loss[] = [
      (x, y) => ntXentLoss(x as tf.Tensor2D, y as tf.Tensor2D),
      (x, y) => infoNCELoss(x as tf.Tensor2D, y as tf.Tensor2D, queue),
      (x, y) => clipLoss(x as tf.Tensor2D, y as tf.Tensor2D, { logScale }),
    ];
    for (const f of fs) {
      tf.dispose(expectNoLeak(() => f(a, b)));
      tf.dispose(expectNoLeak(() => tf.grads(f)([a, b])));
    }
    tf.dispose(expectNoLeak(() => tf.grads((x, y, n) => infoNCELoss(x as tf.Tensor2D, y as tf.Tensor2D, n as tf.Tensor2D))([a, b, queue])));
    tf.dispose(expectNoLeak(() => tf.variableGrads(() => clipLoss(a, b, { logScale }), [logScale])));
    const memory = backendMemory(tf.backend() as unknown as WasmBackendLike);
    const step = () => {
      for (const f of fs) tf.dispose(tf.grads(f)([a, b]));
    };
    step();
    const bytes = memory.buffer.byteLength;
    const tensorBytes = tf.memory().numBytes;
    for (let i = 0; i < 10; i++) step();
    expect(memory.buffer.byteLength).toBe(bytes);
    expect(tf.memory().numBytes).toBe(tensorBytes);
    tf.dispose([a, b, queue, logScale]);
  });

  it('vectorised exp: relative error below 1.5e-7 on [-86.6, 88.7], exact special values', () => {
    const n = 1 << 18;
    const xs = new Float32Array(n);
    for (let i = 0; i < n; i++) xs[i] = -86.6 + ((88.72 + 86.6) * i) / (n - 1);
    const x = tf.tensor1d(xs);
    const y = tf.engine().runKernel(FUSED.vexp, { x }) as tf.Tensor;
    const ys = y.dataSync();
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const exact = Math.exp(xs[i]!);
      worst = Math.max(worst, Math.abs(ys[i]! - exact) / exact);
    }
    expect(worst).toBeLessThan(1.5e-7);
    const special = tf.tensor1d([NaN, Infinity, -Infinity, 0, -0, 89, 88.8, -86.7, -1000, 1e-30]);
    const out = Array.from((tf.engine().runKernel(FUSED.vexp, { x: special }) as tf.Tensor).dataSync());
    expect(out.slice(0, 5)).toEqual([NaN, Infinity, 0, 1, 1]);
    expect(out.slice(5, 7)).toEqual([Infinity, Infinity]);
    expect(out.slice(7)).toEqual([0, 0, 1]);
    tf.dispose([x, y, special]);
  });
});

describe('fused k-means kernels (wasm)', () => {
  it('give the composition\'s clustering at odd sizes (tails in N, D and k)', () => {
    // k = 53: two groups of centroid panels, the last panel with 5 centroids; k = 9: a last panel of 1 (half tile).
    const sizes: [number, number, number][] = [[5, 1, 1], [37, 5, 3], [203, 130, 9], [150, 7, 13], [301, 9, 53]];
    for (const [n, d, k] of sizes) {
      const x = randn2d(n, d, n + d + k);
      const init = tf.slice(x, [0, 0], [k, d]) as tf.Tensor2D;
      const run = () => {
        const r = kMeans(x, { k, iterations: 6, init });
        return { centroids: r.centroids.arraySync(), assignments: Array.from(r.assignments.dataSync()), inertia: r.inertia, dispose: [r.centroids, r.assignments] };
      };
      const fusedRun = run();
      const composedRun = composed(run);
      expect(fusedRun.assignments, `N=${n} D=${d} k=${k}`).toEqual(composedRun.assignments);
      expectClose(fusedRun.centroids, composedRun.centroids, { rtol: 1e-5, atol: 1e-6, label: `N=${n} D=${d} k=${k} centroids` });
      expectClose(fusedRun.inertia, composedRun.inertia, { rtol: 1e-5, label: `N=${n} D=${d} k=${k} inertia` });
      tf.dispose([x, init, ...fusedRun.dispose, ...composedRun.dispose]);
    }
  });

  it('break ties towards the lowest centroid index, as tf.argMin', () => {
    // Duplicated centroids: every sample is equally far from centroids 1 and 3 (and 0 and 2).
    const x = randn2d(21, 6, 71);
    const c = randn2d(2, 6, 72);
    const init = tf.concat([c, c]) as tf.Tensor2D;
    const fusedRun = kMeans(x, { k: 4, iterations: 0, init, emptyClusters: 'keep' });
    const labels = Array.from(fusedRun.assignments.dataSync());
    expect(labels.every((l) => l === 0 || l === 1)).toBe(true);
    const composedRun = composed(() => kMeans(x, { k: 4, iterations: 0, init, emptyClusters: 'keep' }));
    expect(labels).toEqual(Array.from(composedRun.assignments.dataSync()));
    tf.dispose([x, c, init, fusedRun.centroids, fusedRun.assignments, composedRun.centroids, composedRun.assignments]);
  });

  it('leave nothing alive but the result', () => {
    const x = randn([60, 9], 81) as tf.Tensor2D;
    const result = expectNoLeak(() => kMeans(x, { k: 4, iterations: 5, seed: 3 }));
    tf.dispose([x, result.centroids, result.assignments]);
  });
});
