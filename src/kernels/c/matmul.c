/*
 * Matrix products, one or many (attention: 256 heads x [65 x 32] . [32 x 65],
 * where tfjs-backend-wasm runs at ~2 GFLOP/s against ~30 for one large
 * product). A transposed b is handled by the packing; a transposed a by the
 * addressing.
 *
 *   out[i] = op(a[i]) . op(b[i]),  op(a) [m x k], op(b) [k x n], i < batch,
 *   an operand with batch 1 is shared by every product.
 *
 * op(b) is packed one panel of 8 columns at a time, a block of k at a time
 * ([kl][8], zero past n), and multiplied by rows of op(a) four at a time with
 * the same 4 x 8 register tile as the convolution kernels. The work is split
 * into units that threads take in contiguous ranges (batch_matmul_units);
 * every output element is computed by one unit, in the same order of k
 * whatever the split, so any split gives the same bits.
 */
#include "gemm.h"

/*
 * k is taken in blocks of K_BLOCK so that the slice of op(a) a block reads
 * (K_BLOCK x m floats) stays in L2 while every panel of op(b) passes over
 * it; a long k (a weight gradient xᵀ·dy sums over every token of the batch)
 * would otherwise stream all of op(a) from memory once per panel. Each block
 * is summed from zero and added to the sum of the blocks before it.
 */
#define K_BLOCK 256

/* Rows of op(a) per work unit: a multiple of the 4-row tile (and of small_product's row pairs). */
#define MATMUL_ROW_BLOCK 64

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

INLINE int is_small(int k, int n) { return k == 0 || (n <= SMALL_N && k <= SMALL_K); }
INLINE int row_blocks(int m) { return (m + MATMUL_ROW_BLOCK - 1) / MATMUL_ROW_BLOCK; }

/*
 * Work units of batch_matmul. Small products: (product, block of rows).
 * Others: (product of b, panel of 8 columns, product of a sharing that b,
 * block of rows), rows innermost, so a thread's range packs each panel of b
 * once for all the products and rows it covers.
 */
EXPORT(batch_matmul_units)
int batch_matmul_units(int batch_a, int batch_b, int m, int k, int n) {
  const int batch = max_i(batch_a, batch_b);
  if (is_small(k, n)) return batch * row_blocks(m);
  return batch * (round_up(n, 8) / 8) * row_blocks(m);
}

