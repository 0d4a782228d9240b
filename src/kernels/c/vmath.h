/*
 * Elementary functions for the fused loss kernels, freestanding (no libm):
 *
 *   v_exp   f32x4 exp, max relative error ~8e-8 (1.3 ulp) on [-87.3, 88.7]
 *           (measured over 2^21 points in tests/kernels/vmath.test.ts); 0 below
 *           -87.34 (no denormal results), +inf above 88.72, NaN for NaN.
 *   log_d   scalar double log for x > 0 (row log-sum-exps: one per row).
 *   exp_d   scalar double exp (the CLIP logit scale, once per call).
 *
 * tfjs-backend-wasm's Exp calls the scalar libc expf per element (~7 ns);
 * v_exp does four in ~20 SIMD instructions. Constants are instruction
 * immediates, never tables (the module must own no static data).
 */
#ifndef SELFSUP_VMATH_H
#define SELFSUP_VMATH_H

#include "simd.h"

typedef unsigned long long u64;

/*
 * exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n ln2 in [-ln2/2, ln2/2]
 * (ln2 split in two so n * ln2_hi is exact), exp(r) = 1 + r + r^2 p(r) with
 * p of degree 4 fitted for minimax relative error (fit error 3e-9, far below
 * float rounding). Every step is one x86 instruction under V8: the clamps are
 * pmin/pmax with the operand order that lets NaN through (f32x4.min/max cost
 * ~7 instructions each), n comes from the 1.5 * 2^23 rounding trick (no
 * nearest/trunc_sat), and 2^n is applied as 2^(n-1) * 2 so n = 128 (x just
 * below the overflow threshold) stays representable. Above 88.72 the result
 * overflows to +inf; below -86.6 it is 0 (results under ~2.5e-38 are flushed).
 */
INLINE v128_t v_exp(v128_t x) {
  x = wasm_f32x4_pmin(x, wasm_f32x4_splat(89.0f)); /* hi < x ? hi : x, so NaN stays */
  const v128_t under = wasm_f32x4_lt(x, wasm_f32x4_splat(-86.6f));
  x = wasm_f32x4_pmax(x, wasm_f32x4_splat(-86.6f)); /* x < lo ? lo : x, so NaN stays */
  const v128_t magic = wasm_f32x4_splat(12582912.0f); /* 1.5 * 2^23: adding it rounds to an integer */
  const v128_t t = V_ADD(V_MUL(x, wasm_f32x4_splat(1.44269504088896341f)), magic);
  const v128_t fx = wasm_f32x4_sub(t, magic);
  const v128_t n = wasm_i32x4_sub(t, magic); /* the integer n in the low mantissa bits */
  v128_t r = wasm_f32x4_sub(x, V_MUL(fx, wasm_f32x4_splat(0.693359375f)));
  r = wasm_f32x4_sub(r, V_MUL(fx, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.381461276e-03f);
  p = V_MADD(wasm_f32x4_splat(8.368710056e-03f), p, r);
  p = V_MADD(wasm_f32x4_splat(4.166838899e-02f), p, r);
  p = V_MADD(wasm_f32x4_splat(1.666652113e-01f), p, r);
  p = V_MADD(wasm_f32x4_splat(4.999999404e-01f), p, r);
  v128_t y = V_ADD(V_MADD(r, p, V_MUL(r, r)), wasm_f32x4_splat(1.0f));
  y = V_MUL(y, wasm_i32x4_shl(wasm_i32x4_add(n, wasm_i32x4_splat(126)), 23));
  return wasm_v128_andnot(V_ADD(y, y), under);
}

INLINE float exp_f(float x) { return wasm_f32x4_extract_lane(v_exp(wasm_f32x4_splat(x)), 0); }

INLINE u64 bits_d(double x) {
  u64 u;
  __builtin_memcpy(&u, &x, sizeof u);
  return u;
}

INLINE double from_bits_d(u64 u) {
  double x;
  __builtin_memcpy(&x, &u, sizeof x);
  return x;
}

/* log(x) for finite x > 0 (NaN for NaN, -inf for 0): x = 2^e m, m in [sqrt(1/2), sqrt(2)),
 * log m = 2 atanh(t) with t = (m-1)/(m+1), |t| < 0.172, series to t^21 (< 1e-17). */
static inline double log_d(double x) {
  if (x != x) return x;
  if (x <= 0.0) return x == 0.0 ? -__builtin_inf() : __builtin_nan("");
  if (x == __builtin_inf()) return x;
  u64 u = bits_d(x);
  int e = (int)((u >> 52) & 0x7ff);
  if (e == 0) { /* subnormal: scale up first */
    u = bits_d(x * 18014398509481984.0); /* 2^54 */
    e = (int)((u >> 52) & 0x7ff) - 54;
  }
  e -= 1023;
  double m = from_bits_d((u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e += 1;
  }
  const double t = (m - 1.0) / (m + 1.0), t2 = t * t;
  double s = 1.0 / 21.0;
  s = s * t2 + 1.0 / 19.0;
  s = s * t2 + 1.0 / 17.0;
  s = s * t2 + 1.0 / 15.0;
  s = s * t2 + 1.0 / 13.0;
  s = s * t2 + 1.0 / 11.0;
  s = s * t2 + 1.0 / 9.0;
  s = s * t2 + 1.0 / 7.0;
  s = s * t2 + 1.0 / 5.0;
  s = s * t2 + 1.0 / 3.0;
  s = s * t2 + 1.0;
  return 2.0 * t * s + (double)e * 0.6931471805599453;
}

/* exp(x) in double: n = round(x / ln2), Taylor series of exp(r) to r^14 for |r| <= ln2/2. */
static inline double exp_d(double x) {
  if (x != x) return x;
  if (x > 709.78) return __builtin_inf();
  if (x < -745.2) return 0.0;
  const double n = __builtin_nearbyint(x * 1.4426950408889634);
  const double r = (x - n * 0.6931471803691238) - n * 1.9082149292705877e-10;
  double p = 1.0 / 87178291200.0; /* 1/14! */
  p = p * r + 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  /* 2^n in two halves so n in [-1075, 1024] stays representable. */
  const int ni = (int)n, h = ni / 2;
  return p * from_bits_d((u64)(h + 1023) << 52) * from_bits_d((u64)(ni - h + 1023) << 52);
}

#endif
