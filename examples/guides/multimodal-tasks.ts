/**
 * The code of docs/multimodal-tasks.md, runnable:
 * `npx tsx examples/guides/multimodal-tasks.ts [--quick] [--backend=cpu]`.
 *
 * Each `#region` is one snippet of the guide, shown there as written here;
 * the paired data (Fashion-MNIST images with attribute captions and
 * line-scan readings, from examples/lib/paired-fashion.ts) is set up outside
 * them. The full runs are examples/clip.ts and examples/cross-modal-correspondence.ts.
 */
import { createRng, loadFashionMnistSubset, useBackend } from 'selfsup';
import { BACKEND, QUICK } from '../lib/cli.js';
import { captions as captionsOf, classPrompts, HELD_OUT, instanceTokens, SEQ, sensorReadings, VOCAB } from '../lib/paired-fashion.js';

await useBackend(BACKEND);
const rng = createRng(0);
const train = loadFashionMnistSubset({ limit: QUICK ? 64 : 256 });
const test = loadFashionMnistSubset({ split: 'test' });
const images = train.images;
const vocabSize = VOCAB;
const captions = captionsOf(train.labels.dataSync() as Int32Array, instanceTokens(images), rng); // int32 token ids [B, 6]
// Zero-shot on the three held-out classes (pullover, dress, sneaker), six prompts each.
const [numClasses, promptsPerClass] = [HELD_OUT.length, 6];
const promptTokens = tf.tensor2d(HELD_OUT.flatMap((c) => classPrompts(c, true)).flat(), [numClasses * promptsPerClass, SEQ], 'int32');
const testImages = test.images;

// #region clip
import * as tf from '@tensorflow/tfjs-core';
import { Clip, convEncoder, tokenEncoder, zeroShotClassifier } from 'selfsup';

const imageEncoder = convEncoder({ inputShape: [28, 28, 1] });
const textEncoder = tokenEncoder({ vocabSize, sequenceLength: 6, outputDim: 64 });   // any single-output tfjs-layers model works
const clip = new Clip(imageEncoder, textEncoder, { embedDim: 64 });
clip.step(images, captions);        // row i of captions describes image i (int32 token ids [B, T])

// Zero-shot: P prompts per class → [C, P, D] → average (prompt ensembling) → classifier.
const classEmbeddings = tf.tidy(() => tf.reshape(clip.encodeText(promptTokens), [numClasses, promptsPerClass, -1]) as tf.Tensor3D);
const classifier = zeroShotClassifier(classEmbeddings, { promptEnsembling: true });
const predicted = tf.tidy(() => classifier.predict(clip.encodeImage(testImages)));   // int32 [N]
// #endregion clip

console.log(`CLIP after one step: logit scale ${clip.logitScale.toFixed(2)}, zero-shot predictions ${predicted.shape.join('×')} over ${classifier.numClasses} classes`);
tf.dispose([classEmbeddings, predicted]);
classifier.dispose();
clip.dispose();
imageEncoder.dispose();
textEncoder.dispose();

const readings = sensorReadings(images, rng); // [B, 56]: row and column profiles of each garment, with gain and noise
const otherReadings = tf.reverse(readings, 0); // another garment's reading for each image

// #region correspondence
import { CrossModalCorrespondence, mlpEncoder } from 'selfsup';

const vision = convEncoder({ inputShape: [28, 28, 1] });                 // vision sub-network
const sensor = mlpEncoder({ inputShape: [56], units: [128, 128] });      // the other modality's sub-network
const task = new CrossModalCorrespondence(vision, sensor, { hiddenDim: 128, positiveFraction: 0.5 });
task.step(images, readings);                  // aligned pairs: row i belongs with image i
const p = task.predict(images, otherReadings); // P(corresponds), [B]
// #endregion correspondence

console.log(`correspondence after one step: mean P(corresponds) for mismatched pairs ${tf.tidy(() => tf.mean(p).dataSync()[0]!).toFixed(3)}`);
tf.dispose([p, readings, otherReadings, captions, promptTokens, train.images, train.labels, test.images, test.labels]);
task.dispose();
vision.dispose();
sensor.dispose();
console.log(`tensors left: ${tf.memory().numTensors}`);
