/**
 * One training step of a small conv encoder, the workload of every classic
 * pretext task: 4 conv layers (32/64/128/128 filters, 3×3, strides 1/2/2/2,
 * 'same', ReLU), global average pooling, dense 128; MSE to a fixed target and
 * SGD, forward + backward + update. tfjs-layers model trained with
 * `optimizer.minimize`, as selfsup's tasks do; PyTorch peer in
 * bench/peers/conv_torch.py builds the same network.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { runPythonPeer, type Measurement } from '../lib/harness.js';
import {
  IMPL,
  extrapolated,
  measureOrExplain,
  selfsupWasm,
  shapeLabel,
  stockWasm,
  type BenchContext,
  type Comparison,
  type GroupResult,
  type Unavailable,
  type WorkloadGroup,
} from '../lib/workload.js';
import { useBackend } from '../../src/backend/use-backend.js';

const SHAPES: [number, number, number, number][] = [
  [256, 32, 32, 3],
  [256, 28, 28, 1],
];
const CPU_BATCH = 4;

export const encoderName = (shape: readonly number[]) => `encoder train step ${shapeLabel(shape)}`;

export function buildEncoder(inputShape: number[]): tfl.Sequential {
  const conv = (filters: number, strides: number, extra: Record<string, unknown> = {}) =>
    tfl.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', activation: 'relu', ...extra });
  return tfl.sequential({
    layers: [
      conv(32, 1, { inputShape }),
      conv(64, 2),
      conv(128, 2),
      conv(128, 2),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 128 }),
    ],
  });
}

/** A training step closure on the active backend, and its cleanup. */
export function encoderTrainingStep(shape: number[]): { step: () => void; dispose: () => void } {
  const model = buildEncoder(shape.slice(1));
  const optimizer = tf.train.sgd(0.01);
  const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
  const target = tf.randomNormal([shape[0]!, 128], 0, 1, 'float32', 2);
  const step = () => {
    const loss = optimizer.minimize(() => tf.mean(tf.squaredDifference(model.apply(x) as tf.Tensor, target)) as tf.Scalar, true);
    loss?.dispose();
  };
  return { step, dispose: () => { model.dispose(); optimizer.dispose(); tf.dispose([x, target]); } };
}

async function measureOn(impl: string, shape: [number, number, number, number], opts: BenchContext['options'],
  rows: Measurement[], unavailable: Unavailable[], batch = shape[0]): Promise<void> {
  const { step, dispose } = encoderTrainingStep([batch, shape[1], shape[2], shape[3]]);
  const m = await measureOrExplain(encoderName(shape), impl, step, opts, unavailable);
  if (m) rows.push(batch === shape[0] ? m : extrapolated(m, batch, shape[0]));
  dispose();
}

export const encoderGroup: WorkloadGroup = {
  name: 'encoder',
  description: 'conv encoder training step (forward + backward + SGD update)',
  async run(ctx): Promise<GroupResult> {
    const rows: Measurement[] = [];
    const unavailable: Unavailable[] = [];
    const comparisons: Comparison[] = [];
    for (const shape of SHAPES) {
      await selfsupWasm();
      await measureOn(IMPL.selfsup, shape, ctx.options, rows, unavailable);
      await stockWasm();
      await measureOn(IMPL.naiveWasm, shape, { ...ctx.options, runs: 3 }, rows, unavailable);
      await useBackend('cpu');
      await measureOn(IMPL.cpu, shape, { warmup: 0, runs: 1 }, rows, unavailable, CPU_BATCH);
      for (const [baseline, label] of [[IMPL.pytorch, 'vs pytorch'], [IMPL.naiveWasm, 'vs stock wasm'], [IMPL.cpu, 'vs cpu']] as const) {
        comparisons.push({ workload: encoderName(shape), subject: IMPL.selfsup, baseline, label });
      }
    }
    await selfsupWasm();
    const peer = runPythonPeer('conv_torch.py', ctx.quick ? ['--quick', '--only', 'encoder'] : ['--only', 'encoder']);
    if (peer) rows.push(...peer);
    return {
      rows,
      unavailable,
      comparisons,
      notes: [`tfjs cpu is timed on one step of a batch of ${CPU_BATCH}, scaled to 256 (a full batch takes it minutes).`],
    };
  },
};
