/*
 * Gradients of a depthwise 2-D convolution in NHWC with channel multiplier q:
 *
 *   x [n, h, w, c]   w [kh, kw, c, q]   y [n, oh, ow, c*q]
 *   y[b, oy, ox, ci*q + j] = sum_{ky,kx} x[b, oy*sh + ky*dh - pt, ox*sw + kx*dw - pl, ci] * w[ky, kx, ci, j]
 *
 * Both gradients walk the output rows once and, for each tap, the span of
 * output columns whose input column lies inside the image, so padding costs
 * nothing and the rows being read stay in cache across the kh*kw taps. The
 * arithmetic is elementwise over channels, so it is vectorised over c (q = 1,
 * the common case); q > 1 takes a scalar path.
 */
#include "simd.h"

/* acc[0..c) += a[0..c) * b[0..c) */
INLINE void madd_row(float *acc, const float *a, const float *b, int c) {
  int ci = 0;
  for (; ci + 16 <= c; ci += 16) {
    V_STORE(acc + ci, V_MADD(V_LOAD(acc + ci), V_LOAD(a + ci), V_LOAD(b + ci)));
    V_STORE(acc + ci + 4, V_MADD(V_LOAD(acc + ci + 4), V_LOAD(a + ci + 4), V_LOAD(b + ci + 4)));
    V_STORE(acc + ci + 8, V_MADD(V_LOAD(acc + ci + 8), V_LOAD(a + ci + 8), V_LOAD(b + ci + 8)));
    V_STORE(acc + ci + 12, V_MADD(V_LOAD(acc + ci + 12), V_LOAD(a + ci + 12), V_LOAD(b + ci + 12)));
  }
  for (; ci + 4 <= c; ci += 4) V_STORE(acc + ci, V_MADD(V_LOAD(acc + ci), V_LOAD(a + ci), V_LOAD(b + ci)));
  for (; ci < c; ci++) acc[ci] += a[ci] * b[ci];
}

/* Work units of depthwise_backprop_filter: groups of 16 input channels. */
EXPORT(depthwise_backprop_filter_units)
int depthwise_backprop_filter_units(int c) { return (c + 15) / 16; }

/*
 * dw[ky][kx][ci][j] = sum over output pixels of x[.., ci] * dy[.., ci*q + j],
 * for the channel groups [begin, end) of depthwise_backprop_filter_units.
 * For q = 1 the per-tap sums over one output row are kept in registers, 16
 * channels at a time, and added to dw once per row. Each channel's sums are
 * the same lane arithmetic whichever width handles it, so any split gives
 * the same bits.
 */
