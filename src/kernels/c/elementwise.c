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
