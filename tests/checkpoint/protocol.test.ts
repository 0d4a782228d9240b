/**
 * The state protocol as a new method's author meets it: state found from the
 * task's fields, plain counters declared in stateFields(), a forgotten
 * counter caught on load, a trained variable the protocol cannot see caught
 * on save, and all-or-nothing restores (rollback when an assignment fails).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  BasePretextTask,
  CheckpointError,
  createRng,
  disposeTaskState,
  encodeImages,
  InvalidArgumentError,
  MemoryBank,
  mlpEncoder,
  projectionMlp,
  SelfsupError,
  useBackend,
  type Rng,
  type TaskState,
} from 'selfsup';
import { beforeAll, describe, expect, it } from 'vitest';

/** A toy method: a head, a queue, a random stream, a counter; `declare` says whether the counter is declared as state. */
class ToyMethod extends BasePretextTask {
  readonly name = 'ToyMethod';
  readonly head: ReturnType<typeof projectionMlp>;
  readonly queue: MemoryBank;
  readonly temperature = 0.5;
  private readonly rng: Rng;
  private seen = 0;

  constructor(
    seed: number,
    private readonly declare: boolean,
  ) {
    super(mlpEncoder({ inputShape: [4, 4, 1], units: [8], seed }), undefined, 0.01);
    this.rng = createRng(seed);
    this.head = projectionMlp({ inputDim: 8, hiddenDim: 8, outputDim: 4, seed: this.rng.nextUint32() });
    this.queue = new MemoryBank({ size: 6, dim: 4, seed: this.rng.nextUint32() });
  }

  get trainableVariables(): tf.Variable[] {
    return this.variablesOf(this.head);
  }

  protected runStep(images: tf.Tensor4D): number {
    const noise = this.rng.normal();
    const z = tf.tidy(() => this.head.apply(encodeImages(this.encoder, images, false), { training: false }) as tf.Tensor2D);
    const loss = this.minimize(
      () =>
        tf.tidy(() => {
          const p = this.head.apply(encodeImages(this.encoder, images, true), { training: true }) as tf.Tensor2D;
          return tf.add(tf.mean(tf.square(tf.sub(p, tf.mean(this.queue.read(), 0)))), noise * 1e-3 * this.seen) as tf.Scalar;
        }),
      this.trainableVariables,
    );
    this.queue.enqueue(z);
    z.dispose();
    this.seen += images.shape[0];
    return loss;
  }

  protected override stateFields(): string[] {
    return this.declare ? [...super.stateFields(), 'seen'] : super.stateFields();
  }

  override dispose(): void {
    super.dispose();
    this.head.dispose();
    this.queue.dispose();
    (this.encoder as unknown as { dispose(): void }).dispose();
  }
}

