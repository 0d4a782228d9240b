/**
 * Exact continuation for every method and pretext task, in-process: N steps,
 * a checkpoint through bytes (encode → decode) into a task built with
 * another seed, M more steps — the same losses and the same state, bit for
 * bit, as N + M uninterrupted steps: every task on wasm, a representative set
 * on cpu. (child-process.test.ts does the same
 * across processes, through files.)
 */
import * as tf from '@tensorflow/tfjs-core';
import * as selfsup from 'selfsup';
import * as tasks from 'selfsup/tasks';
import { BasePretextTask, decodeCheckpoint, encodeCheckpoint, useBackend } from 'selfsup';
import { beforeAll, describe, expect, it } from 'vitest';
import { CASES, stateFingerprint, stepRange, type CheckpointCase } from './cases.js';

const N = 2;
const M = 3;

/** N steps, a checkpoint through bytes into a task built with another seed, M more steps: as N + M uninterrupted steps. */
async function expectExactContinuation(c: CheckpointCase): Promise<void> {
  const start = tf.memory().numTensors;
  const a = c.make(1);
  stepRange(a, 0, N);
  const saved = await encodeCheckpoint(a.task, { extra: { case: c.name } });
  const expected = stepRange(a, N, N + M);
  const fingerprint = stateFingerprint(a.task);

  const b = c.make(7); // another seed: everything must come from the checkpoint
  const before = tf.memory().numTensors;
  const { step, extra } = decodeCheckpoint(b.task, saved);
  expect(step).toBe(N);
  expect(extra).toEqual({ case: c.name });
  expect(b.task.steps).toBe(N);
  expect(tf.memory().numTensors - before).toBeLessThanOrEqual(saved.manifest.tensors.length); // new optimizer slots at most
  const resumed = stepRange(b, N, N + M);
  expect(resumed.every((l, i) => Object.is(l, expected[i])), `${resumed} vs ${expected}`).toBe(true);
  expect(stateFingerprint(b.task)).toEqual(fingerprint);
  a.dispose();
  b.dispose();
  expect(tf.memory().numTensors).toBe(start);
}

it('every task class exported from selfsup/tasks has a case', () => {
  // Found from the exports, so a task added later fails here, by name, until cases.ts has it
  // (a new abstract base class goes in `abstract`).
  const abstract = new Set(['BasePretextTask', 'JointEmbeddingTask']);
  const classes = Object.entries(tasks)
    .filter(([name, v]) => typeof v === 'function' && v.prototype instanceof BasePretextTask && !abstract.has(name))
    .map(([name]) => name);
  const covered = new Set(CASES.map((c) => c.name.split(' ')[0]));
  expect(classes.length).toBeGreaterThanOrEqual(28);
  expect(
    classes.filter((name) => !covered.has(name)),
    'task classes without a case in tests/checkpoint/cases.ts',
  ).toEqual([]);
  // The root entry point exports the same classes.
  expect(classes.filter((name) => (selfsup as Record<string, unknown>)[name] !== (tasks as Record<string, unknown>)[name])).toEqual([]);
});

describe('checkpoints continue exactly, every task [wasm]', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  for (const c of CASES) it(c.name, () => expectExactContinuation(c));
});

describe('checkpoints continue exactly, a representative set [cpu]', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });
  for (const name of ['MoCoV2', 'DINO', 'SwAV', 'NNCLR', 'MMCR', 'TiCo', 'DeepCluster', 'ExemplarCnn non-parametric', 'Clip', 'CrossModalCorrespondence']) {
    it(name, () => expectExactContinuation(CASES.find((c) => c.name === name)!));
  }
});
