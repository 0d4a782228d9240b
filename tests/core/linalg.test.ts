import { describe, expect, it } from 'vitest';
import { singularValues, smallGram, symmetricEigen } from '../../src/core/linalg.js';
import { loadFixture } from '../helpers/fixtures.js';
import { expectClose } from '../helpers/numerics.js';

const fx = loadFixture<{ rankMe: { shape: [number, number]; z: number[]; singularValues: number[] }[] }>('eval-metrics');

function randomSymmetric(n: number, seed: number): Float64Array {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = next();
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

describe('symmetricEigen', () => {
  for (const n of [1, 2, 5, 17, 40]) {
    it(`A = V Λ Vᵀ with orthonormal V (n = ${n})`, () => {
      const a = randomSymmetric(n, n);
      const { values, vectors } = symmetricEigen(a, n);
      for (let k = 1; k < n; k++) expect(values[k]!).toBeGreaterThanOrEqual(values[k - 1]!);
      let reconstruction = 0;
      let orthogonality = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let rec = 0;
          let dot = 0;
          for (let k = 0; k < n; k++) {
            rec += vectors![i * n + k]! * values[k]! * vectors![j * n + k]!;
            dot += vectors![k * n + i]! * vectors![k * n + j]!;
          }
          reconstruction = Math.max(reconstruction, Math.abs(rec - a[i * n + j]!));
          orthogonality = Math.max(orthogonality, Math.abs(dot - (i === j ? 1 : 0)));
        }
      }
      expect(reconstruction).toBeLessThan(1e-12);
      expect(orthogonality).toBeLessThan(1e-12);
      expectClose(symmetricEigen(a, n, false).values, values, { atol: 1e-12 });
    });
  }

  it('closed forms: [[2, 1], [1, 2]] → 1, 3; a diagonal matrix; repeated eigenvalues', () => {
    expectClose(symmetricEigen([2, 1, 1, 2], 2).values, [1, 3], { atol: 1e-14 });
    expectClose(symmetricEigen([3, 0, 0, 0, -1, 0, 0, 0, 2], 3).values, [-1, 2, 3], { atol: 1e-14 });
    expectClose(symmetricEigen([1, 0, 0, 0, 1, 0, 0, 0, 1], 3).values, [1, 1, 1], { atol: 1e-14 });
    expect(symmetricEigen([], 0).values.length).toBe(0);
  });
});

describe('singularValues', () => {
  for (const c of fx.rankMe) {
    it(`match numpy's SVD (${c.shape.join('×')})`, () => {
      const s = singularValues(c.z, c.shape[0], c.shape[1]);
      expect(s.length).toBe(Math.min(...c.shape));
      // Via the Gram matrix the small values carry an absolute error ~1e-8·σmax.
      expectClose(s, c.singularValues, { rtol: 1e-7, atol: 1e-7 * c.singularValues[0]! });
    });
  }

  it('smallGram picks the smaller side', () => {
    expect(smallGram([1, 2, 3, 4, 5, 6], 2, 3).size).toBe(2);
    expect(Array.from(smallGram([1, 2, 3, 4, 5, 6], 3, 2).gram)).toEqual([35, 44, 44, 56]);
  });
});
