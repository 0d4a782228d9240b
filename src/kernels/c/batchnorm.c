/*
 * Batch normalisation over the leading axes of x [rows, cols] (channels
 * last), forward and backward, in as few passes over x as the arithmetic
 * allows.
 *
 * tfjs-layers normalises a training batch with tfjs ops: moments (a mean, a
 * subtraction, a square and a second mean), then FusedBatchNorm; its
 * gradient is some twenty more element-wise ops over the activation
 * (tfjs-core's FusedBatchNorm gradient plus those of the moments). Here:
 *
 *   forward   two reading passes for the statistics (the mean, then the
 *             variance about it, so no catastrophic cancellation), one
 *             pass writing y = (x - mean) * (scale / sqrt(var + eps)) + offset;
 *   backward  one reading pass for the per-channel sums of dy and
 *             dy * (x - mean), one pass writing dx = k1 dy + k2 (x - mean) + k3.
 *
 * The statistics are the same float32 sums, in the same order, as tfjs's
 * moments with selfsup's Mean kernel (sum_leading_axes in reduce.c: blocks of
 * rows summed per column, each block's partial added to the total, then
 * multiplied by 1 / rows), so mean and variance are bit-for-bit those of the
 * composition.
 *
 * Work splits into independent ranges for threads: the reductions over
 * channels [c0, c1) (each channel's sum keeps its order whatever the split,
 * so results do not depend on the thread count), the element-wise passes
 * over rows [r0, r1).
 */
#include "simd.h"

/* Rows per block of the two-level sums: exactly sum_leading_axes's choice (reduce.c). */
INLINE int sum_block_rows(int cols) { return cols > 64 ? max_i(1, 8192 / cols) : 128; }

/*
 * out[j] = scale * sum over r of f(x[r][j]) for j in [c0, c1), where f is the
 * identity (center == 0) or (x - center[j])^2, with sum_leading_axes's
 * blocking and per-column order.
 */
INLINE void column_sums(const float *x, const float *center, float *out, int rows, int cols, int c0, int c1, float scale) {
  const int block = sum_block_rows(cols);
  for (int j = c0; j < c1; j++) out[j] = 0.0f;
  for (int r0 = 0; r0 < rows; r0 += block) {
    const int rn = min_i(block, rows - r0);
    const float *xb = x + (size_t)r0 * cols;
    int j = c0;
    for (; j + 4 <= c1; j += 4) {
      v128_t acc = V_ZERO();
      const float *p = xb + j;
      if (center) {
        const v128_t m = V_LOAD(center + j);
        for (int r = 0; r < rn; r++, p += cols) {
          const v128_t d = wasm_f32x4_sub(V_LOAD(p), m);
          acc = V_ADD(acc, V_MUL(d, d));
        }
      } else {
        for (int r = 0; r < rn; r++, p += cols) acc = V_ADD(acc, V_LOAD(p));
      }
      V_STORE(out + j, V_ADD(V_LOAD(out + j), acc));
    }
    for (; j < c1; j++) {
      float s = 0.0f;
      const float *p = xb + j;
      if (center) {
        const float m = center[j];
        for (int r = 0; r < rn; r++, p += cols) {
          const float d = *p - m;
          s += d * d;
        }
      } else {
        for (int r = 0; r < rn; r++, p += cols) s += *p;
      }
      out[j] += s;
    }
  }
  for (int j = c0; j < c1; j++) out[j] *= scale;
}

/*
 * Per-channel mean and (biased) variance of x [rows, cols] over its rows, for
 * channels [c0, c1): tfjs's moments(x, leading axes) bit for bit.
 */
EXPORT(batch_norm_moments)
void batch_norm_moments(const float *x, float *mean, float *variance, int rows, int cols, int c0, int c1) {
  const float inv_rows = 1.0f / (float)rows;
  column_sums(x, 0, mean, rows, cols, c0, c1, inv_rows);
  column_sums(x, mean, variance, rows, cols, c0, c1, inv_rows);
}

/*
 * Per-channel factors of the normalisation for channels [c0, c1):
 * factor[j] = scale[j] / sqrt(variance[j] + eps) (scale 1 when null), as
 * 1 / sqrt in float32 first, then the product.
 */
EXPORT(batch_norm_factors)
void batch_norm_factors(const float *variance, const float *scale, float *factor, int cols, float eps, int c0, int c1) {
  (void)cols;
  for (int j = c0; j < c1; j++) {
    const float inv = 1.0f / __builtin_sqrtf(variance[j] + eps);
    factor[j] = scale ? scale[j] * inv : inv;
  }
}

/* y = (x - mean) * factor + offset for rows [r0, r1) (offset 0 when null); one mean, factor, offset per channel. */
EXPORT(batch_norm_apply)
void batch_norm_apply(const float *x, const float *mean, const float *factor, const float *offset, float *y,
                      int rows, int cols, int r0, int r1) {
  (void)rows;
  for (int r = r0; r < r1; r++) {
    const float *xr = x + (size_t)r * cols;
    float *yr = y + (size_t)r * cols;
    int j = 0;
    if (offset) {
      for (; j + 4 <= cols; j += 4) {
        const v128_t v = V_MUL(wasm_f32x4_sub(V_LOAD(xr + j), V_LOAD(mean + j)), V_LOAD(factor + j));
        V_STORE(yr + j, V_ADD(v, V_LOAD(offset + j)));
      }
      for (; j < cols; j++) yr[j] = (xr[j] - mean[j]) * factor[j] + offset[j];
    } else {
      for (; j + 4 <= cols; j += 4) {
        V_STORE(yr + j, V_MUL(wasm_f32x4_sub(V_LOAD(xr + j), V_LOAD(mean + j)), V_LOAD(factor + j)));
      }
      for (; j < cols; j++) yr[j] = (xr[j] - mean[j]) * factor[j];
    }
  }
}

