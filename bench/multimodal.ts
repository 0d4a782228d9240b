/**
 * `npm run bench:multimodal [-- --quick]`: the multimodal pretext tasks on two
 * real paired modalities built from Fashion-MNIST, measured against chance.
 * Writes bench/results/multimodal.json and multimodal.md. A benchmark, never a test.
 *
 * No text corpus or audio ships with selfsup, so the second modalities are
 * derived from the data we have, and said to be:
 *
 * - CLIP: image ↔ a short token caption made of the garment's visual
 *   attributes (which body part, sleeve length, front, length, footwear
 *   height, toe, handles …) plus two tokens measured on the image itself
 *   (its brightness and how much of the frame it fills). The attributes come
 *   from the class label, as web captions mention the object; the model
 *   never sees a class id. Three classes (pullover, dress, sneaker) are held
 *   out of training entirely — no image, no caption — and are described only
 *   at test time by their attributes, each of which appears in seen classes
 *   (a pullover is "upper-body, long sleeves, closed front": sleeves like a
 *   coat's, front like a T-shirt's). Zero-shot accuracy on the held-out
 *   classes is reported against chance (1/3), with and without prompt
 *   ensembling (averaging the class's caption over the six brightness × size
 *   instance tokens).
 * - Cross-modal correspondence: image ↔ a line-scan "sensor" reading of the
 *   same garment (its row and column intensity profiles, with gain and
 *   noise): does this reading come from this image? Trained on the training
 *   split, measured on the official test split (never seen) with one positive
 *   and one negative per image, against chance (50 %); also on hard negatives
 *   (another image of the same class).
 *
 * Both report the same networks untrained (random-init) as a control.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import {
  Clip,
  convEncoder,
  createRng,
  CrossModalCorrespondence,
  FASHION_MNIST_CLASSES,
  loadFashionMnist,
  mlpEncoder,
  tokenEncoder,
  useBackend,
  zeroShotClassifier,
  type Rng,
} from 'selfsup';
import { writeResults } from './lib/harness.js';
import {
  captions,
  CLASS_ATTRIBUTES,
  classPrompts,
  HELD_OUT,
  instanceTokens,
  SEEN,
  sensorReadings,
  SEQ,
  VOCAB,
} from '../examples/lib/paired-fashion.js';

const quick = process.argv.includes('--quick');
const seed = 0;

function subsetOf(images: tf.Tensor4D, labels: tf.Tensor1D, classes: number[]): { images: tf.Tensor4D; labels: Int32Array } {
  const y = labels.dataSync() as Int32Array;
  const ids = Array.from(y.keys()).filter((i) => classes.includes(y[i]!));
  return tf.tidy(() => ({ images: tf.gather(images, tf.tensor1d(ids, 'int32')) as tf.Tensor4D, labels: Int32Array.from(ids, (i) => y[i]!) }));
}

function zeroShotAccuracy(clip: Clip, images: tf.Tensor4D, labels: Int32Array, classes: number[], ensemble: boolean): number {
  const prompts = classes.map((c) => classPrompts(c, ensemble));
  const p = prompts[0]!.length;
  const tokens = tf.tensor2d(prompts.flat(), [classes.length * p, SEQ], 'int32');
  const text = clip.encodeText(tokens);
  const perClass = tf.reshape(text, [classes.length, p, -1]) as tf.Tensor3D;
  const classifier = zeroShotClassifier(perClass, { promptEnsembling: ensemble });
  let correct = 0;
  for (let start = 0; start < images.shape[0]; start += 500) {
    const size = Math.min(500, images.shape[0] - start);
    const pred = tf.tidy(() => classifier.predict(clip.encodeImage(tf.slice(images, start, size) as tf.Tensor4D)));
    const pv = pred.dataSync();
    for (let i = 0; i < size; i++) if (classes[pv[i]!] === labels[start + i]) correct++;
    pred.dispose();
  }
  classifier.dispose();
  tf.dispose([tokens, text, perClass]);
  return correct / images.shape[0];
}

/** Accuracy on one positive and one negative per image (negatives: a random other image, or one of the same class). */
function correspondenceAccuracy(
  task: CrossModalCorrespondence,
  images: tf.Tensor4D,
  readings: tf.Tensor2D,
  labels: Int32Array,
  rng: Rng,
  sameClass: boolean,
): number {
  const n = images.shape[0];
  const byClass = new Map<number, number[]>();
  labels.forEach((y, i) => byClass.set(y, [...(byClass.get(y) ?? []), i]));
  const negatives = Int32Array.from({ length: n }, (_, i) => {
    const pool = sameClass ? byClass.get(labels[i]!)! : null;
    for (;;) {
      const j = pool ? pool[rng.int(0, pool.length)]! : rng.int(0, n);
      if (j !== i) return j;
    }
  });
  let correct = 0;
  for (let start = 0; start < n; start += 500) {
    const size = Math.min(500, n - start);
    const [pos, neg] = tf.tidy(() => {
      const x = tf.slice(images, start, size) as tf.Tensor4D;
      const own = tf.slice(readings, start, size);
      const other = tf.gather(readings, tf.tensor1d(negatives.subarray(start, start + size), 'int32'));
      return [task.predict(x, own), task.predict(x, other)];
    });
    const pv = pos!.dataSync();
    const nv = neg!.dataSync();
    for (let i = 0; i < size; i++) correct += (pv[i]! > 0.5 ? 1 : 0) + (nv[i]! <= 0.5 ? 1 : 0);
    tf.dispose([pos!, neg!]);
  }
  return correct / (2 * n);
}

