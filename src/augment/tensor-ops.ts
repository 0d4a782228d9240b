/**
 * Batched data movement used by the augmentations (not exported from the
 * package). tfjs's backends differ by an order of magnitude on these
 * primitives, so each helper picks the op that is fast on the active backend;
 * every choice gives the same values (exact copies, or bilinear weights that
 * agree to float rounding), and both paths run in the test suite.
 *
 * Measured on 786k floats (256×32×32×3), single thread: on wasm `gatherND`
 * copies rows in ~0.3 ms while `gather`, `slice` and `stack(…, -1)` take
 * 2–40 ms; on cpu `gatherND`/`gather` cost ~100 ns per element (≈ 90 ms)
 * while `cropAndResize` and `slice` run as direct loops (≈ 5–10 ms).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

function onCpu(): boolean {
  return tf.getBackend() === 'cpu';
}

/** `x[rows]` for a 2-D tensor: rows of `D` contiguous values, copied exactly. */
export function takeRows(x: tf.Tensor2D, rows: Int32Array): tf.Tensor2D {
  const [n, d] = x.shape;
  const k = rows.length;
  return tf.tidy(() => {
    if (k === 0) return tf.zeros([0, d]) as tf.Tensor2D;
    if (!onCpu()) return tf.gatherND(x, tf.tensor2d(rows, [k, 1], 'int32')) as tf.Tensor2D;
    if (isContiguous(rows)) return tf.slice(x, [rows[0] as number, 0], [k, d]);
    // cpu: nearest-neighbour crop_and_resize with one 1×D crop per row is an
    // exact row copy (round(i/(n-1)·(n-1)) = i) and runs as a direct loop.
    const boxes = new Float32Array(k * 4);
    for (let i = 0; i < k; i++) {
      const y = n > 1 ? (rows[i] as number) / (n - 1) : 0;
      boxes[i * 4] = y;
      boxes[i * 4 + 2] = y;
      boxes[i * 4 + 3] = 1;
    }
    const out = tf.image.cropAndResize(
      tf.reshape(x, [1, n, d, 1]) as tf.Tensor4D,
      tf.tensor2d(boxes, [k, 4]),
      tf.zeros([k], 'int32') as tf.Tensor1D,
      [1, d],
      'nearest',
    );
    return tf.reshape(out, [k, d]) as tf.Tensor2D;
  });
}

function isContiguous(rows: Int32Array): boolean {
  for (let i = 1; i < rows.length; i++) if (rows[i] !== (rows[i - 1] as number) + 1) return false;
  return true;
}

/** `images[indices]` along the batch axis (any sample order, repeats allowed). */
export function takeSamples(images: tf.Tensor4D, indices: Int32Array): tf.Tensor4D {
  const [b, h, w, c] = images.shape;
  return tf.tidy(() => {
    if (indices.length === b && indices.every((v, i) => v === i)) return tf.clone(images);
    const flat = tf.reshape(images, [b, h * w * c]) as tf.Tensor2D;
    return tf.reshape(takeRows(flat, indices), [indices.length, h, w, c]) as tf.Tensor4D;
  });
}

/**
 * Per sample `i`, `useB[i] ? b[i] : a[i]` (both `[B, …]` of the same shape),
 * as one gather from the concatenation, so values are copied exactly.
 */
export function selectSamples(a: tf.Tensor4D, b: tf.Tensor4D, useB: Uint8Array): tf.Tensor4D {
  const n = a.shape[0];
  let count = 0;
  for (let i = 0; i < n; i++) count += useB[i] ? 1 : 0;
  if (count === 0) return tf.clone(a);
  if (count === n) return tf.clone(b);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = useB[i] ? n + i : i;
  return tf.tidy(() => takeSamples(tf.concat([a, b], 0) as tf.Tensor4D, idx));
}

/**
 * Applies `fn` to the samples with `mask[i] = 1` only and puts the results
 * back in place; `fn` receives the sub-batch and the original indices of its
 * samples, and must keep the image shape.
 */
