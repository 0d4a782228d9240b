/*
 * Optimizer updates, one pass per variable: tfjs's optimizers run each
 * update as a chain of element-wise ops (Adam: eleven passes over every
 * variable and its two moments, each a kernel call with its own output).
 * These compute the same float32 operations in the same order, so the new
 * values are bit-for-bit tfjs's on every backend (every step is one
 * correctly rounded IEEE operation: multiply, add, divide, square root).
 *
 * Element ranges [i0, i1) are independent, so the work splits over threads
 * without changing any result.
 */
#include "simd.h"

/*
 * tfjs's AdamOptimizer.applyGradients for one variable:
 *   m' = m * beta1 + g * (1 - beta1)
 *   v' = v * beta2 + (g * g) * (1 - beta2)
 *   x' = ((m' / bias1) / (sqrt(v' / bias2) + eps)) * (-lr) + x
 * with bias1 = 1 - beta1^t and bias2 = 1 - beta2^t read from tfjs's scalars
 * (pointers, so the step count never leaves the backend).
 */
EXPORT(adam_update)
void adam_update(const float *x, const float *m, const float *v, const float *g, float *x_out, float *m_out, float *v_out,
                 const float *bias1, const float *bias2, float beta1, float one_minus_beta1, float beta2,
                 float one_minus_beta2, float eps, float neg_lr, int i0, int i1) {
  const float b1 = *bias1, b2 = *bias2;
  const v128_t vb1 = wasm_f32x4_splat(beta1), vc1 = wasm_f32x4_splat(one_minus_beta1);
  const v128_t vb2 = wasm_f32x4_splat(beta2), vc2 = wasm_f32x4_splat(one_minus_beta2);
  const v128_t vbias1 = wasm_f32x4_splat(b1), vbias2 = wasm_f32x4_splat(b2);
  const v128_t veps = wasm_f32x4_splat(eps), vlr = wasm_f32x4_splat(neg_lr);
  int i = i0;
  for (; i + 4 <= i1; i += 4) {
    const v128_t gv = V_LOAD(g + i);
    const v128_t mv = V_ADD(V_MUL(V_LOAD(m + i), vb1), V_MUL(gv, vc1));
    const v128_t vv = V_ADD(V_MUL(V_LOAD(v + i), vb2), V_MUL(V_MUL(gv, gv), vc2));
    V_STORE(m_out + i, mv);
    V_STORE(v_out + i, vv);
    const v128_t mh = wasm_f32x4_div(mv, vbias1);
    const v128_t vh = wasm_f32x4_div(vv, vbias2);
    const v128_t step = V_MUL(wasm_f32x4_div(mh, V_ADD(wasm_f32x4_sqrt(vh), veps)), vlr);
    V_STORE(x_out + i, V_ADD(step, V_LOAD(x + i)));
  }
  for (; i < i1; i++) {
    const float gi = g[i];
    const float mi = m[i] * beta1 + gi * one_minus_beta1;
    const float vi = v[i] * beta2 + (gi * gi) * one_minus_beta2;
    m_out[i] = mi;
    v_out[i] = vi;
    x_out[i] = ((mi / b1) / (__builtin_sqrtf(vi / b2) + eps)) * neg_lr + x[i];
  }
}

/*
 * tfjs's MomentumOptimizer for one variable, with its scalars c = -lr and
 * mu (pointers to tfjs's tensors):
 *   a' = mu * a + g
 *   x' = c * a' + x                      (nesterov == 0)
 *   x' = c * (g + a' * mu) + x           (nesterov == 1)
 */
EXPORT(momentum_update)
void momentum_update(const float *x, const float *a, const float *g, float *x_out, float *a_out, const float *c_ptr,
                     const float *mu_ptr, int nesterov, int i0, int i1) {
  const float c = *c_ptr, mu = *mu_ptr;
  const v128_t vc = wasm_f32x4_splat(c), vmu = wasm_f32x4_splat(mu);
  int i = i0;
  if (nesterov) {
    for (; i + 4 <= i1; i += 4) {
      const v128_t gv = V_LOAD(g + i);
      const v128_t av = V_ADD(V_MUL(vmu, V_LOAD(a + i)), gv);
      V_STORE(a_out + i, av);
      V_STORE(x_out + i, V_ADD(V_MUL(vc, V_ADD(gv, V_MUL(av, vmu))), V_LOAD(x + i)));
    }
    for (; i < i1; i++) {
      const float ai = mu * a[i] + g[i];
      a_out[i] = ai;
      x_out[i] = c * (g[i] + ai * mu) + x[i];
    }
  } else {
    for (; i + 4 <= i1; i += 4) {
      const v128_t av = V_ADD(V_MUL(vmu, V_LOAD(a + i)), V_LOAD(g + i));
      V_STORE(a_out + i, av);
      V_STORE(x_out + i, V_ADD(V_MUL(vc, av), V_LOAD(x + i)));
    }
    for (; i < i1; i++) {
      const float ai = mu * a[i] + g[i];
      a_out[i] = ai;
      x_out[i] = c * ai + x[i];
    }
  }
}

/* tfjs's SGDOptimizer for one variable: x' = c * g + x with c = -lr (a pointer to tfjs's scalar). */
EXPORT(sgd_update)
void sgd_update(const float *x, const float *g, float *x_out, const float *c_ptr, int i0, int i1) {
  const float c = *c_ptr;
  const v128_t vc = wasm_f32x4_splat(c);
  int i = i0;
  for (; i + 4 <= i1; i += 4) V_STORE(x_out + i, V_ADD(V_MUL(vc, V_LOAD(g + i)), V_LOAD(x + i)));
  for (; i < i1; i++) x_out[i] = c * g[i] + x[i];
}