const info = await useBackend('wasm');
const start = performance.now();
const trainSize = quick ? 1000 : 12000;
const testSize = quick ? 500 : 10000;
const clipSteps = quick ? 5 : 300;
const avcSteps = quick ? 5 : 250;
const batch = 128;
console.log(`multimodal benchmark — ${new Date().toISOString()} — ${info.backend}, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}${quick ? ' (quick)' : ''}`);

const train = loadFashionMnist({ split: 'train', limit: trainSize });
const test = loadFashionMnist({ split: 'test', limit: testSize });
const rng = createRng(seed);

// ---- CLIP on image ↔ attribute captions, zero-shot on held-out classes ----
const seenTrain = subsetOf(train.images, train.labels, SEEN);
const seenInstance = instanceTokens(seenTrain.images);
const heldTest = subsetOf(test.images, test.labels, HELD_OUT);
const seenTest = subsetOf(test.images, test.labels, SEEN);

const makeClip = () =>
  new Clip(
    convEncoder({ inputShape: [28, 28, 1], seed }),
    tokenEncoder({ vocabSize: VOCAB, sequenceLength: SEQ, embeddingDim: 32, hiddenDims: [64], outputDim: 64, seed: seed + 1 }),
    { embedDim: 64, learningRate: 1e-3, seed },
  );
const disposeClip = (clip: Clip) => {
  clip.dispose();
  (clip.encoder as unknown as { dispose(): void }).dispose();
  (clip.textEncoder as unknown as { dispose(): void }).dispose();
};

const clipResult = (clip: Clip) => ({
  heldOutZeroShot: zeroShotAccuracy(clip, heldTest.images, heldTest.labels, HELD_OUT, false),
  heldOutZeroShotEnsembled: zeroShotAccuracy(clip, heldTest.images, heldTest.labels, HELD_OUT, true),
  seenZeroShot: zeroShotAccuracy(clip, seenTest.images, seenTest.labels, SEEN, true),
});

const untrainedClip = makeClip();
const clipControl = clipResult(untrainedClip);
disposeClip(untrainedClip);

