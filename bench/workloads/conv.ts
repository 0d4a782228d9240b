/**
 * Single 3×3 'same' convolutions at the shapes: forward, the two
 * backprop kernels (dx, dW, given the upstream gradient) and tf.grads of the
 * whole thing, on selfsup's wasm kernels, stock tfjs wasm, tfjs cpu (capped)
 * and PyTorch (bench/peers/conv_torch.py).
 */
import * as tf from '@tensorflow/tfjs-core';
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
  type Unavailable,
  type WorkloadGroup,
} from '../lib/workload.js';
import { useBackend } from '../../src/backend/use-backend.js';

const SHAPES: [[number, number, number, number], number][] = [
  [[256, 32, 32, 3], 32],
  [[256, 16, 16, 32], 64],
];
const CPU_BATCH = 4;
const PARTS = ['fwd', 'bwd dx', 'bwd dW', 'bwd', 'fwd+bwd'] as const;

export const convName = (shape: readonly number[], co: number, part: string) => `conv3x3 ${shapeLabel(shape)}→${co} ${part}`;

function parts(x: tf.Tensor4D, w: tf.Tensor4D, dy: tf.Tensor4D): Record<(typeof PARTS)[number], () => void> {
  const e = tf.engine();
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC' };
  const dx = () => e.runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape });
  const dW = () => e.runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape });
  // Forward, then backward from the upstream gradient dy (as PyTorch's y.backward(g)).
  const grads = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, 'same'));
  // wasm and cpu run kernels synchronously, so returning means the work is done; tidy frees the outputs.
  return {
    fwd: () => tf.tidy(() => { tf.conv2d(x, w, 1, 'same'); }),
    'bwd dx': () => tf.tidy(() => { dx(); }),
    'bwd dW': () => tf.tidy(() => { dW(); }),
    bwd: () => tf.tidy(() => { dx(); dW(); }),
    'fwd+bwd': () => tf.tidy(() => { grads([x, w], dy); }),
  };
}

function inputs(shape: [number, number, number, number], co: number) {
  const x = tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, shape[3], co], 0, 0.1, 'float32', 2) as tf.Tensor4D;
  const dy = tf.randomNormal([shape[0], shape[1], shape[2], co], 0, 1, 'float32', 3) as tf.Tensor4D;
  return { x, w, dy };
}

/** Measures every part; `batch` below the workload's batch measures a smaller batch (named after the full one). */
async function measureAll(impl: string, ctx: BenchContext, shape: [number, number, number, number], co: number,
  rows: Measurement[], unavailable: Unavailable[], opts = ctx.options, batch = shape[0]): Promise<void> {
  const { x, w, dy } = inputs([batch, shape[1], shape[2], shape[3]], co);
  const fns = parts(x, w, dy);
  for (const part of PARTS) {
    const name = convName(shape, co, part);
    const m = await measureOrExplain(name, impl, fns[part], opts, unavailable);
    if (m) rows.push(m);
  }
  tf.dispose([x, w, dy]);
}

export const convGroup: WorkloadGroup = {
  name: 'conv',
  description: 'single 3×3 convolution forward and backward',
  async run(ctx) {
    const rows: Measurement[] = [];
    const unavailable: Unavailable[] = [];
    const comparisons: Comparison[] = [];
    for (const [shape, co] of SHAPES) {
      await selfsupWasm();
      await measureAll(IMPL.selfsup, ctx, shape, co, rows, unavailable);
      await stockWasm();
      await measureAll(IMPL.naiveWasm, ctx, shape, co, rows, unavailable, { ...ctx.options, runs: Math.min(ctx.options.runs ?? 10, 5) });
      await useBackend('cpu');
      const cpuRows: Measurement[] = [];
      await measureAll(IMPL.cpu, ctx, shape, co, cpuRows, unavailable, { warmup: 0, runs: 1 }, CPU_BATCH);
      rows.push(...cpuRows.map((r) => extrapolated(r, CPU_BATCH, shape[0])));
      comparisons.push({
        workload: convName(shape, co, 'bwd'), subject: IMPL.selfsup, baseline: IMPL.selfsup,
        baselineWorkload: convName(shape, co, 'fwd'), label: 'bwd/fwd',
      });
      for (const part of PARTS) {
        const workload = convName(shape, co, part);
        for (const [baseline, label] of [[IMPL.pytorch, 'vs pytorch'], [IMPL.naiveWasm, 'vs stock wasm'], [IMPL.cpu, 'vs cpu']] as const) {
          comparisons.push({ workload, subject: IMPL.selfsup, baseline, label });
        }
      }
    }
    await selfsupWasm();
    const peer = runPythonPeer('conv_torch.py', ctx.quick ? ['--quick', '--only', 'conv'] : ['--only', 'conv']);
    if (peer) rows.push(...peer);
    return {
      rows,
      unavailable,
      comparisons,
      notes: [
        `tfjs cpu is timed once on a batch of ${CPU_BATCH}, scaled to 256: a full batch takes it minutes.`,
        'bwd = Conv2DBackpropInput + Conv2DBackpropFilter given dy (PyTorch: autograd.grad of the conv for x and W).',
      ],
    };
  },
};