/* Scratch per thread: one packed block of a panel, or a small product's copy of op(b). */
EXPORT(batch_matmul_scratch)
int batch_matmul_scratch(int k, int n) {
  if (is_small(k, n)) return max_i(1, k * round_up(n, 4)) * (int)sizeof(float);
  return min_i(k, K_BLOCK) * 8 * (int)sizeof(float);
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

/*
 * Rows [r0, r1) of one product against one packed block of a panel ([kl][8]):
 * out[r][p..p+cols) (+)= op(a)[r][k0..k0+kl) . panel, four rows at a time (the
 * same k order for a row whether it is in a group of four or in the tail).
 * ak is op(a) advanced to element k0.
 */
__attribute__((noinline)) static void panel_rows(const float *ak, int row_step, int k_step, const float *bp0, float *ob,
                                                 int n, int p, int cols, int r0, int r1, int kl, int accumulate) {
  int r = r0;
  for (; r + 4 <= r1; r += 4) {
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
    float *o = ob + (size_t)r * n + p;
    store_cols(o, c00, c01, cols, accumulate);
    store_cols(o + n, c10, c11, cols, accumulate);
    store_cols(o + 2 * (size_t)n, c20, c21, cols, accumulate);
    store_cols(o + 3 * (size_t)n, c30, c31, cols, accumulate);
  }
  for (; r < r1; r++) {
    const float *a0 = ak + (size_t)r * row_step;
    const float *bp = bp0;
    v128_t c00 = V_ZERO(), c01 = c00;
    for (int kk = 0; kk < kl; kk++, bp += 8) {
      const v128_t s = V_SPLAT_LOAD(a0 + (size_t)kk * k_step);
      c00 = V_MADD(c00, s, V_LOAD(bp));
      c01 = V_MADD(c01, s, V_LOAD(bp + 4));
    }
    store_cols(ob + (size_t)r * n + p, c00, c01, cols, accumulate);
  }
}

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

/* Rows [r0, r1) (r0 even) of one small product; bs receives op(b) as [k][ns]. */
static void small_product(const float *a, const float *b, float *out, float *bs, int m, int k, int n,
                          int row_step, int k_step, int trans_b, int r0, int r1) {
  (void)m;
  const int ns = round_up(n, 4);
  for (int kk = 0; kk < k; kk++) {
    float *dst = bs + (size_t)kk * ns;
    for (int j = 0; j < n; j++) dst[j] = trans_b ? b[(size_t)j * k + kk] : b[(size_t)kk * n + j];
    for (int j = n; j < ns; j++) dst[j] = 0.0f;
  }
  for (int r = r0; r < r1; r += 2) {
    const int two = r + 1 < r1;
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

/* Columns [p, p + 8) and rows [k0, k0 + kl) of op(b) as [kl][8], zero past n (gemm.h's packings). */
static void pack_panel_block(const float *b, int k, int n, int p, int k0, int kl, int trans_b, float *packed) {
  const int cols = min_i(8, n - p);
  if (trans_b) pack_nt(b + (size_t)p * k + k0, cols, kl, (size_t)k, 0, packed);
  else pack_nn(b + (size_t)k0 * n + p, kl, cols, (size_t)n, 0, packed);
}

/*
 * Work units [begin, end) of batch_matmul_units(batch_a, batch_b, m, k, n).
 * scratch: batch_matmul_scratch(k, n) bytes, this thread's own.
 */
EXPORT(batch_matmul)
void batch_matmul(const float *a, const float *b, float *out, float *scratch, int batch_a, int batch_b,
                  int m, int k, int n, int trans_a, int trans_b, int begin, int end) {
  const int batch = max_i(batch_a, batch_b), blocks = row_blocks(m);
  /* Row r of op(a) starts at a + r * row_step; its element kk is kk * k_step further. */
  const int row_step = trans_a ? 1 : k, k_step = trans_a ? m : 1;
  if (is_small(k, n)) {
    for (int u = begin; u < end;) {
      const int bi = u / blocks, last = min_i(end, (bi + 1) * blocks);
      const int r0 = (u % blocks) * MATMUL_ROW_BLOCK, r1 = min_i(m, ((last - 1) % blocks + 1) * MATMUL_ROW_BLOCK);
      float *ob = out + (size_t)bi * m * n;
      if (k == 0) zero_floats(ob + (size_t)r0 * n, (size_t)(r1 - r0) * n);
      else small_product(a + (size_t)(batch_a == 1 ? 0 : bi) * m * k, b + (size_t)(batch_b == 1 ? 0 : bi) * k * n, ob,
                         scratch, m, k, n, row_step, k_step, trans_b, r0, r1);
      u = last;
    }
    return;
  }
  const int panels = round_up(n, 8) / 8;
  /* Products of a per product of b: all of them when b is shared, else one. */
  const int per_b = batch_b == 1 ? batch : 1, segment = per_b * blocks;
  for (int k0 = 0; k0 < k; k0 += K_BLOCK) {
    const int kl = min_i(K_BLOCK, k - k0);
    for (int u = begin; u < end;) {
      /* The units of one (product of b, panel) in the range: one packing, then their rows. */
      const int seg = u / segment, last = min_i(end, (seg + 1) * segment);
      const int p = (seg % panels) * 8, bb = seg / panels, cols = min_i(8, n - p);
      pack_panel_block(b + (size_t)bb * k * n, k, n, p, k0, kl, trans_b, scratch);
      for (int v = u; v < last;) {
        const int within = v - seg * segment, ai = within / blocks, rb = within % blocks;
        const int bi = batch_b == 1 ? ai : bb;
        const int vlast = min_i(last, v - rb + blocks);
        const int r0 = rb * MATMUL_ROW_BLOCK, r1 = min_i(m, (rb + vlast - v) * MATMUL_ROW_BLOCK);
        panel_rows(a + (size_t)(batch_a == 1 ? 0 : bi) * m * k + (size_t)k0 * k_step, row_step, k_step, scratch,
                   out + (size_t)bi * m * n, n, p, cols, r0, r1, kl, k0 > 0);
        v = vlast;
      }
      u = last;
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
