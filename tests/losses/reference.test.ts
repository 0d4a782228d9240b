/**
 * Every loss against its independent float64 reference (PyTorch 1.13 /
 * scikit-learn, scripts/fixtures/losses.py), on cpu and wasm: values within
 * 1e-5 relative, gradients within 1e-4 relative or 1e-6 absolute, nothing
 * leaked. The contrastive fixtures sweep batch size, dimension and temperature.
 */
import { expect, it } from 'vitest';
import { describeBackends } from '../helpers/backends.js';
import { loadFixture } from '../helpers/fixtures.js';
import { checkCase, type ReferenceCase } from './reference-cases.js';

const groups = ['contrastive', 'siamese', 'clustering', 'pixels', 'colorization', 'dinov2', 'msn', 'ijepa'] as const;
const fixtures = Object.fromEntries(
  groups.map((g) => [g, loadFixture<{ cases: ReferenceCase[] }>(`losses-${g}`).cases]),
) as Record<(typeof groups)[number], ReferenceCase[]>;

describeBackends('losses match their references', () => {
  for (const group of groups) {
    it(`${group}: ${fixtures[group].length} cases`, () => {
      expect(fixtures[group].length).toBeGreaterThan(0);
      for (const c of fixtures[group]) checkCase(c);
    });
  }
});