/*
 * Backward, reading pass, channels [c0, c1): sums[j] = sum_r dy[r][j] and
 * sums[cols + j] = sum_r dy[r][j] * (x[r][j] - mean[j]), summed in blocks of
 * rows like the forward statistics.
 */
EXPORT(batch_norm_grad_sums)
void batch_norm_grad_sums(const float *dy, const float *x, const float *mean, float *sums, int rows, int cols, int c0, int c1) {
  const int block = sum_block_rows(cols);
  float *sdy = sums, *sdx = sums + cols;
  for (int j = c0; j < c1; j++) sdy[j] = sdx[j] = 0.0f;
  for (int r0 = 0; r0 < rows; r0 += block) {
    const int rn = min_i(block, rows - r0);
    const size_t base = (size_t)r0 * cols;
    int j = c0;
    for (; j + 4 <= c1; j += 4) {
      const v128_t m = V_LOAD(mean + j);
      v128_t a = V_ZERO(), b = V_ZERO();
      const float *g = dy + base + j, *p = x + base + j;
      for (int r = 0; r < rn; r++, g += cols, p += cols) {
        const v128_t gv = V_LOAD(g);
        a = V_ADD(a, gv);
        b = V_ADD(b, V_MUL(gv, wasm_f32x4_sub(V_LOAD(p), m)));
      }
      V_STORE(sdy + j, V_ADD(V_LOAD(sdy + j), a));
      V_STORE(sdx + j, V_ADD(V_LOAD(sdx + j), b));
    }
    for (; j < c1; j++) {
      const float m = mean[j];
      float a = 0.0f, b = 0.0f;
      const float *g = dy + base + j, *p = x + base + j;
      for (int r = 0; r < rn; r++, g += cols, p += cols) {
        a += *g;
        b += *g * (*p - m);
      }
      sdy[j] += a;
      sdx[j] += b;
    }
  }
}

/*
 * Backward, per channel j in [c0, c1), from the sums: the gradients of scale
 * and offset, and the coefficients of dx = k1 dy + k2 (x - mean) + k3, which
 * also carry the gradients dmean, dvariance that reach the statistics as
 * outputs (null when none): with M = rows, s = scale (1 when null) and
 * inv = 1 / sqrt(var + eps),
 *
 *   doffset = S(dy),  dscale = S(dy (x - mean)) inv,
 *   k1 = s inv,
 *   k2 = -s inv^3 S(dy (x - mean)) / M + 2 dvariance / M,
 *   k3 = -s inv S(dy) / M + dmean / M,
 *
 * computed in double. coef holds k1, k2, k3 as three rows of cols floats.
 */
EXPORT(batch_norm_grad_coefficients)
void batch_norm_grad_coefficients(const float *sums, const float *variance, const float *scale, const float *dmean,
                                  const float *dvariance, float *dscale, float *doffset, float *coef,
                                  int rows, int cols, float eps, int c0, int c1) {
  const double m = (double)rows;
  for (int j = c0; j < c1; j++) {
    const double s = scale ? (double)scale[j] : 1.0;
    const double inv = 1.0 / __builtin_sqrt((double)variance[j] + (double)eps);
    const double sdy = sums[j], sdx = sums[cols + j];
    if (doffset) doffset[j] = (float)sdy;
    if (dscale) dscale[j] = (float)(sdx * inv);
    coef[j] = (float)(s * inv);
    coef[cols + j] = (float)(-s * inv * inv * inv * sdx / m + (dvariance ? 2.0 * dvariance[j] / m : 0.0));
    coef[2 * cols + j] = (float)(-s * inv * sdy / m + (dmean ? dmean[j] / m : 0.0));
  }
}

/* Backward, writing pass, rows [r0, r1): dx = k1 dy + k2 (x - mean) + k3. */
EXPORT(batch_norm_grad_apply)
void batch_norm_grad_apply(const float *dy, const float *x, const float *mean, const float *coef, float *dx,
                           int rows, int cols, int r0, int r1) {
  (void)rows;
  const float *k1 = coef, *k2 = coef + cols, *k3 = coef + 2 * cols;
  for (int r = r0; r < r1; r++) {
    const size_t o = (size_t)r * cols;
    int j = 0;
    for (; j + 4 <= cols; j += 4) {
      const v128_t xc = wasm_f32x4_sub(V_LOAD(x + o + j), V_LOAD(mean + j));
      const v128_t v = V_ADD(V_MUL(V_LOAD(dy + o + j), V_LOAD(k1 + j)), V_MUL(xc, V_LOAD(k2 + j)));
      V_STORE(dx + o + j, V_ADD(v, V_LOAD(k3 + j)));
    }
    for (; j < cols; j++) dx[o + j] = dy[o + j] * k1[j] + (x[o + j] - mean[j]) * k2[j] + k3[j];
  }
}
