/*
 * GELU, x Φ(x) with Φ the standard normal CDF (the transformer MLP's
 * activation, src/heads/transformer.ts), forward and backward in one pass
 * each. tfjs composes it from five kernels forward (its Erf calls a scalar
 * function per element) and about ten backward (Exp among them).
 *
 * Φ(x) = erfc(-x / √2) / 2 with erfc from Abramowitz & Stegun 7.1.26
 * (|error| ≤ 1.5e-7, the approximation tfjs's cpu backend uses for erf):
 * erfc(a) = (a1 t + … + a5 t⁵) exp(-a²), t = 1 / (1 + p a) for a ≥ 0, and
 * 2 - erfc(-a) below 0. Taking erfc directly keeps Φ accurate in the lower
 * tail, where 1 + erf cancels. exp is vmath.h's (≤ 1.3 ulp).
 *
 * Element ranges [i0, i1) are independent (threads split them freely).
 */
#include "vmath.h"

/* Φ(x) and the normal density φ(x) = exp(-x²/2) / √(2π), four at a time. */
INLINE void normal_cdf_pdf(v128_t x, v128_t *cdf, v128_t *pdf) {
  const v128_t a = wasm_f32x4_abs(V_MUL(x, wasm_f32x4_splat(0.70710678118654752f)));
  const v128_t t = wasm_f32x4_div(wasm_f32x4_splat(1.0f), V_ADD(wasm_f32x4_splat(1.0f), V_MUL(a, wasm_f32x4_splat(0.3275911f))));
  v128_t poly = wasm_f32x4_splat(1.061405429f);
  poly = V_ADD(V_MUL(poly, t), wasm_f32x4_splat(-1.453152027f));
  poly = V_ADD(V_MUL(poly, t), wasm_f32x4_splat(1.421413741f));
  poly = V_ADD(V_MUL(poly, t), wasm_f32x4_splat(-0.284496736f));
  poly = V_ADD(V_MUL(poly, t), wasm_f32x4_splat(0.254829592f));
  poly = V_MUL(poly, t);
  const v128_t e = v_exp(wasm_f32x4_neg(V_MUL(a, a))); /* exp(-x²/2) */
  const v128_t half_tail = V_MUL(wasm_f32x4_splat(0.5f), V_MUL(poly, e)); /* Φ(-|x|) = erfc(|x|/√2) / 2 */
  const v128_t negative = wasm_f32x4_lt(x, V_ZERO());
  *cdf = wasm_v128_bitselect(half_tail, wasm_f32x4_sub(wasm_f32x4_splat(1.0f), half_tail), negative);
  *pdf = V_MUL(e, wasm_f32x4_splat(0.39894228040143268f));
}

INLINE float normal_cdf_pdf_1(float x, float *pdf) {
  v128_t c, p;
  normal_cdf_pdf(wasm_f32x4_splat(x), &c, &p);
  *pdf = wasm_f32x4_extract_lane(p, 0);
  return wasm_f32x4_extract_lane(c, 0);
}

/* y = x Φ(x) for elements [i0, i1). */
EXPORT(gelu_forward)
void gelu_forward(const float *x, float *y, int i0, int i1) {
  int i = i0;
  for (; i + 4 <= i1; i += 4) {
    const v128_t xv = V_LOAD(x + i);
    v128_t c, p;
    normal_cdf_pdf(xv, &c, &p);
    V_STORE(y + i, V_MUL(xv, c));
  }
  for (; i < i1; i++) {
    float p;
    y[i] = x[i] * normal_cdf_pdf_1(x[i], &p);
  }
}

/* dx = dy (Φ(x) + x φ(x)) for elements [i0, i1). */
EXPORT(gelu_backward)
void gelu_backward(const float *x, const float *dy, float *dx, int i0, int i1) {
  int i = i0;
  for (; i + 4 <= i1; i += 4) {
    const v128_t xv = V_LOAD(x + i);
    v128_t c, p;
    normal_cdf_pdf(xv, &c, &p);
    V_STORE(dx + i, V_MUL(V_LOAD(dy + i), V_ADD(c, V_MUL(xv, p))));
  }
  for (; i < i1; i++) {
    float p;
    const float c = normal_cdf_pdf_1(x[i], &p);
    dx[i] = dy[i] * (c + x[i] * p);
  }
}
