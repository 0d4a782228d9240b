/*
 * Shared helpers of selfsup's WebAssembly kernels.
 *
 * The kernels run inside the memory of tfjs's wasm backend (the module imports
 * it), so they must not own any static data: a data segment would be copied
 * over tfjs's heap at instantiation. Everything lives in buffers the caller
 * allocated with the backend's malloc, passed in as pointers. The build script
 * rejects a module with a data section.
 */
#ifndef SELFSUP_SIMD_H
#define SELFSUP_SIMD_H

#include <wasm_simd128.h>

typedef __SIZE_TYPE__ size_t;

#define EXPORT(name) __attribute__((export_name(#name))) 
#define INLINE static inline __attribute__((always_inline))

#define V_LOAD(p) wasm_v128_load(p)
#define V_STORE(p, v) wasm_v128_store((p), (v))
#define V_SPLAT_LOAD(p) wasm_v128_load32_splat(p)
#define V_ZERO() wasm_f32x4_splat(0.0f)
#define V_MUL wasm_f32x4_mul
#define V_ADD wasm_f32x4_add
#ifdef __wasm_relaxed_simd__
/*
 * a + b * c as f32x4.relaxed_madd (the relaxed-SIMD build): one fused
 * multiply-add where the hardware has FMA (x86 FMA3, ARM), else a multiply
 * and an add; which one is the runtime's choice, so the last bits of a
 * kernel's sums may differ between machines in this build (never within
 * one). clang 16 spells it as a builtin (wasm_simd128.h has no name for it yet).
 */
#define V_MADD(a, b, c) __builtin_wasm_relaxed_madd_f32x4((b), (c), (a))
#define SELFSUP_RELAXED_SIMD 1
#else
/* a + b * c without FMA: wasm SIMD128 has no fused multiply-add. */
#define V_MADD(a, b, c) wasm_f32x4_add((a), wasm_f32x4_mul((b), (c)))
#define SELFSUP_RELAXED_SIMD 0
#endif

INLINE int min_i(int a, int b) { return a < b ? a : b; }
INLINE int max_i(int a, int b) { return a > b ? a : b; }
INLINE int round_up(int a, int m) { return (a + m - 1) / m * m; }
/* ceil(a / b) for b > 0 and any sign of a (C division truncates toward zero). */
INLINE int ceil_div(int a, int b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/*
 * Output positions o in [*lo, *hi) whose input position o * stride + offset
 * lies in [0, size): the taps of a convolution that read inside the image
 * (the rest read padding, which contributes zero).
 */
INLINE void valid_range(int size, int stride, int offset, int out_size, int *lo, int *hi) {
  *lo = max_i(0, ceil_div(-offset, stride));
  *hi = min_i(out_size, ceil_div(size - offset, stride));
  if (*hi < *lo) *hi = *lo;
}

INLINE void zero_floats(float *p, size_t n) { __builtin_memset(p, 0, n * sizeof(float)); }

#endif
