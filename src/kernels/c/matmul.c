/*
 * Matrix products, one or many (attention: 256 heads x [65 x 32] . [32 x 65],
 * where tfjs-backend-wasm runs at ~2 GFLOP/s against ~30 for one large
 * product). A transposed b is handled by the packing; a transposed a by the
 * addressing (slow for long k: the caller transposes a first there).
 *
 *   out[i] = op(a[i]) . op(b[i]),  op(a) [m x k], op(b) [k x n], i < batch,
 *   an operand with batch 1 is shared by every product.
 *
 * op(b) is packed one panel of 8 columns at a time ([k][8], zero past n)
 * and multiplied by rows of op(a) four at a time with the same 4 x 8
 * register tile as the convolution kernels. The work is split into units
 * (product, panel, block of rows) that threads take in contiguous ranges.
 */
#include "simd.h"

/* Rows of op(a) per work unit: a multiple of the 4-row tile, so a row's tile never depends on the split. */
#define MATMUL_ROW_BLOCK 64

/* Work units of batch_matmul: (product, column panel of 8, block of MATMUL_ROW_BLOCK rows), rows innermost. */
EXPORT(batch_matmul_units)
int batch_matmul_units(int batch, int m, int n) {
  return batch * (round_up(n, 8) / 8) * ((m + MATMUL_ROW_BLOCK - 1) / MATMUL_ROW_BLOCK);
}

/* Scratch per thread: one packed panel of op(b). */
EXPORT(batch_matmul_scratch)
int batch_matmul_scratch(int k, int n) {
  (void)n;
  return k * 8 * (int)sizeof(float);
}

/* Packs columns p..p+7 of op(b) [k x n] as [k][8], zero past n. */
static void pack_b_panel(const float *b, int k, int n, int trans_b, int p, float *packed) {
  float *dst = packed;
  for (int kk = 0; kk < k; kk++, dst += 8) {
    for (int t = 0; t < 8; t++) {
      const int col = p + t;
      dst[t] = col < n ? (trans_b ? b[(size_t)col * k + kk] : b[(size_t)kk * n + col]) : 0.0f;
    }
  }
}

/* Stores the first `cols` (<= 8) lanes of v0|v1 at out. */
INLINE void store_cols(float *out, v128_t v0, v128_t v1, int cols) {
  if (cols == 8) {
    V_STORE(out, v0);
    V_STORE(out + 4, v1);
    return;
  }
  float tmp[8];
  V_STORE(tmp, v0);
  V_STORE(tmp + 4, v1);
  for (int t = 0; t < cols; t++) out[t] = tmp[t];
}

/*
 * Rows [r0, r1) of one product against one packed panel of 8 columns:
 * out[r][p..p+cols) = op(a)[r] . panel, four rows at a time (the same k order
 * for a row whether it is in a group of four or in the tail).
 */
__attribute__((noinline)) static void panel_rows(const float *ab, int row_step, int k_step, const float *bp0, float *ob, int n,
                                                 int p, int cols, int r0, int r1, int k) {
  int r = r0;
  for (; r + 4 <= r1; r += 4) {
    const float *a0 = ab + (size_t)r * row_step, *a1 = a0 + row_step, *a2 = a1 + row_step, *a3 = a2 + row_step;
    const float *bp = bp0;
    v128_t c00 = V_ZERO(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (int kk = 0; kk < k; kk++, bp += 8) {
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
    store_cols(o, c00, c01, cols);
    store_cols(o + n, c10, c11, cols);
    store_cols(o + 2 * (size_t)n, c20, c21, cols);
    store_cols(o + 3 * (size_t)n, c30, c31, cols);
  }
  for (; r < r1; r++) {
    const float *a0 = ab + (size_t)r * row_step;
    const float *bp = bp0;
    v128_t c00 = V_ZERO(), c01 = c00;
    for (int kk = 0; kk < k; kk++, bp += 8) {
      const v128_t s = V_SPLAT_LOAD(a0 + (size_t)kk * k_step);
      c00 = V_MADD(c00, s, V_LOAD(bp));
      c01 = V_MADD(c01, s, V_LOAD(bp + 4));
    }
    store_cols(ob + (size_t)r * n + p, c00, c01, cols);
  }
}

/*
 * Work units [begin, end) of batch_matmul_units(batch, m, n). Each output
 * element is computed by one unit, with the same k order whatever the split,
 * so any split gives the same bits. scratch: batch_matmul_scratch(k, n)
 * bytes, this thread's own.
 */
EXPORT(batch_matmul)
void batch_matmul(const float *a, const float *b, float *out, float *scratch, int batch_a, int batch_b,
                  int m, int k, int n, int trans_a, int trans_b, int begin, int end) {
  const int row_blocks = (m + MATMUL_ROW_BLOCK - 1) / MATMUL_ROW_BLOCK, panels = round_up(n, 8) / 8;
  /* Row r of op(a) starts at a + r * row_step; its element kk is kk * k_step further. */
  const int row_step = trans_a ? 1 : k, k_step = trans_a ? m : 1;
  int u = begin;
  while (u < end) {
    const int panel = (u / row_blocks) % panels, bi = u / row_blocks / panels;
    /* The units of this (product, panel) in the range: one packing, one sweep of their rows. */
    const int last = min_i(end, (u / row_blocks + 1) * row_blocks);
    const int p = panel * 8;
    pack_b_panel(b + (size_t)(batch_b == 1 ? 0 : bi) * k * n, k, n, trans_b, p, scratch);
    const int r0 = (u % row_blocks) * MATMUL_ROW_BLOCK, r1 = min_i(m, ((last - 1) % row_blocks + 1) * MATMUL_ROW_BLOCK);
    panel_rows(a + (size_t)(batch_a == 1 ? 0 : bi) * m * k, row_step, k_step, scratch, out + (size_t)bi * m * n, n, p,
               min_i(8, n - p), r0, r1, k);
    u = last;
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
