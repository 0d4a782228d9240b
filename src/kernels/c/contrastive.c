/*
 * Fused forward and backward passes of the contrastive losses (NT-Xent,
 * InfoNCE with a shared queue of negatives, CLIP), the formulas of
 * src/losses/internal/contrastive.ts, with the L2 normalisation of the
 * embeddings (src/core/normalize.ts: y = x / max(|x|, eps)) folded in.
 *
 * Each forward computes the similarity products with the 4 x 8 SIMD tile,
 * takes row-wise log-sum-exps with the row maximum subtracted (vectorised
 * exp), and turns the matrix into what the backward multiplies (NT-Xent:
 * P + P^T; InfoNCE: the softmax; CLIP: G = dL/dlogits). Each backward is one
 * GEMM per input gradient (a transposed operand is read through small 4-row
 * panels), followed by the normalisation's Jacobian row by row; no N x N
 * temporaries.
 *
 * Every pass is a phase over a range of rows, blocks or columns [begin, end)
 * (its work units), run by the caller in order, each phase split over the
 * threads of selfsup's kernel pool. Every output element is computed by one
 * unit in a fixed order, and the per-row terms of a loss are stored and
 * summed in row order by one thread, so the results do not depend on the
 * number of threads (bit for bit).
 *
 * Conventions: row counts and dims are ints; "eps" is the normalisation
 * floor (1e-12); all accumulations that feed the loss value are double.
 */
#include "gemm.h"
#include "vmath.h"

/* ---------------------------------------------------------------- rows -- */

INLINE float hsum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) +
         wasm_f32x4_extract_lane(v, 3);
}

INLINE float hmax(v128_t v) {
  const float a = wasm_f32x4_extract_lane(v, 0), b = wasm_f32x4_extract_lane(v, 1);
  const float c = wasm_f32x4_extract_lane(v, 2), d = wasm_f32x4_extract_lane(v, 3);
  const float ab = a > b ? a : b, cd = c > d ? c : d;
  return ab > cd ? ab : cd;
}

static float dot(const float *a, const float *b, int d) {
  v128_t acc = V_ZERO();
  int j = 0;
  for (; j + 4 <= d; j += 4) acc = V_MADD(acc, V_LOAD(a + j), V_LOAD(b + j));
  float s = hsum(acc);
  for (; j < d; j++) s += a[j] * b[j];
  return s;
}

/* y = x / max(|x|, eps) for one row; returns |x|. */
static float normalize_row(const float *x, float *y, int d, float eps) {
  const float norm = __builtin_sqrtf(dot(x, x, d));
  const float denom = norm > eps ? norm : eps;
  const v128_t dv = wasm_f32x4_splat(denom);
  int j = 0;
  for (; j + 4 <= d; j += 4) V_STORE(y + j, wasm_f32x4_div(V_LOAD(x + j), dv));
  for (; j < d; j++) y[j] = x[j] / denom;
  return norm;
}

/*
 * The gradient of y = x / max(|x|, eps) for one row: dx = (g - y (y.g)) / |x|
 * above eps, g / eps below it (src/core/normalize.ts). y is `ys` scaled by
 * `yscale` (the queue's rows are normalised on the fly, never stored).
 */
static void normalize_row_backward(const float *g, const float *ys, float yscale, float norm, float eps, float *dx,
                                   int d) {
  const float denom = norm > eps ? norm : eps;
  const float radial = norm > eps ? dot(g, ys, d) * yscale * yscale : 0.0f;
  const v128_t rv = wasm_f32x4_splat(radial), dv = wasm_f32x4_splat(denom);
  int j = 0;
  for (; j + 4 <= d; j += 4) {
    V_STORE(dx + j, wasm_f32x4_div(wasm_f32x4_sub(V_LOAD(g + j), V_MUL(V_LOAD(ys + j), rv)), dv));
  }
  for (; j < d; j++) dx[j] = (g[j] - ys[j] * radial) / denom;
}

/* A short row copy (memory.copy is a runtime call in V8: slow for 128 bytes). */
INLINE void copy_floats(float *dst, const float *src, int n) {
  int t = 0;
  for (; t + 4 <= n; t += 4) V_STORE(dst + t, V_LOAD(src + t));
  for (; t < n; t++) dst[t] = src[t];
}

INLINE float inv_denom(float norm, float eps) { return 1.0f / (norm > eps ? norm : eps); }

/* The maximum of a row, ignoring NaN (pmax is one instruction, max ~7): a NaN
 * entry still makes the row's exp sum, hence its log-sum-exp, NaN. */
static float row_max(const float *x, int n) {
  v128_t m = wasm_f32x4_splat(-__builtin_inff());
  int j = 0;
  for (; j + 4 <= n; j += 4) m = wasm_f32x4_pmax(m, V_LOAD(x + j));
  float r = hmax(m);
  for (; j < n; j++) r = x[j] > r ? x[j] : r;
  return r;
}

