/**
 * Runs the reference cases of tests/fixtures/losses-*.json (written by
 * scripts/fixtures/losses.py from PyTorch / scikit-learn in float64) through
 * the selfsup losses: the loss value within 1e-5 relative, every input
 * gradient within 1e-4 relative (1e-6 absolute).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as losses from '../../src/losses/index.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';

export interface ReferenceCase {
  name: string;
  fn: string;
  inputs: Record<string, unknown>;
  options?: Record<string, unknown>;
  loss: number | null;
  grads?: Record<string, unknown>;
  bins?: 'zhang313' | number[][];
  [extra: string]: unknown;
}

type Inputs = Record<string, tf.Tensor>;
type Call = (x: Inputs, options: Record<string, unknown>, c: ReferenceCase) => tf.Scalar;

const INTEGER_INPUTS = new Set(['labels', 'pseudoLabels']);

const CALLS: Record<string, Call> = {
  ntXentLoss: (x, o) => losses.ntXentLoss(x.z1 as tf.Tensor2D, x.z2 as tf.Tensor2D, o),
  infoNCELoss: (x, o) =>
    losses.infoNCELoss(x.query as tf.Tensor2D, x.positiveKey as tf.Tensor2D, x.negatives as tf.Tensor2D | undefined, o),
  clipLoss: (x, o) =>
    losses.clipLoss(x.imageEmbeddings as tf.Tensor2D, x.textEmbeddings as tf.Tensor2D, {
      logScale: x.logScale ? (x.logScale as tf.Scalar) : (o.logScale as number),
    }),
  negativeCosineSimilarity: (x, o) => losses.negativeCosineSimilarity(x.p as tf.Tensor2D, x.z as tf.Tensor2D, o),
  simSiamLoss: (x) =>
    losses.simSiamLoss(x.p1 as tf.Tensor2D, x.p2 as tf.Tensor2D, x.z1 as tf.Tensor2D, x.z2 as tf.Tensor2D),
  byolLoss: (x) => losses.byolLoss(x.p1 as tf.Tensor2D, x.p2 as tf.Tensor2D, x.t1 as tf.Tensor2D, x.t2 as tf.Tensor2D),
  barlowTwinsLoss: (x, o) => losses.barlowTwinsLoss(x.z1 as tf.Tensor2D, x.z2 as tf.Tensor2D, o),
  vicregLoss: (x, o) => losses.vicregLoss(x.z1 as tf.Tensor2D, x.z2 as tf.Tensor2D, o),
  dinoLoss: (x, o) =>
    losses.dinoLoss(x.studentOutput as tf.Tensor2D, x.teacherOutput as tf.Tensor2D, (x.center as tf.Tensor2D | undefined) ?? null, o),
  ibotPatchLoss: (x, o) =>
    losses.ibotPatchLoss(
      x.studentOutput as tf.Tensor2D,
      x.teacherOutput as tf.Tensor2D,
      x.masks as tf.Tensor2D,
      (x.center as tf.Tensor2D | undefined) ?? null,
      o,
    ),
  koleoLoss: (x, o) => losses.koleoLoss(x.x as tf.Tensor2D, o),
  msnLoss: (x, o) =>
    losses.msnLoss(x.anchors as tf.Tensor2D, x.targets as tf.Tensor2D, x.prototypes as tf.Tensor2D, {
      ...o,
      ...(x.prior ? { prior: x.prior as tf.Tensor1D } : {}),
    }),
  ijepaLoss: (x, o) => losses.ijepaLoss(x.predictions!, x.targets!, o),
  swavLoss: (x, o) =>
    losses.swavLoss(
      x.scores1 as tf.Tensor2D,
      x.scores2 as tf.Tensor2D,
      x.q1 as tf.Tensor2D,
      x.q2 as tf.Tensor2D,
      o,
    ),
  pseudoLabelLoss: (x, o) => losses.pseudoLabelLoss(x.logits as tf.Tensor2D, x.pseudoLabels as tf.Tensor1D, o),
  rotationLoss: (x) => losses.rotationLoss(x.logits as tf.Tensor2D, x.labels as tf.Tensor1D),
  maeLoss: (x, o) =>
    losses.maeLoss(x.prediction as tf.Tensor3D, x.images as tf.Tensor4D, x.mask as tf.Tensor2D, o as never),
  reconstructionLoss: (x) =>
    losses.reconstructionLoss(x.prediction!, x.target!, x.mask ? { mask: x.mask as tf.Tensor4D } : {}),
  generatorAdversarialLoss: (x) => losses.generatorAdversarialLoss(x.fakeLogits!),
  discriminatorAdversarialLoss: (x) => losses.discriminatorAdversarialLoss(x.realLogits!, x.fakeLogits!),
  inpaintingLoss: (x, o) =>
    losses.inpaintingLoss(
      x.prediction as tf.Tensor4D,
      x.target as tf.Tensor4D,
      x.mask as tf.Tensor4D,
      x.fakeLogits!,
      o,
    ),
  sparsityPenalty: (x, o) => losses.sparsityPenalty(x.activations!, o),
  dclLoss: (x, o) => losses.dclLoss(x.z1 as tf.Tensor2D, x.z2 as tf.Tensor2D, o),
  dclwLoss: (x, o) => losses.dclwLoss(x.z1 as tf.Tensor2D, x.z2 as tf.Tensor2D, o),
  mmcrLoss: (x, o) => losses.mmcrLoss(x.views as tf.Tensor3D, o),
  fastSiamLoss: (x) => losses.fastSiamLoss(x.predictions as tf.Tensor3D, x.projections as tf.Tensor3D),
  simMIMLoss: (x) => losses.simMIMLoss(x.prediction as tf.Tensor4D, x.images as tf.Tensor4D, x.mask as tf.Tensor4D),
  vicreglLoss: (x, o) =>
    losses.vicreglLoss(
      [
        { global: x.global1 as tf.Tensor2D, local: x.local1 as tf.Tensor4D, grid: x.grid1 as tf.Tensor4D },
        { global: x.global2 as tf.Tensor2D, local: x.local2 as tf.Tensor4D, grid: x.grid2 as tf.Tensor4D },
      ],
      [],
      o as never,
    ),
  colorizationLoss: (x, o, c) => {
    const bins = c.bins === 'zhang313' || c.bins === undefined ? undefined : (x.bins as tf.Tensor2D);
    return losses.colorizationLoss(x.logits as tf.Tensor4D, x.abTargets as tf.Tensor4D, {
      ...o,
      ...(bins ? { bins } : {}),
      ...(x.priorProbabilities ? { priorProbabilities: x.priorProbabilities as tf.Tensor1D } : {}),
    });
  },
};

/** The case's inputs as tensors (plus `logScale` when its gradient is checked, and custom bins). */
export function caseTensors(c: ReferenceCase): Inputs {
  const out: Inputs = {};
  for (const [key, value] of Object.entries(c.inputs)) {
    out[key] = INTEGER_INPUTS.has(key) ? tf.tensor(value as number[], undefined, 'int32') : tf.tensor(value as number[]);
  }
  if (c.grads && 'logScale' in c.grads) out.logScale = tf.scalar(c.options!.logScale as number);
  if (Array.isArray(c.bins)) out.bins = tf.tensor2d(c.bins as number[][]);
  return out;
}