const batch = (i: number) => tf.randomUniform([3, 4, 4, 1], 0, 1, 'float32', i) as tf.Tensor4D;
function run(task: BasePretextTask, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) {
    const x = batch(i);
    out.push(task.step(x));
    x.dispose();
  }
  return out;
}
function snapshot(task: BasePretextTask): string {
  const state = task.getState();
  const bytes = Object.entries(state.tensors).map(([k, t]) => `${k}:${Array.from(t.dataSync()).join(',')}`);
  disposeTaskState(state);
  return JSON.stringify([bytes, state.pieces]);
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('the state protocol for a new method', () => {
  it('finds models, the queue, the stream and the optimizer from the fields; a declared counter is restored', () => {
    const a = new ToyMethod(1, true);
    run(a, 0, 3);
    const state = a.getState();
    expect(Object.keys(state.pieces)).toEqual(['encoder', 'optimizer', 'head', 'queue', 'rng', '@fields']);
    expect(state.pieces['@fields']).toEqual({ kind: 'fields', values: { stepCount: 3, skippedCount: 0, seen: 9 } });
    expect(state.config).toEqual({ name: 'ToyMethod', temperature: 0.5, declare: true });
    const b = new ToyMethod(2, true);
    b.setState(state);
    disposeTaskState(state);
    expect(run(b, 3, 6)).toEqual(run(a, 3, 6));
    expect(snapshot(b)).toBe(snapshot(a));
    a.dispose();
    b.dispose();
  });

  it('a counter left out of stateFields() makes the load fail as an options mismatch, instead of resuming wrongly', () => {
    const a = new ToyMethod(1, false);
    run(a, 0, 2);
    const state = a.getState();
    const b = new ToyMethod(1, false);
    expect(() => b.setState(state)).toThrow(
      "ToyMethod.setState: the options differ: seen is 6 in the checkpoint and 0 in this task (create the task with the options it was saved with; a field that training changes belongs in the task's stateFields())",
    );
    disposeTaskState(state);
    a.dispose();
    b.dispose();
  });

  it('a trained variable no field holds is an error on save, naming it', () => {
    const hidden = tf.variable(tf.zeros([2]));
    class Leaky extends ToyMethod {
      override get trainableVariables(): tf.Variable[] {
        return [...super.trainableVariables, hidden];
      }
    }
    const task = new Leaky(1, true);
    expect(() => task.getState()).toThrow(
      new RegExp(`^ToyMethod.getState: ToyMethod trains the variable ${hidden.name} \\[2\\], which no field of the task holds`),
    );
    task.dispose();
    hidden.dispose();
    expect(() => task.getState()).toThrow(SelfsupError);
  });

  it('a failing assignment puts the previous state back (all or nothing)', () => {
    class Flaky {
      fail = false;
      getState() {
        return { value: 1 };
      }
      setState() {
        if (this.fail) throw new Error('cannot restore');
      }
    }
    class WithFlaky extends ToyMethod {
      readonly flaky = new Flaky();
    }
    const a = new WithFlaky(1, true);
    run(a, 0, 2);
    const state = a.getState();
    const b = new WithFlaky(5, true);
    run(b, 0, 1);
    b.flaky.fail = true;
    const before = snapshot(b);
    const tensors = tf.memory().numTensors;
    expect(() => b.setState(state)).toThrow('cannot restore');
    expect(snapshot(b)).toBe(before);
    expect(tf.memory().numTensors).toBe(tensors);
    b.flaky.fail = false;
    b.setState(state);
    expect(snapshot(b)).toBe(snapshot(a));
    disposeTaskState(state);
    a.dispose();
    b.dispose();
  });

  it('setState names what is wrong with a hand-made state', () => {
    const a = new ToyMethod(1, true);
    const b = new ToyMethod(1, true);
    const good = a.getState();
    const fails = (state: unknown, message: string | RegExp, type: new (...args: never[]) => Error = CheckpointError) => {
      expect(() => b.setState(state as TaskState)).toThrow(type);
      expect(() => b.setState(state as TaskState)).toThrow(message);
    };
    fails(null, 'ToyMethod.setState: state must be a TaskState { method, steps, config, tensors, pieces } from getState()', InvalidArgumentError);
    fails({ ...good, tensors: { ...good.tensors, 'head/0': 5 } }, "ToyMethod.setState: state.tensors['head/0'] must be a live tensor, got 5", InvalidArgumentError);
    const extra = tf.zeros([1]);
    fails({ ...good, tensors: { ...good.tensors, stray: extra } }, 'ToyMethod.setState: the state has a tensor stray that this task does not have');
    const { rng: _rng, ...pieces } = good.pieces;
    void _rng;
    fails({ ...good, pieces }, 'ToyMethod.setState: the piece rng is missing');
    fails({ ...good, pieces: { ...good.pieces, more: { kind: 'variable' } } }, 'ToyMethod.setState: the state has a piece more that this task does not have');
    const wrong = tf.zeros([3, 3]);
    fails({ ...good, tensors: { ...good.tensors, 'head/0': wrong } }, 'ToyMethod.setState: head/0 has shape [3, 3] in the checkpoint and [8, 8] in this task');
    fails(
      { ...good, pieces: { ...good.pieces, rng: { kind: 'object', state: { seed: 1, words: [0, 0, 0, 0], spareNormal: null } } } },
      'Rng.setState: state must be an Rng state',
      InvalidArgumentError,
    );
    tf.dispose([extra, wrong]);
    disposeTaskState(good);
    a.dispose();
    b.dispose();
  });
});
