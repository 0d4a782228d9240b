/**
 * DCL / DCLW, MMCR, TiCo, FastSiam, SimMIM (and VICRegL) against lightly's and
 * the authors' own code (scripts/fixtures/lightly_methods.py, PyTorch 1.13 in
 * float64), on cpu and wasm: values within 1e-5 relative, gradients within
 * 1e-4 relative or 1e-6 absolute, nothing leaked. TiCo's cases run two
 * consecutive steps, so its covariance state is checked too.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { ticoLoss, updateTicoCovariance } from '../../src/losses/index.js';
import { describeBackends } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { expectClose, expectNoLeak } from '../helpers/numerics.js';
import { checkCase, type ReferenceCase } from './reference-cases.js';

interface TicoStep {
  inputs: { zA: number[][]; zB: number[][] };
  loss: number;
  grads: { zA: number[][]; zB: number[][] };
  covariance: number[][];
}

const fixture = loadFixture<{ provenance: Record<string, string>; cases: (ReferenceCase & { steps?: TicoStep[] })[] }>('losses-methods');
const byFn = (fn: string) => fixture.cases.filter((c) => c.fn === fn);

function checkTico(c: ReferenceCase & { steps?: TicoStep[] }): void {
  const { beta, rho } = c.options as { beta: number; rho: number };
  const d = c.steps![0]!.inputs.zA[0]!.length;
  let covariance = tf.zeros([d, d]) as tf.Tensor2D;
  for (const [i, step] of c.steps!.entries()) {
    const zA = tf.tensor2d(step.inputs.zA);
    const zB = tf.tensor2d(step.inputs.zB);
    const next = expectNoLeak(() => updateTicoCovariance(covariance, zA, { beta }));
    covariance.dispose();
    covariance = next;
    expectClose(covariance, step.covariance, { rtol: 1e-5, atol: 1e-7, label: `${c.name} step ${i}: covariance` });
    const loss = expectNoLeak(() => ticoLoss(zA, zB, covariance, { rho }));
    expectClose(loss, step.loss, { rtol: 1e-5, atol: 1e-7, label: `${c.name} step ${i}: loss` });
    const c0 = covariance;
    const grads = expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => ticoLoss(a as tf.Tensor2D, b as tf.Tensor2D, c0, { rho }))([zA, zB]));
    expectClose(grads[0]!, step.grads.zA, { rtol: 1e-4, atol: 1e-6, label: `${c.name} step ${i}: ∂/∂zA` });
    expectClose(grads[1]!, step.grads.zB, { rtol: 1e-4, atol: 1e-6, label: `${c.name} step ${i}: ∂/∂zB` });
    tf.dispose([zA, zB, loss, ...grads]);
  }
  covariance.dispose();
}

describeBackends('new methods’ losses match lightly and the authors’ code', () => {
  it('the fixture names its reference commit', () => {
    expect(fixture.provenance.lightly).toMatch(/^[0-9a-f]{40}$/);
  });
  for (const fn of ['dclLoss', 'dclwLoss', 'mmcrLoss', 'fastSiamLoss', 'simMIMLoss', 'vicreglLoss']) {
    it(`${fn}: ${byFn(fn).length} cases`, () => {
      expect(byFn(fn).length).toBeGreaterThan(0);
      for (const c of byFn(fn)) checkCase(c);
    });
  }
  it(`ticoLoss and updateTicoCovariance over two steps: ${byFn('ticoSteps').length} cases`, () => {
    expect(byFn('ticoSteps').length).toBeGreaterThan(0);
    for (const c of byFn('ticoSteps')) checkTico(c);
  });
});