/* x = exp(x - shift) in place; returns the sum (double). */
static double exp_shift_sum(float *x, int n, float shift) {
  const v128_t sv = wasm_f32x4_splat(shift);
  v128_t acc = V_ZERO();
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    const v128_t e = v_exp(wasm_f32x4_sub(V_LOAD(x + j), sv));
    V_STORE(x + j, e);
    acc = V_ADD(acc, e);
  }
  double s = (double)wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) +
             wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3);
  for (; j < n; j++) {
    x[j] = exp_f(x[j] - shift);
    s += x[j];
  }
  return s;
}

static void scale_row(float *x, int n, float s) {
  const v128_t sv = wasm_f32x4_splat(s);
  int j = 0;
  for (; j + 4 <= n; j += 4) V_STORE(x + j, V_MUL(V_LOAD(x + j), sv));
  for (; j < n; j++) x[j] *= s;
}

/*
 * Forms the rows of a 4-row A panel of a transposed operand: a[t][i] =
 * m[i][c0 + t], columns c0..c0+rows-1 of the row-major m [nr x ld] read as
 * rows (CLIP's G^T, InfoNCE's P_neg^T).
 */
static void panel_from_columns(const float *m, int nr, size_t ld, int c0, int rows, float *a) {
  float *a0 = a, *a1 = a + nr, *a2 = a + 2 * (size_t)nr, *a3 = a + 3 * (size_t)nr;
  int i = 0;
  if (rows == 4) {
    for (; i + 4 <= nr; i += 4) {
      v128_t c0v = V_LOAD(m + (size_t)i * ld + c0), c1v = V_LOAD(m + (size_t)(i + 1) * ld + c0);
      v128_t c2v = V_LOAD(m + (size_t)(i + 2) * ld + c0), c3v = V_LOAD(m + (size_t)(i + 3) * ld + c0);
      transpose4(&c0v, &c1v, &c2v, &c3v); /* now c_t v = column c0 + t, entries i..i+3 */
      V_STORE(a0 + i, c0v);
      V_STORE(a1 + i, c1v);
      V_STORE(a2 + i, c2v);
      V_STORE(a3 + i, c3v);
    }
  }
  for (int t = 0; t < 4; t++) {
    float *at = a + (size_t)t * nr;
    const int c = c0 + (t < rows ? t : 0);
    for (int ii = i; ii < nr; ii++) at[ii] = m[(size_t)ii * ld + c];
  }
}

/*
 * dst[c][r] = src[r][c] for r < rows, c < cols (dst row stride ldd). Reads
 * four source rows at a time across their columns, so the rows being read
 * stay in L1 even when their stride is a large power of two; dst should be
 * a small contiguous buffer for the same reason.
 */
static void transpose_block(const float *src, size_t lds, float *dst, size_t ldd, int rows, int cols) {
  const int r4 = rows & ~3, c4 = cols & ~3;
  for (int r = 0; r < r4; r += 4) {
    const float *s0 = src + (size_t)r * lds;
    for (int c = 0; c < c4; c += 4) {
      v128_t a = V_LOAD(s0 + c), b = V_LOAD(s0 + lds + c), cc = V_LOAD(s0 + 2 * lds + c), d = V_LOAD(s0 + 3 * lds + c);
      transpose4(&a, &b, &cc, &d);
      float *o = dst + (size_t)c * ldd + r;
      V_STORE(o, a);
      V_STORE(o + ldd, b);
      V_STORE(o + 2 * ldd, cc);
      V_STORE(o + 3 * ldd, d);
    }
    for (int c = c4; c < cols; c++) {
      for (int t = 0; t < 4; t++) dst[(size_t)c * ldd + r + t] = src[(size_t)(r + t) * lds + c];
    }
  }
  for (int r = r4; r < rows; r++) {
    for (int c = 0; c < cols; c++) dst[(size_t)c * ldd + r] = src[(size_t)r * lds + c];
  }
}

/* ------------------------------------------------------ shared phases -- */

/* y[i] = x[i] / max(|x[i]|, eps) and norms[i] = |x[i]| for the rows [begin, end) of x [rows, d]. */
EXPORT(normalize_rows)
void normalize_rows(const float *x, float *y, float *norms, int d, float eps, int begin, int end) {
  for (int i = begin; i < end; i++) norms[i] = normalize_row(x + (size_t)i * d, y + (size_t)i * d, d, eps);
}

/* pack_nt over the panels [begin, end) of 8 rows of b [n, k] (row stride k), rows scaled by inv_norm if given. */
EXPORT(pack_rows_as_columns)
void pack_rows_as_columns(const float *b, float *packed, const float *inv_norm, int n, int k, int begin, int end) {
  pack_nt_panels(b, n, k, (size_t)k, inv_norm, packed, begin, end);
}

/* pack_nn over the panels [begin, end) of 8 columns of b [k, n] (row stride n), rows scaled by inv_norm if given. */
EXPORT(pack_column_panels)
void pack_column_panels(const float *b, float *packed, const float *inv_norm, int k, int n, int begin, int end) {
  pack_nn_panels(b, k, n, (size_t)n, inv_norm, packed, begin, end);
}

