/**
 * The benchmark a user's clock sees: one whole training step of the learning
 * benchmark's SimCLR, BYOL, MAE and rotation recipes (bench/learn/: same
 * encoder, heads, augmentation, optimizer) on 256 Fashion-MNIST images, built
 * by bench/lib/steps.ts, against bench/peers/step_torch.py (the same steps
 * written independently in PyTorch) run in the same invocation. CPU time and
 * wall time per step, at each thread count of `--threads` (default 1):
 * selfsup asks `useBackend('wasm', { threads })` and its row names the count
 * the backend reports; PyTorch runs `torch.set_num_threads(n)`.
 */
import { backendInfo, useBackend } from '../../src/backend/use-backend.js';
import { runPythonPeer, type Measurement } from '../lib/harness.js';
import { benchImages, makeStep, METHOD_STEPS } from '../lib/steps.js';
import { IMPL, measureOrExplain, selfsupWasm, type Comparison, type GroupResult, type Unavailable, type WorkloadGroup } from '../lib/workload.js';

export const STEP_BATCH = 256;
export const stepName = (method: string) => `${method} step B=${STEP_BATCH}`;
const implAt = (base: string, threads: number) => (threads === 1 ? base : `${base} ${threads} threads`);

export const stepGroup: WorkloadGroup = {
  name: 'step',
  description: `whole training step of the learning benchmark's recipes, batch ${STEP_BATCH} (augmentation, forward, backward, Adam)`,
  async run(ctx): Promise<GroupResult> {
    const rows: Measurement[] = [];
    const unavailable: Unavailable[] = [];
    const comparisons: Comparison[] = [];
    const notes: string[] = [];
    const threadCounts = ctx.threads ?? [1];
    const opts = ctx.quick ? ctx.options : { ...ctx.options, runs: 10, maxTimeMs: 30_000 };
    for (const threads of threadCounts) {
      await useBackend('wasm', { threads });
      await selfsupWasm();
      const actual = backendInfo().threads;
      if (actual !== threads) notes.push(`asked the wasm backend for ${threads} threads; it runs ${actual}`);
      const impl = implAt(IMPL.selfsup, actual);
      const images = benchImages(STEP_BATCH);
      for (const method of METHOD_STEPS) {
        const fixture = makeStep(method, images);
        try {
          const m = await measureOrExplain(stepName(method), impl, () => void fixture.step(), opts, unavailable);
          if (m) rows.push(m);
        } finally {
          fixture.dispose();
        }
        comparisons.push({ workload: stepName(method), subject: impl, baseline: implAt(IMPL.pytorch, threads), label: 'vs pytorch' });
      }
      images.dispose();
      const args = ['--threads', String(threads), ...(ctx.quick ? ['--quick'] : [])];
      const peer = runPythonPeer('step_torch.py', args, ['torch'], threads);
      if (peer) rows.push(...peer);
    }
    if (threadCounts.length > 1) {
      for (const method of METHOD_STEPS) {
        for (const threads of threadCounts.slice(1)) {
          comparisons.push({ workload: stepName(method), subject: implAt(IMPL.selfsup, threads), baseline: IMPL.selfsup, label: 'vs 1 thread' });
        }
      }
    }
    notes.push(
      'PyTorch augments the batch with one affine grid_sample (its fastest path); selfsup with its seeded per-sample pipeline. ' +
        'Both sides read the loss back every step.',
    );
    return { rows, unavailable, comparisons, notes };
  },
};
