/*
 * Gradients of 2-D max and average pooling (NHWC), vectorised over channels.
 * tfjs-backend-wasm's MaxPoolGrad takes ~55× its forward pass.
 *
 * Both scatter from each output pixel onto the window it pooled, skipping the
 * window positions on padding, so overlapping windows (stride < window)
 * accumulate. The semantics are tfjs's, so the cpu and wasm backends agree:
 * max pooling sends the gradient to the first maximum of the window in
 * row-major order (NaN never wins; an all-NaN or all -inf window gets none),
 * and average pooling divides by the full window size, also at padded borders.
 * The work units are images ([begin, end)): their dx never overlap.
 */
#include "simd.h"

EXPORT(max_pool_grad)
void max_pool_grad(const float *x, const float *dy, float *dx, int n, int h, int w, int c, int oh, int ow,
                   int fh, int fw, int sh, int sw, int pt, int pl, int begin, int end) {
  (void)n;
  zero_floats(dx + (size_t)begin * h * w * c, (size_t)(end - begin) * h * w * c);
  const v128_t minus_inf = wasm_f32x4_splat(-__builtin_inff());
  for (int b = begin; b < end; b++) {
    for (int oy = 0; oy < oh; oy++) {
      const int y0 = oy * sh - pt;
      const int ky0 = max_i(0, -y0), ky1 = min_i(fh, h - y0);
      for (int ox = 0; ox < ow; ox++) {
        const int x0 = ox * sw - pl;
        const int kx0 = max_i(0, -x0), kx1 = min_i(fw, w - x0);
        const float *dyp = dy + (((size_t)b * oh + oy) * ow + ox) * c;
        const float *xb = x + ((size_t)b * h * w) * c;
        float *dxb = dx + ((size_t)b * h * w) * c;
        int ci = 0;
        for (; ci + 4 <= c; ci += 4) {
          v128_t best = minus_inf, arg = wasm_i32x4_splat(-1);
          for (int ky = ky0; ky < ky1; ky++) {
            for (int kx = kx0; kx < kx1; kx++) {
              const v128_t v = V_LOAD(xb + ((size_t)(y0 + ky) * w + (x0 + kx)) * c + ci);
              const v128_t gt = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, gt);
              arg = wasm_v128_bitselect(wasm_i32x4_splat(ky * fw + kx), arg, gt);
            }
          }
          const v128_t g = V_LOAD(dyp + ci);
          for (int ky = ky0; ky < ky1; ky++) {
            for (int kx = kx0; kx < kx1; kx++) {
              const v128_t hit = wasm_i32x4_eq(arg, wasm_i32x4_splat(ky * fw + kx));
              float *d = dxb + ((size_t)(y0 + ky) * w + (x0 + kx)) * c + ci;
              V_STORE(d, V_ADD(V_LOAD(d), wasm_v128_and(g, hit)));
            }
          }
        }
        for (; ci < c; ci++) {
          float best = -__builtin_inff();
          int arg = -1;
          for (int ky = ky0; ky < ky1; ky++) {
            for (int kx = kx0; kx < kx1; kx++) {
              const float v = xb[((size_t)(y0 + ky) * w + (x0 + kx)) * c + ci];
              if (v > best) {
                best = v;
                arg = ky * fw + kx;
              }
            }
          }
          if (arg >= 0) dxb[((size_t)(y0 + arg / fw) * w + (x0 + arg % fw)) * c + ci] += dyp[ci];
        }
      }
    }
  }
}

EXPORT(avg_pool_grad)
void avg_pool_grad(const float *dy, float *dx, int n, int h, int w, int c, int oh, int ow,
                   int fh, int fw, int sh, int sw, int pt, int pl, int begin, int end) {
  (void)n;
  zero_floats(dx + (size_t)begin * h * w * c, (size_t)(end - begin) * h * w * c);
  const float scale = 1.0f / (float)(fh * fw);
  const v128_t vscale = wasm_f32x4_splat(scale);
  for (int b = begin; b < end; b++) {
    for (int oy = 0; oy < oh; oy++) {
      const int y0 = oy * sh - pt;
      const int ky0 = max_i(0, -y0), ky1 = min_i(fh, h - y0);
      for (int ox = 0; ox < ow; ox++) {
        const int x0 = ox * sw - pl;
        const int kx0 = max_i(0, -x0), kx1 = min_i(fw, w - x0);
        const float *dyp = dy + (((size_t)b * oh + oy) * ow + ox) * c;
        float *dxb = dx + ((size_t)b * h * w) * c;
        for (int ky = ky0; ky < ky1; ky++) {
          for (int kx = kx0; kx < kx1; kx++) {
            float *d = dxb + ((size_t)(y0 + ky) * w + (x0 + kx)) * c;
            int ci = 0;
            for (; ci + 4 <= c; ci += 4) V_STORE(d + ci, V_ADD(V_LOAD(d + ci), V_MUL(V_LOAD(dyp + ci), vscale)));
            for (; ci < c; ci++) d[ci] += dyp[ci] * scale;
          }
        }
      }
    }
  }
}