export function applyToSubset(
  images: tf.Tensor4D,
  mask: ArrayLike<number>,
  fn: (subset: tf.Tensor4D, indices: Int32Array) => tf.Tensor4D,
): tf.Tensor4D {
  const n = images.shape[0];
  const picked: number[] = [];
  for (let i = 0; i < n; i++) if (mask[i]) picked.push(i);
  if (picked.length === 0) return tf.clone(images);
  const indices = Int32Array.from(picked);
  return tf.tidy(() => {
    if (picked.length === n) return fn(images, indices);
    const out = fn(takeSamples(images, indices), indices);
    // Gather from [images; out]: sample i comes from out's row when picked.
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    picked.forEach((orig, k) => {
      idx[orig] = n + k;
    });
    return takeSamples(tf.concat([images, out], 0) as tf.Tensor4D, idx);
  });
}

/** Three `[B, H·W]` colour planes (R, G, B): element-wise colour maths is fastest on them. */
export type Planes = [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];

/** NHWC `[B, H, W, 3]` → planes. */
export function toPlanes(images: tf.Tensor4D): Planes {
  const [b, h, w] = images.shape;
  const n = b * h * w;
  return tf.tidy(() => {
    if (onCpu()) {
      // cpu: a nearest crop_and_resize of one column of the [N, 3] "image" is
      // an exact strided copy in a direct loop (slice/split take ~30× longer).
      const asImage = tf.reshape(images, [1, n, 3, 1]) as tf.Tensor4D;
      return [0, 1, 2].map((c) => {
        const col = tf.image.cropAndResize(asImage, tf.tensor2d([[0, c / 2, 1, c / 2]]), tf.zeros([1], 'int32') as tf.Tensor1D, [n, 1], 'nearest');
        return tf.reshape(col, [b, h * w]);
      }) as Planes;
    }
    const t = tf.transpose(tf.reshape(images, [n, 3])) as tf.Tensor2D; // [3, N]
    return [0, 1, 2].map((c) => tf.reshape(takeRows(t, Int32Array.of(c)), [b, h * w])) as Planes;
  });
}

/** Planes → NHWC `[B, H, W, 3]`. */
export function fromPlanes(planes: readonly tf.Tensor2D[], height: number, width: number): tf.Tensor4D {
  const b = (planes[0] as tf.Tensor2D).shape[0];
  return tf.tidy(() => {
    if (onCpu()) return tf.reshape(tf.stack(planes as tf.Tensor2D[], -1), [b, height, width, 3]) as tf.Tensor4D;
    const t = tf.reshape(tf.concat(planes as tf.Tensor2D[], 0), [3, b * height * width]);
    return tf.reshape(tf.transpose(t), [b, height, width, 3]) as tf.Tensor4D;
  });
}

/** A `[B, 1]` column of per-sample values. */
export function column(values: ArrayLike<number>, width: number): tf.Tensor2D {
  if (!onCpu()) return tf.tensor2d(Float32Array.from(values), [values.length, 1]);
  // cpu: a broadcast binary op indexes every element (~10× a same-shape op),
  // so per-sample values are spelled out to the full plane instead.
  const out = new Float32Array(values.length * width);
  for (let i = 0; i < values.length; i++) out.fill(values[i] as number, i * width, (i + 1) * width);
  return tf.tensor2d(out, [values.length, width]);
}

/** A computed `[B, 1]` column made ready to combine with `[B, width]` planes (see {@link column}). */
export function expandColumn(col: tf.Tensor2D, width: number): tf.Tensor2D {
  if (!onCpu()) return col;
  // An outer product with ones is an exact, fast broadcast on cpu (tile is not).
  return tf.tidy(() => tf.matMul(col, tf.ones([1, width])));
}

/** Per-sample values shaped to multiply `[B, H, W, C]` images (see {@link column}). */
export function perSampleImage(values: ArrayLike<number>, shape: readonly [number, number, number, number]): tf.Tensor4D {
  const [b, h, w, c] = shape;
  return tf.reshape(column(values, onCpu() ? h * w * c : 1), onCpu() ? [b, h, w, c] : [b, 1, 1, 1]) as tf.Tensor4D;
}

/**
 * Separable bilinear resampling: output row `i` of sample `b` reads the input
 * at (fractional) row `rowPos[b·outH + i]`, output column `j` at
 * `colPos[b·outW + j]`; positions must already lie in `[0, H − 1]` and
 * `[0, W − 1]`. Integer positions copy values exactly.
 */