const clip = makeClip();
const clipStart = performance.now();
let clipFirst = NaN;
let clipLast = NaN;
for (let s = 0; s < clipSteps; s++) {
  const ids = Array.from({ length: batch }, () => rng.int(0, seenTrain.labels.length));
  const x = tf.tidy(() => tf.gather(seenTrain.images, tf.tensor1d(ids, 'int32'))) as tf.Tensor4D;
  const text = captions(Int32Array.from(ids, (i) => seenTrain.labels[i]!), ids.map((i) => seenInstance[i]!), rng);
  const loss = clip.step(x, text);
  if (s === 0) clipFirst = loss;
  clipLast = loss;
  tf.dispose([x, text]);
  if ((s + 1) % 50 === 0) console.log(`  clip step ${s + 1}/${clipSteps}: loss ${loss.toFixed(3)}, logit scale ${clip.logitScale.toFixed(1)}`);
}
const clipSeconds = (performance.now() - clipStart) / 1000;
const clipTrained = clipResult(clip);
const logitScale = clip.logitScale;
disposeClip(clip);

// ---- Cross-modal correspondence on image ↔ line-scan reading ----
const trainReadings = sensorReadings(train.images, rng);
const testReadings = sensorReadings(test.images, rng);
const testLabels = test.labels.dataSync() as Int32Array;
const makeAvc = () =>
  new CrossModalCorrespondence(
    convEncoder({ inputShape: [28, 28, 1], seed }),
    mlpEncoder({ inputShape: [56], units: [128, 128], seed: seed + 2 }),
    { hiddenDim: 128, learningRate: 1e-3, seed },
  );
const disposeAvc = (task: CrossModalCorrespondence) => {
  task.dispose();
  (task.encoder as unknown as { dispose(): void }).dispose();
  (task.otherEncoder as unknown as { dispose(): void }).dispose();
};
const avcResult = (task: CrossModalCorrespondence) => ({
  heldOutAccuracy: correspondenceAccuracy(task, test.images, testReadings, testLabels, createRng(seed + 10), false),
  heldOutAccuracyHardNegatives: correspondenceAccuracy(task, test.images, testReadings, testLabels, createRng(seed + 11), true),
});
const untrainedAvc = makeAvc();
const avcControl = avcResult(untrainedAvc);
disposeAvc(untrainedAvc);

