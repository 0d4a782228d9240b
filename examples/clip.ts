/**
 * CLIP on Fashion-MNIST images paired with attribute captions, with
 * zero-shot classification of classes never seen in training:
 * `npx tsx examples/clip.ts [--quick] [--backend=cpu]`.
 *
 * The captions are token sequences of visual attributes ("upper-body",
 * "long-sleeves", …) plus brightness and size tokens measured on the image.
 * Pullovers, dresses and sneakers are held out; at test time each is
 * described by its attributes only and the image is given the nearest description.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Clip,
  convEncoder,
  createRng,
  FASHION_MNIST_CLASSES,
  ProgressBar,
  tokenEncoder,
  useBackend,
  zeroShotClassifier,
} from 'selfsup';
import { BACKEND, QUICK } from './lib/cli.js';
import { captions, CLASS_ATTRIBUTES, classPrompts, HELD_OUT, instanceTokens, SEEN, SEQ, VOCAB } from './lib/paired-fashion.js';
import { fashionMnist, percent } from './lib/pretext.js';

await useBackend(BACKEND);
const { train, test, source } = fashionMnist(QUICK);
const y = train.labels.dataSync() as Int32Array;
const seen = Array.from(y.keys()).filter((i) => SEEN.includes(y[i]!)); // held-out classes never enter training
const inst = instanceTokens(train.images);
const rng = createRng(0);

const images = convEncoder({ inputShape: [28, 28, 1], channels: QUICK ? [8, 16, 16, 32] : [32, 64, 128, 128], seed: 0 });
const texts = tokenEncoder({ vocabSize: VOCAB, sequenceLength: SEQ, embeddingDim: 32, hiddenDims: [64], outputDim: 64, seed: 1 });
const clip = new Clip(images, texts, { embedDim: 64, learningRate: 1e-3, seed: 2 });

const steps = QUICK ? 5 : 300;
const bar = new ProgressBar({ steps, label: 'CLIP', batchSize: QUICK ? 32 : 128 });
for (let s = 0; s < steps; s++) {
  const ids = Array.from({ length: QUICK ? 32 : 128 }, () => seen[rng.int(0, seen.length)]!);
  const batch = tf.tidy(() => tf.gather(train.images, tf.tensor1d(ids, 'int32'))) as tf.Tensor4D;
  const caption = captions(Int32Array.from(ids, (i) => y[i]!), ids.map((i) => inst[i]!), rng);
  const loss = clip.step(batch, caption);
  tf.dispose([batch, caption]);
  bar.record(loss, { extras: { 'logit scale': clip.logitScale } });
}
bar.done();

// Zero-shot on the held-out classes: embed each class's prompts, average them (prompt ensembling), classify.
for (const c of HELD_OUT) console.log(`  ${FASHION_MNIST_CLASSES[c]}: ${CLASS_ATTRIBUTES[c]!.join(', ')}`);
const prompts = HELD_OUT.map((c) => classPrompts(c, true));
const tokens = tf.tensor2d(prompts.flat(), [HELD_OUT.length * prompts[0]!.length, SEQ], 'int32');
const classEmbeddings = tf.reshape(clip.encodeText(tokens), [HELD_OUT.length, prompts[0]!.length, -1]) as tf.Tensor3D;
const classifier = zeroShotClassifier(classEmbeddings, { promptEnsembling: true });
const ty = test.labels.dataSync() as Int32Array;
const held = Array.from(ty.keys()).filter((i) => HELD_OUT.includes(ty[i]!));
const heldImages = tf.tidy(() => tf.gather(test.images, tf.tensor1d(held, 'int32'))) as tf.Tensor4D;
const predicted = classifier.predict(clip.encodeImage(heldImages)).dataSync();
const accuracy = held.filter((i, k) => HELD_OUT[predicted[k]!] === ty[i]).length / held.length;
console.log(`${source}: zero-shot accuracy on ${held.length} images of the 3 held-out classes ${percent(accuracy)} (chance 33.3 %)`);

classifier.dispose();
tf.dispose([tokens, classEmbeddings, heldImages]);
clip.dispose();
images.dispose();
texts.dispose();
