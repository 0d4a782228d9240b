/*
 * Matrix products, one or many (attention: 256 heads x [65 x 32] . [32 x 65],
 * where tfjs-backend-wasm runs at ~2 GFLOP/s against ~30 for one large
 * product). A transposed b is handled by the packing; a transposed a by the
 * addressing (slow for long k: the caller transposes a first there).
 *
 *   out[i] = op(a[i]) . op(b[i]),  op(a) [m x k], op(b) [k x n], i < batch,
 *   an operand with batch 1 is shared by every product.
 *
 * For each product op(b) is packed into panels of 8 columns ([n/8][k][8],
 * zero past n), a block of k at a time, and multiplied by rows of op(a) four
 * at a time with the same 4 x 8 register tile as the convolution kernels.
 */
#include "gemm.h"

/*
 * k is taken in blocks of K_BLOCK so that the packed block of op(b) (K_BLOCK x
 * n floats) stays in L2 while every row strip of op(a) streams past it; a
 * long k (a weight gradient xᵀ·dy sums over every token of the batch) would
 * otherwise stream all of op(b) from memory once per four rows.
 */
#define K_BLOCK 256

EXPORT(batch_matmul_scratch)
int batch_matmul_scratch(int k, int n) { return min_i(k, K_BLOCK) * round_up(n, 8) * (int)sizeof(float); }

/* Rows [k0, k0 + kl) of op(b) into panels of 8 columns, [n/8][kl][8], zero past n (gemm.h's packings). */
static void pack_b_block(const float *b, int k, int n, int k0, int kl, int trans_b, float *packed) {
  if (trans_b) pack_nt(b + k0, n, kl, (size_t)k, 0, packed);
  else pack_nn(b + (size_t)k0 * n, kl, n, (size_t)n, 0, packed);
}

/* Stores (or, when accumulate, adds) the first `cols` (<= 8) lanes of v0|v1 at out. */
INLINE void store_cols(float *out, v128_t v0, v128_t v1, int cols, int accumulate) {
  if (cols == 8) {
    if (accumulate) {
      v0 = V_ADD(V_LOAD(out), v0);
      v1 = V_ADD(V_LOAD(out + 4), v1);
    }
    V_STORE(out, v0);
    V_STORE(out + 4, v1);
    return;
  }
  float tmp[8];
  V_STORE(tmp, v0);
  V_STORE(tmp + 4, v1);
  for (int t = 0; t < cols; t++) out[t] = accumulate ? out[t] + tmp[t] : tmp[t];
}

