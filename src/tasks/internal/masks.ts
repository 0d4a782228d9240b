/**
 * Mask sampling for the generative tasks, on the host from an {@link Rng} so a
 * seed gives the same masks on every backend.
 *
 * These are small task-local samplers. selfsup/masking is gaining public,
 * tested equivalents (`randomPatchMask`, `centerMask`, `randomRectangleMask`,
 * `irregularMask`, `pixelDropout`); the tasks switch to them once they land.
 *
 * @module
 */
import type { Rng } from '../../core/rng.js';

/** MAE's per-sample random masking: a random permutation of the L patches, the first K kept. */
export function samplePatchMask(
  rng: Rng,
  batch: number,
  numPatches: number,
  maskRatio: number,
): { keepIds: Int32Array; mask: Float32Array; keep: number } {
  // MAE: len_keep = int(L * (1 - mask_ratio)); at least one patch stays visible.
  const keep = Math.max(1, Math.floor(numPatches * (1 - maskRatio)));
  const keepIds = new Int32Array(batch * keep);
  const mask = new Float32Array(batch * numPatches).fill(1);
  for (let b = 0; b < batch; b++) {
    const order = rng.permutation(numPatches);
    for (let k = 0; k < keep; k++) {
      keepIds[b * keep + k] = order[k]!;
      mask[b * numPatches + order[k]!] = 0;
    }
  }
  return { keepIds, mask, keep };
}

/** The kinds of hole {@link sampleInpaintingMask} draws. */
export type InpaintingMaskKind = 'center' | 'random-rectangle' | 'irregular';

function fillRect(mask: Float32Array, offset: number, w: number, y0: number, x0: number, y1: number, x1: number): void {
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) mask[offset + y * w + x] = 1;
}

function covered(mask: Float32Array, offset: number, size: number): number {
  let s = 0;
  for (let i = 0; i < size; i++) s += mask[offset + i]!;
  return s / size;
}

/**
 * Holes `[B·H·W]` (1 = removed) of Context Encoders' three kinds (Pathak et
 * al. 2016, §3.3), each covering about `coverage` of the image:
 * - `'center'`: a centred square of side `round(√coverage · H)` (the paper's
 *   central 64×64 of 128×128 at coverage 1/4);
 * - `'random-rectangle'`: possibly overlapping rectangles with sides in
 *   [H/8, H/2], added until the coverage is reached ("random block");
 * - `'irregular'`: a random brush stroke (a random walk of discs) until the
 *   coverage is reached — the paper samples shapes of PASCAL segmentation
 *   masks ("random region"), which cannot ship here; free-form strokes give
 *   the same arbitrary, non-rectangular outline.
 */
export function sampleInpaintingMask(
  rng: Rng,
  batch: number,
  h: number,
  w: number,
  kind: InpaintingMaskKind,
  coverage: number,
): Float32Array {
  const size = h * w;
  const mask = new Float32Array(batch * size);
  for (let b = 0; b < batch; b++) {
    const off = b * size;
    if (kind === 'center') {
      const sh = Math.max(1, Math.round(Math.sqrt(coverage) * h));
      const sw = Math.max(1, Math.round(Math.sqrt(coverage) * w));
      const y0 = Math.floor((h - sh) / 2);
      const x0 = Math.floor((w - sw) / 2);
      fillRect(mask, off, w, y0, x0, y0 + sh, x0 + sw);
    } else if (kind === 'random-rectangle') {
      for (let r = 0; r < 32 && covered(mask, off, size) < coverage; r++) {
        const rh = rng.int(Math.max(1, Math.floor(h / 8)), Math.max(2, Math.floor(h / 2) + 1));
        const rw = rng.int(Math.max(1, Math.floor(w / 8)), Math.max(2, Math.floor(w / 2) + 1));
        const y0 = rng.int(0, h - rh + 1);
        const x0 = rng.int(0, w - rw + 1);
        fillRect(mask, off, w, y0, x0, y0 + rh, x0 + rw);
      }
    } else {
      const radius = Math.max(1, Math.min(h, w) / 10);
      let y = rng.uniform(0, h);
      let x = rng.uniform(0, w);
      let angle = rng.uniform(0, 2 * Math.PI);
      for (let s = 0; s < 400 && covered(mask, off, size) < coverage; s++) {
        const r2 = radius * radius;
        for (let yy = Math.max(0, Math.floor(y - radius)); yy <= Math.min(h - 1, Math.ceil(y + radius)); yy++) {
          for (let xx = Math.max(0, Math.floor(x - radius)); xx <= Math.min(w - 1, Math.ceil(x + radius)); xx++) {
            if ((yy - y) ** 2 + (xx - x) ** 2 <= r2) mask[off + yy * w + xx] = 1;
          }
        }
        angle += rng.uniform(-0.8, 0.8);
        y += Math.sin(angle) * radius * 0.8;
        x += Math.cos(angle) * radius * 0.8;
        // Bounce off the border so the stroke stays inside the image.
        if (y < 0 || y >= h) {
          angle = -angle;
          y = Math.min(Math.max(y, 0), h - 1);
        }
        if (x < 0 || x >= w) {
          angle = Math.PI - angle;
          x = Math.min(Math.max(x, 0), w - 1);
        }
      }
    }
  }
  return mask;
}

/** Keep-mask `[n]` with each entry 0 with probability `p` (Vincent et al.'s masking noise), else 1. */
export function sampleDropoutMask(rng: Rng, n: number, p: number): Float32Array {
  const keep = new Float32Array(n);
  for (let i = 0; i < n; i++) keep[i] = rng.next() < p ? 0 : 1;
  return keep;
}
