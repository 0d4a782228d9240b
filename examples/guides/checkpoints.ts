/**
 * The code of docs/checkpoints.md, runnable:
 * `npx tsx examples/guides/checkpoints.ts [--quick] [--backend=cpu]`.
 *
 * Each `#region` is one snippet of the guide, shown there as written here;
 * the data (the 8×8 digits), the run folder and the checks that the resumed
 * run matches the uninterrupted one are set up outside them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadDigits, useBackend } from 'selfsup';
import { BACKEND, QUICK } from '../lib/cli.js';

await useBackend(BACKEND);
const { images: digits, labels } = loadDigits(); // 1,797 images of 8×8×1
labels.dispose();
const runDir = mkdtempSync(join(tmpdir(), 'selfsup-guide-'));
const batchSize = 32;
const steps = QUICK ? 6 : 200;
/** Frees a task and its encoder (tasks never dispose the encoder you give them). */
const free = (t: { dispose(): void; encoder: unknown }) => {
  t.dispose();
  (t.encoder as { dispose(): void }).dispose();
};
/** Batch `i` of a fixed order (the guide's training loop below streams shuffled batches instead). */
const batchAt = (i: number) => tf.slice(digits, (i * batchSize) % (digits.shape[0] - batchSize), batchSize) as tf.Tensor4D;

// #region save
import { SimCLR, mlpEncoder, saveCheckpoint } from 'selfsup';

const dir = join(runDir, 'checkpoint');
const makeTask = () => new SimCLR(mlpEncoder({ inputShape: [8, 8, 1], units: [64], seed: 0 }), { seed: 1 });

const task = makeTask();
for (let i = 0; i < steps / 2; i++) tf.tidy(() => task.step(batchAt(i)));
const saved = await saveCheckpoint(task, dir, { extra: { note: 'halfway' } });
console.log(`saved step ${saved.step} to ${saved.path} (${(saved.bytes / 1024).toFixed(0)} KiB)`);
// #endregion save

const uninterrupted: number[] = [];
for (let i = steps / 2; i < steps; i++) uninterrupted.push(tf.tidy(() => task.step(batchAt(i))));

// #region load
import { loadCheckpoint } from 'selfsup';

const resumed = makeTask(); // the same method, options and encoder architecture
const { step, extra } = await loadCheckpoint(resumed, dir);
const losses: number[] = [];
for (let i = step; i < steps; i++) losses.push(tf.tidy(() => resumed.step(batchAt(i))));
console.log(extra, losses.every((loss, k) => loss === uninterrupted[k])); // { note: 'halfway' } true
// #endregion load

if (!losses.every((loss, k) => loss === uninterrupted[k])) throw new Error('the resumed run differs from the uninterrupted one');
free(task);
free(resumed);

// #region train-loop
import { findCheckpoint, tensorDataset, trainLoop, type BatchStreamState } from 'selfsup';

const loopDir = join(runDir, 'loop');
const run = makeTask();
// Seeded, shuffled batches; the stream's position is part of the state too.
const stream = tensorDataset(digits).batches({ batchSize, seed: 42, epochs: Infinity });
let startStep = 0;
if (findCheckpoint(loopDir) !== null) {
  const restored = await loadCheckpoint(run, loopDir);
  stream.restore((restored.extra as { data: BatchStreamState }).data);
  startStep = restored.step;
}
const result = await trainLoop({
  steps,
  startStep,
  batches: stream,
  step: (_, batch) => run.step(batch!.images),
  checkpoint: {
    every: 50, // and at the end
    onSignal: true, // Ctrl-C or SIGTERM: finish the step, save, return
    save: async () => void (await saveCheckpoint(run, loopDir, { extra: { data: stream.state() } })),
  },
});
console.log(result.stopReason, result.checkpoints); // completed [50, 100, 150, 200]
// #endregion train-loop

free(run);

// #region in-memory
import { decodeCheckpoint, encodeCheckpoint } from 'selfsup';

const source = makeTask();
const data = await encodeCheckpoint(source); // { manifest, weights: Uint8Array }
const stored = structuredClone(data); // what IndexedDB (or postMessage to a worker) keeps
const copy = makeTask();
decodeCheckpoint(copy, stored);
// #endregion in-memory

console.log(`in memory: ${stored.manifest.method}, ${stored.weights.byteLength} bytes of weights`);
free(source);
free(copy);

// #region new-method
import { BasePretextTask, MemoryBank, encodeImages, type ImageEncoder } from 'selfsup';

/** A toy method with a queue and a counter. */
class QueueMatching extends BasePretextTask {
  readonly name = 'QueueMatching';
  readonly queue = new MemoryBank({ size: 64, dim: 64, seed: 0 }); // found by the protocol: saved
  private imagesSeen = 0; // a plain counter: must be declared

  constructor(encoder: ImageEncoder) {
    super(encoder, undefined, 1e-3);
  }

  protected runStep(images: tf.Tensor4D): number {
    const loss = this.minimize(
      () => tf.tidy(() => tf.mean(tf.matMul(encodeImages(this.encoder, images, true), this.queue.read(), false, true)) as tf.Scalar),
      this.variablesOf(),
    );
    tf.tidy(() => this.queue.enqueue(encodeImages(this.encoder, images, false)));
    this.imagesSeen += images.shape[0];
    return loss;
  }

  protected override stateFields(): string[] {
    return [...super.stateFields(), 'imagesSeen'];
  }

  override dispose(): void {
    super.dispose();
    this.queue.dispose();
  }
}
// #endregion new-method

const encoder = mlpEncoder({ inputShape: [8, 8, 1], units: [64], seed: 0 });
const toy = new QueueMatching(encoder);
tf.tidy(() => toy.step(batchAt(0)));
const toyState = await encodeCheckpoint(toy);
console.log(`QueueMatching state: ${Object.keys(toyState.manifest.pieces).join(', ')}`);
toy.dispose();
encoder.dispose();
digits.dispose();
rmSync(runDir, { recursive: true, force: true });
console.log(`tensors left: ${tf.memory().numTensors}`);