/* out[m x n] (+)= op(a)[:, k0:k0+kl] . packed block; a's row r starts at a + r * row_step, element kk at kk * k_step. */
static void block_product(const float *a, const float *packed, float *out, int m, int n, int k0, int kl,
                          int row_step, int k_step, int accumulate) {
  const float *ak = a + (size_t)k0 * k_step;
  for (int p = 0; p < n; p += 8) {
    const float *bp0 = packed + (size_t)p * kl;
    const int cols = min_i(8, n - p);
    int r = 0;
    for (; r + 4 <= m; r += 4) {
      const float *a0 = ak + (size_t)r * row_step, *a1 = a0 + row_step, *a2 = a1 + row_step, *a3 = a2 + row_step;
      const float *bp = bp0;
      v128_t c00 = V_ZERO(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      for (int kk = 0; kk < kl; kk++, bp += 8) {
        const v128_t b0 = V_LOAD(bp), b1 = V_LOAD(bp + 4);
        const size_t off = (size_t)kk * k_step;
        v128_t s = V_SPLAT_LOAD(a0 + off);
        c00 = V_MADD(c00, s, b0);
        c01 = V_MADD(c01, s, b1);
        s = V_SPLAT_LOAD(a1 + off);
        c10 = V_MADD(c10, s, b0);
        c11 = V_MADD(c11, s, b1);
        s = V_SPLAT_LOAD(a2 + off);
        c20 = V_MADD(c20, s, b0);
        c21 = V_MADD(c21, s, b1);
        s = V_SPLAT_LOAD(a3 + off);
        c30 = V_MADD(c30, s, b0);
        c31 = V_MADD(c31, s, b1);
      }
      float *o = out + (size_t)r * n + p;
      store_cols(o, c00, c01, cols, accumulate);
      store_cols(o + n, c10, c11, cols, accumulate);
      store_cols(o + 2 * (size_t)n, c20, c21, cols, accumulate);
      store_cols(o + 3 * (size_t)n, c30, c31, cols, accumulate);
    }
    for (; r < m; r++) {
      const float *a0 = ak + (size_t)r * row_step;
      const float *bp = bp0;
      v128_t c00 = V_ZERO(), c01 = c00;
      for (int kk = 0; kk < kl; kk++, bp += 8) {
        const v128_t s = V_SPLAT_LOAD(a0 + (size_t)kk * k_step);
        c00 = V_MADD(c00, s, V_LOAD(bp));
        c01 = V_MADD(c01, s, V_LOAD(bp + 4));
      }
      store_cols(out + (size_t)r * n + p, c00, c01, cols, accumulate);
    }
  }
}

/*
 * Small products (attention heads: 17 x 16 . 16 x 17, a thousand per call),
 * where packing op(b) into panels cost more than the product and the 4 x 8
 * tile mostly ran its tails: op(b) is copied once into scratch, [k][ns] with
 * rows padded to ns = a multiple of 4 (transposed on the way when needed),
 * and two rows of op(a) at a time are multiplied against it, up to 16
 * columns (four vectors, eight accumulators) per pass.
 */
#define SMALL_N 32
#define SMALL_K 64

/* Two rows of op(a) times columns [j0, j0 + 4 * nv) of bs, stored (up to n) at out0 / out1. */
INLINE void small_rows(const float *a0, const float *a1, const float *bs, int ns, int j0, const int nv, int k, int k_step,
                       float *out0, float *out1, int n) {
  v128_t c0[4] = {V_ZERO(), V_ZERO(), V_ZERO(), V_ZERO()}, c1[4] = {V_ZERO(), V_ZERO(), V_ZERO(), V_ZERO()};
  const float *bp = bs + j0;
  for (int kk = 0; kk < k; kk++, bp += ns) {
    const v128_t s0 = V_SPLAT_LOAD(a0 + (size_t)kk * k_step), s1 = V_SPLAT_LOAD(a1 + (size_t)kk * k_step);
    for (int v = 0; v < nv; v++) {
      const v128_t b = V_LOAD(bp + 4 * v);
      c0[v] = V_MADD(c0[v], s0, b);
      c1[v] = V_MADD(c1[v], s1, b);
    }
  }
  for (int v = 0; v < nv; v++) {
    const int col = j0 + 4 * v;
    if (col + 4 <= n) {
      V_STORE(out0 + col, c0[v]);
      if (out1) V_STORE(out1 + col, c1[v]);
    } else {
      float t0[4], t1[4];
      V_STORE(t0, c0[v]);
      V_STORE(t1, c1[v]);
      for (int t = 0; col + t < n; t++) {
        out0[col + t] = t0[t];
        if (out1) out1[col + t] = t1[t];
      }
    }
  }
}

static void small_product(const float *a, const float *b, float *out, float *bs, int m, int k, int n,
                          int row_step, int k_step, int trans_b) {
  const int ns = round_up(n, 4);
  for (int kk = 0; kk < k; kk++) {
    float *dst = bs + (size_t)kk * ns;
    for (int j = 0; j < n; j++) dst[j] = trans_b ? b[(size_t)j * k + kk] : b[(size_t)kk * n + j];
    for (int j = n; j < ns; j++) dst[j] = 0.0f;
  }
  for (int r = 0; r < m; r += 2) {
    const int two = r + 1 < m;
    const float *a0 = a + (size_t)r * row_step, *a1 = two ? a0 + row_step : a0;
    float *o0 = out + (size_t)r * n, *o1 = two ? o0 + n : 0;
    for (int j0 = 0; j0 < ns; j0 += 16) {
      switch (min_i(4, (ns - j0) / 4)) {
        case 4: small_rows(a0, a1, bs, ns, j0, 4, k, k_step, o0, o1, n); break;
        case 3: small_rows(a0, a1, bs, ns, j0, 3, k, k_step, o0, o1, n); break;
        case 2: small_rows(a0, a1, bs, ns, j0, 2, k, k_step, o0, o1, n); break;
        default: small_rows(a0, a1, bs, ns, j0, 1, k, k_step, o0, o1, n); break;
      }
    }
  }
}

EXPORT(batch_matmul)
void batch_matmul(const float *a, const float *b, float *out, float *scratch, int batch_a, int batch_b,
                  int m, int k, int n, int trans_a, int trans_b) {
  const int batch = max_i(batch_a, batch_b);
  /* Row r of op(a) starts at a + r * row_step; its element kk is kk * k_step further. */
  const int row_step = trans_a ? 1 : k, k_step = trans_a ? m : 1;
  if (k == 0) {
    zero_floats(out, (size_t)batch * m * n);
    return;
  }
  if (n <= SMALL_N && k <= SMALL_K) {
    for (int bi = 0; bi < batch; bi++) {
      small_product(a + (size_t)(batch_a == 1 ? 0 : bi) * m * k, b + (size_t)(batch_b == 1 ? 0 : bi) * k * n,
                    out + (size_t)bi * m * n, scratch, m, k, n, row_step, k_step, trans_b);
    }
    return;
  }
  if (batch_b == 1) {
    /* One b for every product: each k block is packed once and used by all of them. */
    for (int k0 = 0; k0 < k; k0 += K_BLOCK) {
      const int kl = min_i(K_BLOCK, k - k0);
      pack_b_block(b, k, n, k0, kl, trans_b, scratch);
      for (int bi = 0; bi < batch; bi++) {
        block_product(a + (size_t)(batch_a == 1 ? 0 : bi) * m * k, scratch, out + (size_t)bi * m * n, m, n, k0, kl,
                      row_step, k_step, k0 > 0);
      }
    }
    return;
  }
  for (int bi = 0; bi < batch; bi++) {
    const float *ab = a + (size_t)(batch_a == 1 ? 0 : bi) * m * k;
    const float *bb = b + (size_t)bi * k * n;
    for (int k0 = 0; k0 < k; k0 += K_BLOCK) {
      const int kl = min_i(K_BLOCK, k - k0);
      pack_b_block(bb, k, n, k0, kl, trans_b, scratch);
      block_product(ab, scratch, out + (size_t)bi * m * n, m, n, k0, kl, row_step, k_step, k0 > 0);
    }
  }
}

/*
 * out = transpose(x, perm) for rank <= 6 (dims and perm leading-padded to 6).
 * tfjs-backend-wasm transposes rank-5 tensors at ~20 M elements/s (the
 * [b, t, 3, heads, d] -> [3, b, heads, t, d] split of a fused qkv projection).
 * When the last axis stays last, rows of it are copied whole.
 */
EXPORT(transpose6)
void transpose6(const float *x, float *out, int d0, int d1, int d2, int d3, int d4, int d5,
                int p0, int p1, int p2, int p3, int p4, int p5) {
  const int dims[6] = {d0, d1, d2, d3, d4, d5};
  const int perm[6] = {p0, p1, p2, p3, p4, p5};
  size_t in_stride[6];
  in_stride[5] = 1;
  for (int d = 4; d >= 0; d--) in_stride[d] = in_stride[d + 1] * (size_t)dims[d + 1];
  int out_dims[6];
  size_t stride[6]; /* input stride of each output axis */
  size_t total = 1;
  for (int d = 0; d < 6; d++) {
    out_dims[d] = dims[perm[d]];
    stride[d] = in_stride[perm[d]];
    total *= (size_t)out_dims[d];
  }
  if (total == 0) return;
  const int row = perm[5] == 5 ? out_dims[5] : 1; /* contiguous run copied at once */
  const int inner = perm[5] == 5 ? 1 : out_dims[5];
  int idx[5] = {0, 0, 0, 0, 0};
  for (size_t o = 0; o < total; o += (size_t)out_dims[5]) {
    size_t src = 0;
    for (int d = 0; d < 5; d++) src += (size_t)idx[d] * stride[d];
    if (row > 1) {
      __builtin_memcpy(out + o, x + src, (size_t)row * sizeof(float));
    } else {
      const size_t s5 = stride[5];
      for (int t = 0; t < inner; t++) out[o + t] = x[src + (size_t)t * s5];
    }
    for (int d = 4; d >= 0; d--) {
      if (++idx[d] < out_dims[d]) break;
      idx[d] = 0;
    }
  }
}