export function resampleSeparable(
  images: tf.Tensor4D,
  rowPos: Float64Array,
  colPos: Float64Array,
  outH: number,
  outW: number,
): tf.Tensor4D {
  const [b, h, w, c] = images.shape;
  return tf.tidy(() => {
    const rowsIdentity = outH === h && isIdentity(rowPos, b, h);
    const colsIdentity = outW === w && isIdentity(colPos, b, w);
    if (rowsIdentity && colsIdentity) return tf.clone(images);
    if (onCpu()) return resampleCpu(images, rowPos, colPos, outH, outW, rowsIdentity, colsIdentity);
    // Each stage frees its inputs at once (nested tidies): the next stage then
    // writes into buffers still in cache, which matters for these large copies.
    let x = images;
    if (!rowsIdentity) {
      x = tf.tidy(() => tf.reshape(lerpRows(tf.reshape(images, [b * h, w * c]) as tf.Tensor2D, rowPos, b, h), [b, outH, w, c]) as tf.Tensor4D);
    }
    if (colsIdentity) return x;
    const rows = x.shape[1];
    // With one channel the transposes are plain 3-D ones (≈ 3× faster on wasm than moving 3-float pixels).
    const swap = (t: tf.Tensor, d1: number, d2: number): tf.Tensor =>
      c === 1 ? tf.reshape(tf.transpose(tf.reshape(t, [b, d1, d2]), [0, 2, 1]), [b, d2, d1, 1]) : tf.transpose(t, [0, 2, 1, 3]);
    const rowsDone = x;
    const t = tf.tidy(() => tf.reshape(swap(rowsDone, rows, w), [b * w, rows * c]) as tf.Tensor2D);
    if (rowsDone !== images) rowsDone.dispose();
    const cols = tf.tidy(() => lerpRows(t, colPos, b, w));
    t.dispose();
    return swap(tf.reshape(cols, [b, outW, rows, c]), outW, rows) as tf.Tensor4D;
  });
}

function isIdentity(pos: Float64Array, b: number, size: number): boolean {
  for (let s = 0; s < b; s++) for (let i = 0; i < size; i++) if (pos[s * size + i] !== i) return false;
  return true;
}

/** Rows of `x` ([B·size, D], `size` rows per sample) interpolated at positions `pos` ([B·out]). */
function lerpRows(x: tf.Tensor2D, pos: Float64Array, b: number, size: number): tf.Tensor2D {
  const out = pos.length / b;
  const i0 = new Int32Array(pos.length);
  const i1 = new Int32Array(pos.length);
  const frac = new Float32Array(pos.length);
  let fractional = false;
  for (let s = 0; s < b; s++) {
    for (let k = 0; k < out; k++) {
      const p = pos[s * out + k] as number;
      const f = Math.floor(p);
      i0[s * out + k] = s * size + f;
      i1[s * out + k] = s * size + Math.min(f + 1, size - 1);
      frac[s * out + k] = p - f;
      if (p !== f) fractional = true;
    }
  }
  const r0 = takeRows(x, i0);
  if (!fractional) return r0;
  const diff = tf.tidy(() => tf.sub(takeRows(x, i1), r0));
  const step = tf.tidy(() => tf.mul(diff, tf.tensor2d(frac, [pos.length, 1])));
  diff.dispose();
  const lerped = tf.add(r0, step) as tf.Tensor2D;
  tf.dispose([r0, step]);
  return lerped;
}

