/*
 * Elementwise kernels of the backward pass.
 */
#include "simd.h"

/*
 * out = dy * step(x): the ReLU gradient in one pass (tfjs composes it from
 * Step, Cast and Multiply, three passes over the activation). step(x) is 1
 * for x > 0, 0 otherwise and NaN for NaN, as tfjs's Step, so NaN inputs give
 * NaN gradients instead of silently zero ones. Elements [begin, end), begin
 * a multiple of 4 (each element's arithmetic is the same in either loop).
 */
EXPORT(relu_grad)
void relu_grad(const float *dy, const float *x, float *out, int begin, int end) {
  const v128_t one = wasm_f32x4_splat(1.0f), zero = V_ZERO();
  const int n = end;
  int i = begin;
  for (; i + 4 <= n; i += 4) {
    const v128_t xv = V_LOAD(x + i);
    v128_t s = wasm_v128_bitselect(one, zero, wasm_f32x4_gt(xv, zero));
    s = wasm_v128_or(s, wasm_v128_and(xv, wasm_f32x4_ne(xv, xv)));
    V_STORE(out + i, V_MUL(V_LOAD(dy + i), s));
  }
  for (; i < n; i++) {
    const float xv = x[i];
    const float s = xv > 0.0f ? 1.0f : (xv != xv ? xv : 0.0f);
    out[i] = dy[i] * s;
  }
}

/* step for the ReLU family: 1 where 0 < y (and y < 6 for relu6), 0 elsewhere, NaN for NaN (as tfjs's Step). */
INLINE v128_t activation_mask(v128_t y, int activation) {
  const v128_t one = wasm_f32x4_splat(1.0f), zero = V_ZERO();
  v128_t on = wasm_f32x4_gt(y, zero);
  if (activation == 2) on = wasm_v128_and(on, wasm_f32x4_lt(y, wasm_f32x4_splat(6.0f)));
  const v128_t s = wasm_v128_bitselect(one, zero, on);
  return wasm_v128_or(s, wasm_v128_and(y, wasm_f32x4_ne(y, y)));
}

INLINE float activation_mask_1(float y, int activation) {
  if (y != y) return y;
  return (y > 0.0f && (activation != 2 || y < 6.0f)) ? 1.0f : 0.0f;
}

/*
 * The gradient of y = act(z + bias) in one pass over dy [rows, cols], for
 * channels [c0, c1): dz = dy * act'(z) (act' read from the output y: 0 linear,
 * 1 relu, 2 relu6; dz is not written for linear, where it is dy) and, unless
 * db is null, db[j] = sum over rows of dz[r][j], summed in blocks of rows as
 * sum_leading_axes (reduce.c) does. tfjs computes the same with Step,
 * Multiply and Sum: three passes.
 */
EXPORT(bias_activation_grad)
void bias_activation_grad(const float *dy, const float *y, float *dz, float *db, int rows, int cols, int activation,
                          int c0, int c1) {
  const int block = cols > 64 ? max_i(1, 8192 / cols) : 128;
  if (db) for (int j = c0; j < c1; j++) db[j] = 0.0f;
  for (int r0 = 0; r0 < rows; r0 += block) {
    const int rn = min_i(block, rows - r0);
    const size_t base = (size_t)r0 * cols;
    int j = c0;
    for (; j + 4 <= c1; j += 4) {
      v128_t acc = V_ZERO();
      const float *g = dy + base + j;
      if (activation == 0) {
        for (int r = 0; r < rn; r++, g += cols) acc = V_ADD(acc, V_LOAD(g));
      } else {
        const float *p = y + base + j;
        float *o = dz + base + j;
        for (int r = 0; r < rn; r++, g += cols, p += cols, o += cols) {
          const v128_t v = V_MUL(V_LOAD(g), activation_mask(V_LOAD(p), activation));
          V_STORE(o, v);
          acc = V_ADD(acc, v);
        }
      }
      if (db) V_STORE(db + j, V_ADD(V_LOAD(db + j), acc));
    }
    for (; j < c1; j++) {
      float acc = 0.0f;
      for (int r = 0; r < rn; r++) {
        const size_t o = base + (size_t)r * cols + j;
        float v = dy[o];
        if (activation != 0) {
          v *= activation_mask_1(y[o], activation);
          dz[o] = v;
        }
        acc += v;
      }
      if (db) db[j] += acc;
    }
  }
}