/* *out = (float)(sum of v[0..n), in order, / n): the loss from per-row terms, the same whatever split made them. */
EXPORT(mean_of_doubles)
void mean_of_doubles(const double *v, int n, float *out) {
  double total = 0.0;
  for (int i = 0; i < n; i++) total += v[i];
  *out = (float)(total / n);
}

/* ------------------------------------------------------------- NT-Xent -- */

/*
 * NT-Xent forward: z = normalise([z1; z2]) [M = 2n, d]; s = z z^T / tau; for
 * each row i the softmax p_i over j != i (the diagonal enters as -inf) and
 *   loss = (1/M) sum_i [logsumexp_{j != i} s_ij - s_i,partner(i)].
 * Outputs z, the norms |x_i| and w = P + P^T [M, M], what the backward
 * multiplies.
 *
 * Phases, each split over threads by rows or blocks of rows (the caller runs
 * them in order): normalize_rows (twice), pack_rows_as_columns (z),
 * nt_xent_similarity, nt_xent_softmax, nt_xent_symmetrize, mean_of_doubles.
 *
 * s is symmetric, so only its lower triangle is multiplied (half the flops),
 * in blocks of SYM_BLOCK rows: a block left of the diagonal is stored at
 * (i, j) and, transposed through a small buffer, at (j, i) as whole row
 * segments; the diagonal block mirrors its own lower tiles. (z_i.z_j and
 * z_j.z_i are the same products summed in the same order, so the mirror is
 * exact.) Each pair of mirrored blocks belongs to the block row of the lower
 * one, so block rows can be computed by different threads.
 */
#define SYM_BLOCK 32

INLINE const float *row_or_first(const float *a0, int r, int rows, size_t ld) { return r < rows ? a0 + r * ld : a0; }

/* Tiles of rows [i0, i0 + rows) x columns [j0, j1) of z z^T / tau (a block), stored at p (row stride m). */
static void sym_block(const float *z, const float *packed, float *p, int m, int d, float inv_tau, int i0, int rows, int j0,
                      int j1, int diagonal, float *transposed) {
  for (int ii = i0; ii < i0 + rows; ii += 4) {
    const int r = min_i(4, i0 + rows - ii);
    const float *a0 = z + (size_t)ii * d;
    const float *a1 = row_or_first(a0, 1, r, d), *a2 = row_or_first(a0, 2, r, d), *a3 = row_or_first(a0, 3, r, d);
    for (int jj = j0; jj < j1; jj += 8) {
      if (diagonal && jj > ii + 3) break; /* above the diagonal: mirrored from the tiles below it */
      Tile4x8 t = tile_4x8(a0, a1, a2, a3, packed + (size_t)jj * d, d);
      tile_scale(&t, inv_tau);
      const int cols = min_i(8, j1 - jj);
      tile_store(&t, p + (size_t)ii * m + jj, (size_t)m, r, cols);
      if (diagonal) {
        const int mirror = min_i(cols, ii - jj);
        if (mirror > 0) tile_store_transposed(&t, p + (size_t)jj * m + ii, (size_t)m, r, mirror);
      } else {
        tile_store_transposed(&t, transposed + (size_t)(jj - j0) * SYM_BLOCK + (ii - i0), SYM_BLOCK, r, cols);
      }
    }
  }
  if (!diagonal) {
    for (int j = j0; j < j1; j++) {
      copy_floats(p + (size_t)j * m + i0, transposed + (size_t)(j - j0) * SYM_BLOCK, rows);
    }
  }
}

/* Work units of nt_xent_similarity and nt_xent_symmetrize: block rows of SYM_BLOCK rows. */
EXPORT(nt_xent_blocks)
int nt_xent_blocks(int m) { return (m + SYM_BLOCK - 1) / SYM_BLOCK; }

/* Scratch per thread of nt_xent_similarity and nt_xent_symmetrize, in bytes. */
EXPORT(nt_xent_block_scratch)
int nt_xent_block_scratch(void) { return 2 * SYM_BLOCK * SYM_BLOCK * (int)sizeof(float); }

/* s = z z^T / tau into p [m, m] for the block rows [begin, end): their lower-triangle blocks and mirrors. */
EXPORT(nt_xent_similarity)
void nt_xent_similarity(const float *z, const float *packed, float *p, float *scratch, int m, int d, float inv_tau, int begin,
                        int end) {
  for (int blk = begin; blk < end; blk++) {
    const int i0 = blk * SYM_BLOCK, rows = min_i(SYM_BLOCK, m - i0);
    for (int j0 = 0; j0 < i0; j0 += SYM_BLOCK) sym_block(z, packed, p, m, d, inv_tau, i0, rows, j0, j0 + SYM_BLOCK, 0, scratch);
    sym_block(z, packed, p, m, d, inv_tau, i0, rows, i0, i0 + rows, 1, scratch);
  }
}