EXPORT(depthwise_backprop_filter)
void depthwise_backprop_filter(const float *x, const float *dy, float *dwt,
                               int n, int h, int w, int c, int oh, int ow, int q, int kh, int kw,
                               int sh, int sw, int dh, int dw, int pt, int pl, int begin, int end) {
  const int cq = c * q;
  const int c0 = 16 * begin, c1 = min_i(c, 16 * end);
  for (int t = 0; t < kh * kw; t++) zero_floats(dwt + (size_t)t * cq + (size_t)c0 * q, (size_t)(c1 - c0) * q);
  for (int b = 0; b < n; b++) {
    for (int oy = 0; oy < oh; oy++) {
      const float *dy_row = dy + (((size_t)b * oh + oy) * ow) * cq;
      for (int ky = 0; ky < kh; ky++) {
        const int ih = oy * sh + ky * dh - pt;
        if (ih < 0 || ih >= h) continue;
        const float *x_row = x + (((size_t)b * h + ih) * w) * c;
        for (int kx = 0; kx < kw; kx++) {
          const int off = kx * dw - pl;
          int lo, hi;
          valid_range(w, sw, off, ow, &lo, &hi);
          if (lo >= hi) continue;
          float *tap = dwt + (size_t)(ky * kw + kx) * cq;
          if (q == 1) {
            int ci = c0;
            for (; ci + 16 <= c1; ci += 16) {
              v128_t a0 = V_ZERO(), a1 = a0, a2 = a0, a3 = a0;
              for (int ox = lo; ox < hi; ox++) {
                const float *xp = x_row + (size_t)(ox * sw + off) * c + ci;
                const float *dp = dy_row + (size_t)ox * c + ci;
                a0 = V_MADD(a0, V_LOAD(xp), V_LOAD(dp));
                a1 = V_MADD(a1, V_LOAD(xp + 4), V_LOAD(dp + 4));
                a2 = V_MADD(a2, V_LOAD(xp + 8), V_LOAD(dp + 8));
                a3 = V_MADD(a3, V_LOAD(xp + 12), V_LOAD(dp + 12));
              }
              V_STORE(tap + ci, V_ADD(V_LOAD(tap + ci), a0));
              V_STORE(tap + ci + 4, V_ADD(V_LOAD(tap + ci + 4), a1));
              V_STORE(tap + ci + 8, V_ADD(V_LOAD(tap + ci + 8), a2));
              V_STORE(tap + ci + 12, V_ADD(V_LOAD(tap + ci + 12), a3));
            }
            for (; ci + 4 <= c1; ci += 4) {
              v128_t a0 = V_ZERO();
              for (int ox = lo; ox < hi; ox++) {
                a0 = V_MADD(a0, V_LOAD(x_row + (size_t)(ox * sw + off) * c + ci), V_LOAD(dy_row + (size_t)ox * c + ci));
              }
              V_STORE(tap + ci, V_ADD(V_LOAD(tap + ci), a0));
            }
            for (; ci < c1; ci++) {
              float s = 0.0f;
              for (int ox = lo; ox < hi; ox++) s += x_row[(size_t)(ox * sw + off) * c + ci] * dy_row[(size_t)ox * c + ci];
              tap[ci] += s;
            }
          } else {
            for (int ox = lo; ox < hi; ox++) {
              const float *xp = x_row + (size_t)(ox * sw + off) * c;
              const float *dp = dy_row + (size_t)ox * cq;
              for (int ci = c0; ci < c1; ci++) {
                const float xv = xp[ci];
                for (int j = 0; j < q; j++) tap[ci * q + j] += xv * dp[ci * q + j];
              }
            }
          }
        }
      }
    }
  }
}

/*
 * dx[b][ih][iw][ci] = sum over the taps and output pixels that read it of
 * sum_j dy[.., ci*q + j] * w[ky][kx][ci][j]: scattered from each output pixel,
 * for the images [begin, end) (the work units).
 */
EXPORT(depthwise_backprop_input)
void depthwise_backprop_input(const float *dy, const float *wt, float *dx,
                              int n, int h, int w, int c, int oh, int ow, int q, int kh, int kw,
                              int sh, int sw, int dh, int dw, int pt, int pl, int begin, int end) {
  const int cq = c * q;
  (void)n;
  zero_floats(dx + (size_t)begin * h * w * c, (size_t)(end - begin) * h * w * c);
  for (int b = begin; b < end; b++) {
    for (int oy = 0; oy < oh; oy++) {
      const float *dy_row = dy + (((size_t)b * oh + oy) * ow) * cq;
      for (int ky = 0; ky < kh; ky++) {
        const int ih = oy * sh + ky * dh - pt;
        if (ih < 0 || ih >= h) continue;
        float *dx_row = dx + (((size_t)b * h + ih) * w) * c;
        for (int kx = 0; kx < kw; kx++) {
          const int off = kx * dw - pl;
          int lo, hi;
          valid_range(w, sw, off, ow, &lo, &hi);
          const float *tap = wt + (size_t)(ky * kw + kx) * cq;
          for (int ox = lo; ox < hi; ox++) {
            float *xp = dx_row + (size_t)(ox * sw + off) * c;
            const float *dp = dy_row + (size_t)ox * cq;
            if (q == 1) {
              madd_row(xp, dp, tap, c);
            } else {
              for (int ci = 0; ci < c; ci++) {
                float s = 0.0f;
                for (int j = 0; j < q; j++) s += dp[ci * q + j] * tap[ci * q + j];
                xp[ci] += s;
              }
            }
          }
        }
      }
    }
  }
}
