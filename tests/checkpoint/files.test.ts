/**
 * The checkpoint folder and its failure modes: layout, manifest, `keep`,
 * progress; a missing, truncated, corrupted or mismatched checkpoint is a
 * CheckpointError naming what differs and leaves the task untouched.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  BYOL,
  CheckpointError,
  encodeCheckpoint,
  decodeCheckpoint,
  findCheckpoint,
  InvalidArgumentError,
  loadCheckpoint,
  mlpEncoder,
  readCheckpointManifest,
  saveCheckpoint,
  SimCLR,
  useBackend,
  type CheckpointWriteProgress,
  type SimCLROptions,
} from 'selfsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateFingerprint } from './cases.js';

let work: string;
let counter = 0;
const fresh = () => join(work, `run-${counter++}`);
const encoder = (units = 16) => mlpEncoder({ inputShape: [8, 8, 1], units: [units], seed: 0 });
const images = (i: number) => tf.randomUniform([8, 8, 8, 1], 0, 1, 'float32', i) as tf.Tensor4D;
const simclr = (options: SimCLROptions = {}, units = 16) => new SimCLR(encoder(units), { projectionDim: 8, seed: 1, ...options });

function stepped(task: { step(x: tf.Tensor4D): number }, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = images(i);
    task.step(x);
    x.dispose();
  }
}

function dispose(task: SimCLR | BYOL): void {
  task.dispose();
  (task.encoder as unknown as { dispose(): void }).dispose();
}

beforeAll(async () => {
  await useBackend('cpu');
  work = mkdtempSync(join(tmpdir(), 'selfsup-ckpt-files-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('saveCheckpoint / loadCheckpoint', () => {
  it('writes manifest.json + weights.bin under step-N with a latest pointer; the manifest says what and who', async () => {
    const task = simclr();
    stepped(task, 3);
    const dir = fresh();
    const progress: CheckpointWriteProgress[] = [];
    const before = tf.memory().numTensors;
    const saved = await saveCheckpoint(task, dir, { extra: { dataset: { epoch: 1, index: [3, 1] } }, onWrite: (p) => void progress.push(p) });
    expect(tf.memory().numTensors).toBe(before);
    expect(saved.path).toBe(join(dir, 'step-00000003'));
    expect(readdirSync(dir).sort()).toEqual(['latest', 'step-00000003']);
    expect(readFileSync(join(dir, 'latest'), 'utf8')).toBe('step-00000003\n');
    expect(readdirSync(saved.path).sort()).toEqual(['manifest.json', 'weights.bin']);
    expect(progress.map((p) => p.file)).toEqual(['weights.bin', 'manifest.json', 'latest']);
    expect(findCheckpoint(dir)).toBe(saved.path);

    const m = readCheckpointManifest(dir);
    expect(m).toMatchObject({
      format: 'selfsup-checkpoint',
      formatVersion: 1,
      selfsupVersion: '0.1.0',
      tfjsVersion: tf.version_core,
      backend: 'cpu',
      method: 'SimCLR',
      step: 3,
      extra: { dataset: { epoch: 1, index: [3, 1] } },
    });
    expect(m.config).toMatchObject({ name: 'SimCLR', temperature: 0.5, imageShape: [8, 8, 1], featureDim: 16 });
    expect(Object.keys(m.pieces)).toEqual(['encoder', 'optimizer', 'rng', 'projector', '@fields']);
    expect(m.pieces['@fields']).toEqual({ kind: 'fields', values: { stepCount: 3, skippedCount: 0 } });
    expect(m.pieces.optimizer).toMatchObject({ kind: 'optimizer', className: 'Adam', iterations: 3, learningRate: 0.001 });
    const names = m.tensors.map((t) => t.name);
    expect(names).toContain('encoder/0');
    expect(names).toContain('optimizer/accBeta1');
    expect(names).toContain('optimizer/accumulatedSecondMoment/0');
    expect(m.tensors.find((t) => t.name === 'encoder/0')).toMatchObject({ dtype: 'float32', shape: [64, 16], byteLength: 64 * 16 * 4 });
    expect(readFileSync(join(saved.path, 'weights.bin')).byteLength).toBe(m.weightsByteLength);

    const resumed = simclr({ seed: 9 });
    const loaded = await loadCheckpoint(resumed, dir);
    expect([loaded.step, loaded.path, loaded.extra]).toEqual([3, saved.path, { dataset: { epoch: 1, index: [3, 1] } }]);
    expect(stateFingerprint(resumed)).toEqual(stateFingerprint(task));
    dispose(task);
    dispose(resumed);
  });

  it('replaces the previous checkpoint only once the new one is complete; keeps the newest `keep`; saving a step twice is fine', async () => {
    const task = simclr();
    const dir = fresh();
    await saveCheckpoint(task, dir);
    stepped(task, 1);
    await saveCheckpoint(task, dir, { keep: 2 });
    expect(readdirSync(dir).sort()).toEqual(['latest', 'step-00000000', 'step-00000001']);
    await saveCheckpoint(task, dir, { keep: 2 }); // the same step again: a new folder, then the older ones go
    expect(readdirSync(dir).sort()).toEqual(['latest', 'step-00000001', 'step-00000001.1']);
    expect(findCheckpoint(dir)).toBe(join(dir, 'step-00000001.1'));
    stepped(task, 1);
    await saveCheckpoint(task, dir);
    expect(readdirSync(dir).sort()).toEqual(['latest', 'step-00000002']);
    dispose(task);
  });

  it('checks its arguments', async () => {
    const task = simclr();
    const dir = fresh();
    await expect(saveCheckpoint(task, '')).rejects.toThrow('saveCheckpoint: dir must be a folder path (a non-empty string), got ""');
    await expect(saveCheckpoint(task, dir, { keep: 0 })).rejects.toThrow('saveCheckpoint: options.keep must be an integer ≥ 1, got 0');
    await expect(saveCheckpoint(task, dir, { kep: 2 } as never)).rejects.toThrow('saveCheckpoint: options.kep');
    await expect(saveCheckpoint(task, dir, { extra: { f: () => 1 } as never })).rejects.toThrow(
      'saveCheckpoint: options.extra.f must be JSON data (plain objects, arrays, finite numbers, strings, booleans, null), got a function',
    );
    await expect(saveCheckpoint(task, dir, { extra: { x: [1, NaN] } })).rejects.toThrow('saveCheckpoint: options.extra.x[1] must be JSON data');
    await expect(saveCheckpoint({} as never, dir)).rejects.toThrow(InvalidArgumentError);
    writeFileSync(join(work, 'a-file'), 'x');
    await expect(saveCheckpoint(task, join(work, 'a-file'))).rejects.toThrow('saveCheckpoint: cannot create the folder');
    await expect(loadCheckpoint(null as never, dir)).rejects.toThrow('loadCheckpoint: task must be a selfsup method or pretext task');
    expect(findCheckpoint(join(work, 'nothing-here'))).toBeNull();
    dispose(task);
  });
});

describe('a bad checkpoint is a CheckpointError and changes nothing', () => {
  /** Saves a 2-step SimCLR, damages it with `damage(dir, checkpointPath)`, and expects loading into `target` to fail with `message`. */
  async function expectRefused(
    damage: (dir: string, path: string) => void,
    message: string | RegExp,
    target: () => SimCLR | BYOL = () => simclr({ seed: 4 }),
  ): Promise<void> {
    const source = simclr();
    stepped(source, 2);
    const dir = fresh();
    const { path } = await saveCheckpoint(source, dir);
    damage(dir, path);
    const task = target();
    stepped(task, 1);
    const before = stateFingerprint(task);
    const tensors = tf.memory().numTensors;
    const error = await loadCheckpoint(task, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toMatch(message);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(stateFingerprint(task)).toEqual(before);
    dispose(source);
    dispose(task);
  }

  it('no checkpoint, a bad pointer, a missing folder or file', async () => {
    await expect(loadCheckpoint(simclr(), fresh())).rejects.toThrow(/^loadCheckpoint: .* holds no checkpoint \(no 'latest' file\)$/);
    await expectRefused((dir) => writeFileSync(join(dir, 'latest'), '../../etc'), /latest holds "\.\.\/\.\.\/etc", not a checkpoint name/);
    await expectRefused((dir) => writeFileSync(join(dir, 'latest'), 'step-00000009\n'), /latest names step-00000009, which is missing/);
    await expectRefused((_, path) => rmSync(join(path, 'weights.bin')), /step-00000002: weights\.bin is missing/);
    await expectRefused((_, path) => rmSync(join(path, 'manifest.json')), /step-00000002: manifest\.json is missing/);
  });

  it('a truncated or corrupted manifest or weights file', async () => {
    await expectRefused((_, path) => truncateSync(join(path, 'manifest.json'), 100), /manifest\.json is not valid JSON \(truncated or corrupted\)/);
    await expectRefused((_, path) => {
      const file = join(path, 'manifest.json');
      writeFileSync(file, readFileSync(file, 'utf8').replace('"iterations": 2', '"iterations": 3'));
    }, /the manifest checksum does not match its content/);
    await expectRefused((_, path) => truncateSync(join(path, 'weights.bin'), 1000), /the weights are 1000 bytes, the manifest expects \d+ \(truncated/);
    await expectRefused((_, path) => {
      const file = join(path, 'weights.bin');
      const bytes = readFileSync(file);
      bytes[10] = bytes[10]! ^ 0x40;
      writeFileSync(file, bytes);
    }, /the checksum of tensor encoder\/0 does not match/);
    await expectRefused((_, path) => {
      const file = join(path, 'manifest.json');
      const m = JSON.parse(readFileSync(file, 'utf8')) as { formatVersion: number; checksum: number };
      m.formatVersion = 2;
      writeFileSync(file, JSON.stringify(m));
    }, /format version 2 was written by a newer selfsup/);
  });

  it('another method, other shapes, other options, another optimizer', async () => {
    await expectRefused(() => undefined, /: the state is SimCLR's, this task is BYOL$/, () => new BYOL(encoder(), { projectionDim: 8, seed: 1 }));
    await expectRefused(() => undefined, /the options differ: temperature is 0\.5 in the checkpoint and 0\.2 in this task/, () => simclr({ temperature: 0.2 }));
    await expectRefused(() => undefined, /the options differ: featureDim is 16 in the checkpoint and 12 in this task/, () => simclr({}, 12));
    await expectRefused(() => undefined, /projector\/5 has shape \[16, 8\] in the checkpoint and \[16, 4\] in this task/, () => simclr({ projectionDim: 4 }));
    await expectRefused(() => undefined, /projector has 7 variables in the checkpoint and 4 in this task \(another architecture\)/, () => simclr({ projectorBatchNorm: false }));
    await expectRefused(() => undefined, /optimizer is Adam in the checkpoint and SGD in this task/, () => simclr({ optimizer: tf.train.sgd(0.1) }));
    await expectRefused(() => undefined, /optimizer config\.beta1 is 0\.9 in the checkpoint and 0\.5 in this task/, () =>
      simclr({ optimizer: tf.train.adam(0.001, 0.5) }),
    );
  });
});

describe('encodeCheckpoint / decodeCheckpoint (in memory, for browsers)', () => {
  it('round-trips through structured clone, and checks what it is given', async () => {
    const task = simclr();
    stepped(task, 2);
    const data = structuredClone(await encodeCheckpoint(task, { extra: [1, 'two'] }));
    const copy = simclr({ seed: 3 });
    expect(decodeCheckpoint(copy, data)).toMatchObject({ step: 2, extra: [1, 'two'] });
    expect(stateFingerprint(copy)).toEqual(stateFingerprint(task));
    expect(() => decodeCheckpoint(copy, { manifest: data.manifest } as never)).toThrow(
      'decodeCheckpoint: data must be { manifest, weights: Uint8Array } from encodeCheckpoint',
    );
    expect(() => decodeCheckpoint(copy, { manifest: { format: 'x' }, weights: new Uint8Array(0) } as never)).toThrow(
      'decodeCheckpoint: checkpoint: this is not a selfsup checkpoint manifest',
    );
    await expect(encodeCheckpoint(task, { extar: 1 } as never)).rejects.toThrow('encodeCheckpoint: options.extar');
    dispose(task);
    dispose(copy);
  });

  it('a checkpoint written on wasm loads on cpu with the same values, and training goes on there', async () => {
    await useBackend('wasm');
    const task = simclr();
    stepped(task, 2);
    const data = await encodeCheckpoint(task);
    const fingerprint = stateFingerprint(task);
    expect(data.manifest.backend).toBe('wasm');
    dispose(task);
    await useBackend('cpu');
    const copy = simclr({ seed: 3 });
    decodeCheckpoint(copy, data);
    expect(stateFingerprint(copy)).toEqual(fingerprint);
    const x = images(5);
    expect(Number.isFinite(copy.step(x))).toBe(true);
    x.dispose();
    dispose(copy);
  });
});