/* Rows [begin, end) of s become softmax rows p_i (diagonal excluded); row_loss[i] = lse_i - s_i,partner. */
EXPORT(nt_xent_softmax)
void nt_xent_softmax(float *p, double *row_loss, int n, int begin, int end) {
  const int m = 2 * n;
  for (int i = begin; i < end; i++) {
    float *row = p + (size_t)i * m;
    const int partner = i < n ? i + n : i - n;
    const float positive = row[partner];
    row[i] = -__builtin_inff(); /* j = i leaves the softmax: exp gives exactly 0 */
    const float mx = row_max(row, m);
    const double sum = exp_shift_sum(row, m, mx);
    scale_row(row, m, (float)(1.0 / sum));
    row_loss[i] = log_d(sum) + (double)mx - (double)positive;
  }
}

/*
 * w = p + p^T in place for the block rows [begin, end): each block (I, J)
 * with J >= I and its mirror (J, I), which no other block row touches.
 */
EXPORT(nt_xent_symmetrize)
void nt_xent_symmetrize(float *p, float *scratch, int m, int begin, int end) {
  float *t = scratch, *u = scratch + SYM_BLOCK * SYM_BLOCK;
  for (int blk = begin; blk < end; blk++) {
    const int i0 = blk * SYM_BLOCK, rows = min_i(SYM_BLOCK, m - i0);
    for (int j0 = i0; j0 < m; j0 += SYM_BLOCK) {
      const int cols = min_i(SYM_BLOCK, m - j0);
      transpose_block(p + (size_t)j0 * m + i0, (size_t)m, t, SYM_BLOCK, cols, rows); /* t[a][b] = p[j0+b][i0+a] */
      for (int a = 0; a < rows; a++) {
        float *dst = p + (size_t)(i0 + a) * m + j0;
        const float *src = t + (size_t)a * SYM_BLOCK;
        int b = 0;
        for (; b + 4 <= cols; b += 4) V_STORE(dst + b, V_ADD(V_LOAD(dst + b), V_LOAD(src + b)));
        for (; b < cols; b++) dst[b] += src[b];
      }
      if (j0 == i0) continue;
      transpose_block(p + (size_t)i0 * m + j0, (size_t)m, u, SYM_BLOCK, rows, cols); /* u[b][a] = w[i0+a][j0+b] */
      for (int b = 0; b < cols; b++) {
        copy_floats(p + (size_t)(j0 + b) * m + i0, u + (size_t)b * SYM_BLOCK, rows);
      }
    }
  }
}

/*
 * The three phases above in one pass, for one thread: block rows from the
 * last to the first, so when one is done its rows are complete (entries
 * right of it came mirrored from later blocks) and become probabilities at
 * once, while in cache; then each of its blocks from the diagonal rightwards,
 * whose mirror rows hold final probabilities already, becomes w = p + p^T in
 * both places. The N x N matrix is written once. Every element goes through
 * the same operations as in the phases, so the bits are the same.
 * scratch: nt_xent_block_scratch() bytes.
 */
EXPORT(nt_xent_fused)
void nt_xent_fused(const float *z, const float *packed, float *p, double *row_loss, float *scratch, int n, int d, float inv_tau) {
  const int m = 2 * n;
  for (int blk = nt_xent_blocks(m) - 1; blk >= 0; blk--) {
    nt_xent_similarity(z, packed, p, scratch, m, d, inv_tau, blk, blk + 1);
    const int i0 = blk * SYM_BLOCK;
    nt_xent_softmax(p, row_loss, n, i0, min_i(m, i0 + SYM_BLOCK));
    nt_xent_symmetrize(p, scratch, m, blk, blk + 1);
  }
}

/*
 * NT-Xent backward: dL/dz = (W z - 2 z_partner) * dy / (M tau) with
 * W = P + P^T from the forward, then through the normalisation: dz1, dz2
 * [n, d], for the groups of 4 rows [begin, end) of the 2n rows. z is packed as
 * B by pack_column_panels (packed [round_up(d, 8) / 8][2n][8]); scratch (per
 * thread): 4 * round_up(d, 8) floats.
 */
EXPORT(nt_xent_backward_rows)
void nt_xent_backward_rows(const float *z, const float *norms, const float *w, const float *packed, const float *dy, float *dz1,
                           float *dz2, float *scratch, int n, int d, float inv_tau, float eps, int begin, int end) {
  const int m = 2 * n, dp = round_up(d, 8);
  const float c = *dy * inv_tau / (float)m;
  float *g = scratch;
  for (int i0 = 4 * begin; i0 < m && i0 < 4 * end; i0 += 4) {
    const int rows = min_i(4, m - i0);
    const float *a0 = w + (size_t)i0 * m;
    zero_floats(g, 4 * (size_t)dp);
    gemm_acc_rows(a0, row_or_first(a0, 1, rows, m), row_or_first(a0, 2, rows, m), row_or_first(a0, 3, rows, m), rows, packed, m,
                  0, m, dp, g, (size_t)dp);
    for (int r = 0; r < rows; r++) {
      const int i = i0 + r;
      const int partner = i < n ? i + n : i - n;
      float *gr = g + (size_t)r * dp;
      const float *zp = z + (size_t)partner * d;
      for (int j = 0; j < d; j++) gr[j] = (gr[j] - 2.0f * zp[j]) * c;
      normalize_row_backward(gr, z + (size_t)i * d, 1.0f, norms[i], eps, i < n ? dz1 + (size_t)i * d : dz2 + (size_t)(i - n) * d, d);
    }
  }
}