function resampleCpu(
  images: tf.Tensor4D,
  rowPos: Float64Array,
  colPos: Float64Array,
  outH: number,
  outW: number,
  rowsIdentity: boolean,
  colsIdentity: boolean,
): tf.Tensor4D {
  // crop_and_resize with one 1-pixel-high crop per output row (then one
  // 1-pixel-wide crop per output column) samples exactly the given, clamped
  // positions; one crop per sample could only express an unclamped linear map.
  const [b, h, w, c] = images.shape;
  let x = images;
  if (!rowsIdentity) {
    const boxes = new Float32Array(b * outH * 4);
    const ind = new Int32Array(b * outH);
    let fractional = false;
    for (let k = 0; k < b * outH; k++) {
      const p = rowPos[k] as number;
      const y = h > 1 ? p / (h - 1) : 0;
      boxes[k * 4] = y;
      boxes[k * 4 + 2] = y;
      boxes[k * 4 + 3] = 1;
      ind[k] = Math.floor(k / outH);
      if (p !== Math.floor(p)) fractional = true;
    }
    const rows = tf.image.cropAndResize(x, tf.tensor2d(boxes, [b * outH, 4]), tf.tensor1d(ind, 'int32'), [1, w], fractional ? 'bilinear' : 'nearest');
    x = tf.reshape(rows, [b, outH, w, c]) as tf.Tensor4D;
  }
  if (colsIdentity) return x;
  const rows = x.shape[1];
  const boxes = new Float32Array(b * outW * 4);
  const ind = new Int32Array(b * outW);
  let fractional = false;
  for (let k = 0; k < b * outW; k++) {
    const p = colPos[k] as number;
    const xn = w > 1 ? p / (w - 1) : 0;
    boxes[k * 4 + 1] = xn;
    boxes[k * 4 + 2] = 1;
    boxes[k * 4 + 3] = xn;
    ind[k] = Math.floor(k / outW);
    if (p !== Math.floor(p)) fractional = true;
  }
  const cols = tf.image.cropAndResize(x, tf.tensor2d(boxes, [b * outW, 4]), tf.tensor1d(ind, 'int32'), [rows, 1], fractional ? 'bilinear' : 'nearest');
  return tf.transpose(tf.reshape(cols, [b, outW, rows, c]), [0, 2, 1, 3]) as tf.Tensor4D;
}

/**
 * Exact integer crops of equal size: crop `n` is rows `tops[n] … + h − 1`,
 * columns `lefts[n] … + w − 1` of sample `sample[n]`, as one
 * nearest-neighbour `cropAndResize` whose box corners land on pixel centres
 * (so every output pixel is a copied input value). Returns `[N, h, w, C]`.
 */
export function cropExact(images: tf.Tensor4D, sample: Int32Array, tops: Int32Array, lefts: Int32Array, h: number, w: number): tf.Tensor4D {
  const [, H, W] = images.shape;
  const n = sample.length;
  const boxes = new Float32Array(n * 4);
  // Sample positions t + i + 0.05 − 0.1·i/(h − 1): within 0.05 of the pixel
  // centre and inside the image, so rounding picks it on every backend, and
  // the box scale is never exactly 1 (the wasm kernel's unit-scale fast path
  // drops the box's x offset in tfjs 4.22).
  const edge = (start: number, size: number, extent: number): [number, number] =>
    extent <= 1 ? [0, 0] : size === 1 ? [start / (extent - 1), start / (extent - 1)] : [(start + 0.05) / (extent - 1), (start + size - 1 - 0.05) / (extent - 1)];
  for (let k = 0; k < n; k++) {
    const [y1, y2] = edge(tops[k] as number, h, H);
    const [x1, x2] = edge(lefts[k] as number, w, W);
    boxes[k * 4] = y1;
    boxes[k * 4 + 1] = x1;
    boxes[k * 4 + 2] = y2;
    boxes[k * 4 + 3] = x2;
  }
  return tf.tidy(() => tf.image.cropAndResize(images, tf.tensor2d(boxes, [n, 4]), tf.tensor1d(sample, 'int32'), [h, w], 'nearest') as tf.Tensor4D);
}

/**
 * {@link applyToSubset} for colour planes: `fn` sees only the rows (samples)
 * with `mask[i] = 1`; the other rows are passed through bit-identical.
 */
export function applyToPlaneSubset(
  planes: Planes,
  mask: ArrayLike<number>,
  fn: (subset: Planes, indices: Int32Array) => Planes,
): Planes {
  const n = planes[0].shape[0];
  const picked: number[] = [];
  for (let i = 0; i < n; i++) if (mask[i]) picked.push(i);
  if (picked.length === 0) return planes.map((p) => tf.clone(p)) as Planes;
  const indices = Int32Array.from(picked);
  return tf.tidy(() => {
    if (picked.length === n) return fn(planes, indices);
    const out = fn(planes.map((p) => takeRows(p, indices)) as Planes, indices);
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    picked.forEach((orig, k) => {
      idx[orig] = n + k;
    });
    return planes.map((p, c) => takeRows(tf.concat([p, out[c] as tf.Tensor2D], 0) as tf.Tensor2D, idx)) as Planes;
  });
}