const avc = makeAvc();
const avcStart = performance.now();
let avcFirst = NaN;
let avcLast = NaN;
for (let s = 0; s < avcSteps; s++) {
  const ids = tf.tensor1d(Array.from({ length: batch }, () => rng.int(0, trainSize)), 'int32');
  const [x, r] = tf.tidy(() => [tf.gather(train.images, ids) as tf.Tensor4D, tf.gather(trainReadings, ids)]);
  const loss = avc.step(x!, r!);
  if (s === 0) avcFirst = loss;
  avcLast = loss;
  tf.dispose([ids, x!, r!]);
  if ((s + 1) % 50 === 0) console.log(`  correspondence step ${s + 1}/${avcSteps}: loss ${loss.toFixed(3)}`);
}
const avcSeconds = (performance.now() - avcStart) / 1000;
const avcTrained = avcResult(avc);
disposeAvc(avc);

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const results = {
  quick,
  seed,
  backend: info.backend,
  totalSeconds: (performance.now() - start) / 1000,
  clip: {
    pairing: 'Fashion-MNIST image ↔ caption of visual-attribute tokens (from the class) + brightness and size tokens (measured on the image)',
    heldOutClasses: HELD_OUT.map((c) => FASHION_MNIST_CLASSES[c]),
    seenClasses: SEEN.map((c) => FASHION_MNIST_CLASSES[c]),
    classAttributes: Object.fromEntries(Object.entries(CLASS_ATTRIBUTES).map(([c, a]) => [FASHION_MNIST_CLASSES[Number(c)], a])),
    trainImages: seenTrain.labels.length,
    heldOutTestImages: heldTest.labels.length,
    steps: clipSteps,
    batchSize: batch,
    seconds: clipSeconds,
    loss: { first: clipFirst, last: clipLast },
    finalLogitScale: logitScale,
    chance: { heldOut: 1 / HELD_OUT.length, seen: 1 / SEEN.length },
    trained: clipTrained,
    untrained: clipControl,
  },
  correspondence: {
    pairing: 'Fashion-MNIST image ↔ its line-scan reading (row and column intensity profiles × gain U(0.8, 1.2) + N(0, 0.03²) noise)',
    trainImages: trainSize,
    heldOutTestImages: testSize,
    steps: avcSteps,
    batchSize: batch,
    seconds: avcSeconds,
    loss: { first: avcFirst, last: avcLast },
    chance: 0.5,
    trained: avcTrained,
    untrained: avcControl,
  },
};
const path = writeResults('multimodal', results);
const md = [
  '# Multimodal pretext tasks',
  '',
  `Generated by \`npm run bench:multimodal\`${quick ? ' (--quick)' : ''} on ${new Date().toISOString().slice(0, 10)}, ${info.backend} backend, ${cpus().length} cores; ${results.totalSeconds.toFixed(0)} s in all.`,
  '',
  '## CLIP: image ↔ attribute caption, zero-shot on held-out classes',
  '',
  `Pairs: ${results.clip.pairing}. Trained on ${results.clip.trainImages} images of the seen classes (${results.clip.seenClasses.join(', ')}) for ${clipSteps} steps of ${batch}; the held-out classes (${results.clip.heldOutClasses.join(', ')}) never appear in training and are described at test time only by their attributes.`,
  '',
  '| measure | chance | untrained | CLIP |',
  '|---|---|---|---|',
  `| zero-shot, held-out classes (${HELD_OUT.length}-way, ${heldTest.labels.length} test images), one prompt | ${pct(1 / HELD_OUT.length)} | ${pct(clipControl.heldOutZeroShot)} | ${pct(clipTrained.heldOutZeroShot)} |`,
  `| zero-shot, held-out classes, prompt ensembling (6 prompts per class) | ${pct(1 / HELD_OUT.length)} | ${pct(clipControl.heldOutZeroShotEnsembled)} | ${pct(clipTrained.heldOutZeroShotEnsembled)} |`,
  `| zero-shot, seen classes (${SEEN.length}-way, test split), ensembled | ${pct(1 / SEEN.length)} | ${pct(clipControl.seenZeroShot)} | ${pct(clipTrained.seenZeroShot)} |`,
  '',
  `Loss ${clipFirst.toFixed(3)} → ${clipLast.toFixed(3)}; learned logit scale ${logitScale.toFixed(1)} (clamped at 100); ${clipSeconds.toFixed(0)} s of training.`,
  '',
  '## Cross-modal correspondence: image ↔ line-scan reading',
  '',
  `Pairs: ${results.correspondence.pairing}. Trained on ${trainSize} training images for ${avcSteps} steps of ${batch} (half positives, half shuffled negatives); measured on ${testSize} test images never seen, one positive and one negative each.`,
  '',
  '| measure | chance | untrained | trained |',
  '|---|---|---|---|',
  `| correspondence accuracy, random negatives | 50.0 % | ${pct(avcControl.heldOutAccuracy)} | ${pct(avcTrained.heldOutAccuracy)} |`,
  `| correspondence accuracy, same-class negatives | 50.0 % | ${pct(avcControl.heldOutAccuracyHardNegatives)} | ${pct(avcTrained.heldOutAccuracyHardNegatives)} |`,
  '',
  `Loss ${avcFirst.toFixed(3)} → ${avcLast.toFixed(3)}; ${avcSeconds.toFixed(0)} s of training.`,
  '',
].join('\n');
writeFileSync(path.replace(/\.json$/, '.md'), md);
console.log(md);
console.log(`wrote ${path} and multimodal.md; tensors alive ${tf.memory().numTensors}`);