/* ------------------------------------------------- InfoNCE with a queue -- */

/*
 * q, k [n, d], negatives [kn, d], all normalised (the queue's rows on the
 * fly, by 1/max(|x|, eps) while packed). Logits [q.k | q.neg_j] / tau,
 * positive at index 0; loss = mean_i [logsumexp - q_i.k_i / tau].
 * Phases: normalize_rows (q, k), info_nce_queue_norms, pack_rows_as_columns
 * (the queue, scaled), info_nce_queue_logits, mean_of_doubles.
 *
 * The queue is swept in blocks that stay in L2, for groups of query rows
 * whose probabilities also fit there; each group's rows are turned into
 * probabilities right after their last block.
 */
INLINE int queue_block(int d) { return max_i(8, (32768 / max_i(d, 1)) & ~7); } /* ~128 KiB of packed queue */
INLINE int query_group(int kn) { return max_i(4, (131072 / max_i(kn, 1)) & ~3); } /* ~512 KiB of probabilities */

/* neg_norms[j] = |neg_j| and inv[j] = 1 / max(|neg_j|, eps) for the queue rows [begin, end). */
EXPORT(info_nce_queue_norms)
void info_nce_queue_norms(const float *neg, float *neg_norms, float *inv, int d, float eps, int begin, int end) {
  for (int j = begin; j < end; j++) {
    neg_norms[j] = __builtin_sqrtf(dot(neg + (size_t)j * d, neg + (size_t)j * d, d));
    if (inv) inv[j] = inv_denom(neg_norms[j], eps);
  }
}

/* inv[j] = 1 / max(norms[j], eps), j < n. */
EXPORT(inverse_denominators)
void inverse_denominators(const float *norms, float *inv, int n, float eps) {
  for (int j = 0; j < n; j++) inv[j] = inv_denom(norms[j], eps);
}

/*
 * Logits and softmax of the query rows in groups of 4 [begin, end): p_pos,
 * p_neg [n, kn] and row_loss[i]. packed: the normalised queue from
 * pack_rows_as_columns.
 */
EXPORT(info_nce_queue_logits)
void info_nce_queue_logits(const float *qn, const float *kn_out, const float *packed, float *p_pos, float *p_neg,
                           double *row_loss, int n, int kn, int d, float inv_tau, int begin, int end) {
  const int block = queue_block(d), group = query_group(kn);
  const int r0 = 4 * begin, r1 = min_i(n, 4 * end);
  for (int g0 = r0; g0 < r1; g0 += group) {
    const int g1 = min_i(r1, g0 + group);
    for (int b0 = 0; b0 < kn; b0 += block) {
      const int b1 = min_i(kn, b0 + block);
      for (int i0 = g0; i0 < g1; i0 += 4) {
        const int rows = min_i(4, g1 - i0);
        const float *a0 = qn + (size_t)i0 * d;
        const float *a1 = rows > 1 ? a0 + d : a0, *a2 = rows > 2 ? a0 + 2 * d : a0, *a3 = rows > 3 ? a0 + 3 * d : a0;
        for (int j0 = b0; j0 < b1; j0 += 8) {
          Tile4x8 t = tile_4x8(a0, a1, a2, a3, packed + (size_t)j0 * d, d);
          tile_scale(&t, inv_tau);
          tile_store(&t, p_neg + (size_t)i0 * kn + j0, (size_t)kn, rows, min_i(8, kn - j0));
        }
      }
    }
    for (int i = g0; i < g1; i++) {
      float *row = p_neg + (size_t)i * kn;
      const float positive = dot(qn + (size_t)i * d, kn_out + (size_t)i * d, d) * inv_tau;
      const float neg_max = row_max(row, kn);
      const float mx = positive > neg_max ? positive : neg_max;
      const float e_pos = exp_f(positive - mx);
      const double sum = exp_shift_sum(row, kn, mx) + e_pos;
      const float r = (float)(1.0 / sum);
      scale_row(row, kn, r);
      p_pos[i] = e_pos * r;
      row_loss[i] = log_d(sum) + (double)mx - (double)positive;
    }
  }
}

/*
 * dL/dq = c [(p_pos - 1) k + P_neg negn], then through q's normalisation,
 * c = dy / (n tau), for the groups of 4 query rows [begin, end). packed: the
 * normalised queue as B (pack_column_panels with inverse_denominators);
 * g [n, round_up(d, 8)]: accumulators, rows shared by no two threads. The
 * queue dimension is blocked (B block in L2) and partial products added up
 * in block order.
 */