/** Evaluates the case's loss on the current backend. */
export function evaluateCase(c: ReferenceCase, x: Inputs): tf.Scalar {
  const call = CALLS[c.fn];
  if (!call) throw new Error(`no call for ${c.fn}`);
  return call(x, c.options ?? {}, c);
}

/** Checks value and gradients of one case against its reference, and that nothing leaks. */
export function checkCase(c: ReferenceCase): void {
  const x = caseTensors(c);
  try {
    if (c.fn === 'sinkhornKnopp') {
      const q = expectNoLeak(() => losses.sinkhornKnopp(x.scores as tf.Tensor2D, c.options));
      expectClose(q, c.output as number[][], { rtol: 1e-5, atol: 1e-7, label: `${c.name}: Q` });
      q.dispose();
      return;
    }
    if (c.fn === 'dinoLoss' && c.updatedCenter !== undefined) {
      const center = expectNoLeak(() => losses.updateDinoCenter(x.center as tf.Tensor2D, x.teacherOutput as tf.Tensor2D));
      expectClose(center, c.updatedCenter as number[][], { rtol: 1e-5, atol: 1e-7, label: `${c.name}: center` });
      center.dispose();
    }
    const loss = expectNoLeak(() => evaluateCase(c, x));
    if (c.loss !== null) expectClose(loss, c.loss, { rtol: 1e-5, atol: 1e-7, label: `${c.name}: loss` });
    loss.dispose();
    if (!c.grads) return;
    const names = Object.keys(c.grads);
    const grads = expectNoLeak(() =>
      tf.grads((...xs: tf.Tensor[]) => {
        const replaced = { ...x };
        names.forEach((n, i) => (replaced[n] = xs[i]!));
        return evaluateCase(c, replaced);
      })(names.map((n) => x[n]!)),
    );
    names.forEach((n, i) =>
      expectClose(grads[i]!, c.grads![n] as number[], { rtol: 1e-4, atol: 1e-6, label: `${c.name}: ∂/∂${n}` }),
    );
    tf.dispose(grads);
  } finally {
    tf.dispose(Object.values(x));
  }
}