EXPORT(info_nce_queue_backward_query_rows)
void info_nce_queue_backward_query_rows(const float *qn, const float *kn_in, const float *q_norms, const float *packed,
                                        const float *p_pos, const float *p_neg, const float *dy, float *dq, float *g, int n,
                                        int kn, int d, float inv_tau, float eps, int begin, int end) {
  const int dp = round_up(d, 8);
  const float c = *dy * inv_tau / (float)n;
  const int r0 = 4 * begin, r1 = min_i(n, 4 * end);
  if (r0 >= r1) return;
  zero_floats(g + (size_t)r0 * dp, (size_t)(r1 - r0) * dp);
  const int kc = max_i(64, (65536 / dp) & ~3); /* ~256 KiB of packed queue per block */
  for (int k0 = 0; k0 < kn; k0 += kc) {
    const int kl = min_i(kc, kn - k0);
    for (int i0 = r0; i0 < r1; i0 += 4) {
      const int rows = min_i(4, r1 - i0);
      const float *a0 = p_neg + (size_t)i0 * kn + k0;
      const float *a1 = rows > 1 ? a0 + kn : a0, *a2 = rows > 2 ? a0 + 2 * (size_t)kn : a0,
                  *a3 = rows > 3 ? a0 + 3 * (size_t)kn : a0;
      for (int j0 = 0; j0 < d; j0 += 8) {
        Tile4x8 t = tile_4x8(a0, a1, a2, a3, packed + (size_t)j0 * kn + (size_t)k0 * 8, kl);
        float *o = g + (size_t)i0 * dp + j0;
        for (int r = 0; r < rows; r++, o += dp) {
          V_STORE(o, V_ADD(V_LOAD(o), tile_lo(&t, r)));
          V_STORE(o + 4, V_ADD(V_LOAD(o + 4), tile_hi(&t, r)));
        }
      }
    }
  }
  for (int i = r0; i < r1; i++) {
    float *gr = g + (size_t)i * dp;
    const float *kr = kn_in + (size_t)i * d;
    const float w = p_pos[i] - 1.0f;
    for (int j = 0; j < d; j++) gr[j] = (gr[j] + w * kr[j]) * c;
    normalize_row_backward(gr, qn + (size_t)i * d, 1.0f, q_norms[i], eps, dq + (size_t)i * d, d);
  }
}

/* dL/dk = c (p_pos - 1) q, through k's normalisation, for the rows [begin, end); scratch (per thread): d floats. */
EXPORT(info_nce_queue_backward_key)
void info_nce_queue_backward_key(const float *qn, const float *kn_in, const float *k_norms, const float *p_pos,
                                 const float *dy, float *dk, float *scratch, int n, int d, float inv_tau, float eps, int begin,
                                 int end) {
  const float c = *dy * inv_tau / (float)n;
  for (int i = begin; i < end; i++) {
    const float w = (p_pos[i] - 1.0f) * c;
    const float *qr = qn + (size_t)i * d;
    for (int j = 0; j < d; j++) scratch[j] = w * qr[j];
    normalize_row_backward(scratch, kn_in + (size_t)i * d, 1.0f, k_norms[i], eps, dk + (size_t)i * d, d);
  }
}

/* Scratch per thread of info_nce_queue_backward_negatives_rows and clip_backward_rows, in bytes. */
EXPORT(panel_rows_scratch)
int panel_rows_scratch(int n, int d) { return (4 * n + 4 * round_up(d, 8)) * (int)sizeof(float); }

/*
 * dL/dneg_j = c sum_i p_neg[i][j] q_i, through the queue's normalisation,
 * for the groups of 4 queue rows [begin, end): A = P_neg^T formed per group,
 * B = qn packed by pack_column_panels. scratch: panel_rows_scratch(n, d).
 */
EXPORT(info_nce_queue_backward_negatives_rows)
void info_nce_queue_backward_negatives_rows(const float *packed, const float *neg, const float *neg_norms, const float *p_neg,
                                            const float *dy, float *dneg, float *scratch, int n, int kn, int d,
                                            float inv_tau, float eps, int begin, int end) {
  const int dp = round_up(d, 8);
  const float c = *dy * inv_tau / (float)n;
  float *a = scratch;
  float *g = a + 4 * (size_t)n;
  for (int j0 = 4 * begin; j0 < kn && j0 < 4 * end; j0 += 4) {
    const int rows = min_i(4, kn - j0);
    panel_from_columns(p_neg, n, (size_t)kn, j0, rows, a);
    for (int c0 = 0; c0 < d; c0 += 8) {
      Tile4x8 t = tile_4x8(a, a + n, a + 2 * (size_t)n, a + 3 * (size_t)n, packed + (size_t)c0 * n, n);
      tile_scale(&t, c);
      tile_store(&t, g + c0, (size_t)dp, rows, 8);
    }
    for (int r = 0; r < rows; r++) {
      const int j = j0 + r;
      normalize_row_backward(g + (size_t)r * dp, neg + (size_t)j * d, inv_denom(neg_norms[j], eps), neg_norms[j], eps,
                             dneg + (size_t)j * d, d);
    }
  }
}

/* ---------------------------------------------------------------- CLIP -- */

/*
 * Logits L = exp(log_scale) * in tn^T [n, n] of the normalised image and
 * text rows; loss = (sum_i lse(L_i.) + sum_j lse(L_.j) - 2 tr L) / 2n.
 * Outputs in, tn, their norms, G = (softmax_rows(L) + softmax_cols(L)) / 2n
 * [n, n] (dL/dL without the -I/n of the targets, which the backward applies
 * to the embeddings directly) and dL/dlog_scale per unit of upstream
 * gradient, sum(G o L) - tr(L)/n.
 *
 * Phases: normalize_rows (images, texts), pack_rows_as_columns (tn),
 * clip_logits, clip_row_stats, clip_column_stats, clip_gradient, clip_finish.
 * The column statistics run over the rows in order for each column, so they
 * do not depend on how the columns are split.
 */

/* L for the groups of 4 rows [begin, end), into gm [n, n]. */
EXPORT(clip_logits)
void clip_logits(const float *in, const float *packed, const float *log_scale, float *gm, int n, int d, int begin, int end) {
  const float scale = (float)exp_d((double)*log_scale);
  for (int i0 = 4 * begin; i0 < n && i0 < 4 * end; i0 += 4) {
    const int rows = min_i(4, n - i0);
    const float *a0 = in + (size_t)i0 * d;
    const float *a1 = rows > 1 ? a0 + d : a0, *a2 = rows > 2 ? a0 + 2 * d : a0, *a3 = rows > 3 ? a0 + 3 * d : a0;
    for (int j0 = 0; j0 < n; j0 += 8) {
      Tile4x8 t = tile_4x8(a0, a1, a2, a3, packed + (size_t)j0 * d, d);
      tile_scale(&t, scale);
      tile_store(&t, gm + (size_t)i0 * n + j0, (size_t)n, rows, min_i(8, n - j0));
    }
  }
}

/*
 * For the rows [begin, end) of L: rmax[i], rinv[i] = 1 / sum_j exp(L_ij - rmax_i),
 * row_lse[i] = log-sum-exp of the row and diag[i] = L_ii.
 */
EXPORT(clip_row_stats)
void clip_row_stats(const float *gm, float *rmax, float *rinv, double *row_lse, float *diag, int n, int begin, int end) {
  for (int i = begin; i < end; i++) {
    const float *row = gm + (size_t)i * n;
    diag[i] = row[i];
    rmax[i] = row_max(row, n);
    const v128_t rm = wasm_f32x4_splat(rmax[i]);
    v128_t acc = V_ZERO();
    int j = 0;
    for (; j + 4 <= n; j += 4) acc = V_ADD(acc, v_exp(wasm_f32x4_sub(V_LOAD(row + j), rm)));
    double s = (double)wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) +
               wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3);
    for (; j < n; j++) s += exp_f(row[j] - rmax[i]);
    rinv[i] = (float)(1.0 / s);
    row_lse[i] = log_d(s) + rmax[i];
  }
}

/*
 * For the groups of 4 columns [begin, end) of L: cmax[j], cinv[j] = 1 / sum_i
 * exp(L_ij - cmax_j) and col_lse[j].
 */
EXPORT(clip_column_stats)
void clip_column_stats(const float *gm, float *cmax, float *cinv, double *col_lse, int n, int begin, int end) {
  const int j0 = 4 * begin, j1 = min_i(n, 4 * end), j4 = j0 + ((j1 - j0) & ~3);
  for (int j = j0; j < j1; j++) cmax[j] = -__builtin_inff();
  for (int i = 0; i < n; i++) {
    const float *row = gm + (size_t)i * n;
    int j = j0;
    for (; j < j4; j += 4) V_STORE(cmax + j, wasm_f32x4_max(V_LOAD(cmax + j), V_LOAD(row + j)));
    for (; j < j1; j++) cmax[j] = row[j] > cmax[j] ? row[j] : cmax[j];
  }
  for (int j = j0; j < j1; j++) cinv[j] = 0.0f;
  for (int i = 0; i < n; i++) {
    const float *row = gm + (size_t)i * n;
    int j = j0;
    for (; j < j4; j += 4) V_STORE(cinv + j, V_ADD(V_LOAD(cinv + j), v_exp(wasm_f32x4_sub(V_LOAD(row + j), V_LOAD(cmax + j)))));
    for (; j < j1; j++) cinv[j] += exp_f(row[j] - cmax[j]);
  }
  for (int j = j0; j < j1; j++) {
    col_lse[j] = log_d(cinv[j]) + cmax[j];
    cinv[j] = 1.0f / cinv[j];
  }
}

/* G = (row softmax + column softmax) / 2n in place of L for the rows [begin, end); row_gl[i] = sum_j G_ij L_ij. */
EXPORT(clip_gradient)
void clip_gradient(float *gm, const float *rmax, const float *rinv, const float *cmax, const float *cinv, double *row_gl, int n,
                   int begin, int end) {
  const float half = 0.5f / (float)n;
  for (int i = begin; i < end; i++) {
    float *row = gm + (size_t)i * n;
    const v128_t rm = wasm_f32x4_splat(rmax[i]), ri = wasm_f32x4_splat(rinv[i]), hv = wasm_f32x4_splat(half);
    v128_t acc = V_ZERO();
    int j = 0;
    for (; j + 4 <= n; j += 4) {
      const v128_t l = V_LOAD(row + j);
      const v128_t pr = V_MUL(v_exp(wasm_f32x4_sub(l, rm)), ri);
      const v128_t pc = V_MUL(v_exp(wasm_f32x4_sub(l, V_LOAD(cmax + j))), V_LOAD(cinv + j));
      const v128_t gv = V_MUL(V_ADD(pr, pc), hv);
      acc = V_MADD(acc, gv, l);
      V_STORE(row + j, gv);
    }
    double s = (double)wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) +
               wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3);
    for (; j < n; j++) {
      const float l = row[j];
      const float gv = (exp_f(l - rmax[i]) * rinv[i] + exp_f(l - cmax[j]) * cinv[j]) * half;
      s += gv * l;
      row[j] = gv;
    }
    row_gl[i] = s;
  }
}

/* The loss and dL/dlog_scale from the per-row and per-column terms, summed in order. */
EXPORT(clip_finish)
void clip_finish(const double *row_lse, const double *col_lse, const double *row_gl, const float *diag, float *loss,
                 float *dlog_scale, int n) {
  double lse_total = 0.0, trace = 0.0, gl = 0.0;
  for (int i = 0; i < n; i++) trace += diag[i];
  for (int i = 0; i < n; i++) lse_total += row_lse[i];
  for (int j = 0; j < n; j++) lse_total += col_lse[j];
  for (int i = 0; i < n; i++) gl += row_gl[i];
  *loss = (float)((lse_total - 2.0 * trace) / (2.0 * n));
  *dlog_scale = (float)(gl - trace / n);
}

/*
 * which = 0: dL/dimages = s dy (G tn - tn / n), through the normalisation;
 * which = 1: dL/dtexts = s dy (G^T in - in / n). s = exp(log_scale). For the
 * groups of 4 rows [begin, end); packed: the other side by
 * pack_column_panels; scratch: panel_rows_scratch(n, d).
 */
EXPORT(clip_backward_rows)
void clip_backward_rows(const float *in, const float *tn, const float *norms, const float *gm, const float *packed,
                        const float *log_scale, const float *dy, float *dx, float *scratch, int n, int d, float eps, int which,
                        int begin, int end) {
  const int dp = round_up(d, 8);
  const float c = *dy * (float)exp_d((double)*log_scale);
  const float *self = which ? tn : in, *other = which ? in : tn;
  float *a = scratch;
  float *g = a + 4 * (size_t)n;
  const float inv_n = 1.0f / (float)n;
  for (int i0 = 4 * begin; i0 < n && i0 < 4 * end; i0 += 4) {
    const int rows = min_i(4, n - i0);
    const float *a0, *a1, *a2, *a3;
    if (which) {
      panel_from_columns(gm, n, (size_t)n, i0, rows, a);
      a0 = a;
      a1 = a + n;
      a2 = a + 2 * (size_t)n;
      a3 = a + 3 * (size_t)n;
    } else {
      a0 = gm + (size_t)i0 * n;
      a1 = rows > 1 ? a0 + n : a0;
      a2 = rows > 2 ? a0 + 2 * (size_t)n : a0;
      a3 = rows > 3 ? a0 + 3 * (size_t)n : a0;
    }
    for (int j0 = 0; j0 < d; j0 += 8) {
      Tile4x8 t = tile_4x8(a0, a1, a2, a3, packed + (size_t)j0 * n, n);
      tile_store(&t, g + j0, (size_t)dp, rows, 8);
    }
    for (int r = 0; r < rows; r++) {
      const int i = i0 + r;
      float *gr = g + (size_t)r * dp;
      const float *or_ = other + (size_t)i * d;
      for (int j = 0; j < d; j++) gr[j] = (gr[j] - or_[j] * inv_n) * c;
      normalize_row_backward(gr, self + (size_t)i * d, 1.0f, norms[i], eps, dx + (size_t)i * d, d);
    }
  }
}

/* ----------------------------------------------------------- test hook -- */

/* out = v_exp(x), for the accuracy test of the vectorised exp. */
EXPORT(vexp_array)
void vexp_array(const float *x, float *out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) V_STORE(out + i, v_exp(V_LOAD(x + i)));
  for (; i < n; i++) out[i] = exp_f(x[i]);
}
