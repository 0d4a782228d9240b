/*
 * The register tiles and packing of the fused loss and k-means kernels: the
 * same 4 x 8 f32x4 tile as the convolution and batch_matmul kernels (8
 * accumulators; 6 x 8 and 8 x 8 spill on V8), as inline functions so each
 * kernel keeps its tile in registers and applies its own epilogue (scaling,
 * mirroring a symmetric product, a running argmin) before anything is stored.
 *
 * Operand layouts:
 *   A   four row pointers with unit stride along k (rows of a row-major
 *       matrix, or rows of a panel the kernel formed in scratch).
 *   B   a panel of 8 columns laid out [k][8] (pack_nt / pack_nn), zero past
 *       the last column, so tails need no special case in the inner loop.
 */
#ifndef SELFSUP_GEMM_H
#define SELFSUP_GEMM_H

#include "simd.h"

/* Four rows by eight columns: row r is (c[r][0] | c[r][1]). */
typedef struct {
  v128_t c00, c01, c10, c11, c20, c21, c30, c31;
} Tile4x8;

INLINE Tile4x8 tile_4x8(const float *a0, const float *a1, const float *a2, const float *a3,
                        const float *bp, int k) {
  v128_t c00 = V_ZERO(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int kk = 0; kk < k; kk++, bp += 8) {
    const v128_t b0 = V_LOAD(bp), b1 = V_LOAD(bp + 4);
    v128_t s = V_SPLAT_LOAD(a0 + kk);
    c00 = V_MADD(c00, s, b0);
    c01 = V_MADD(c01, s, b1);
    s = V_SPLAT_LOAD(a1 + kk);
    c10 = V_MADD(c10, s, b0);
    c11 = V_MADD(c11, s, b1);
    s = V_SPLAT_LOAD(a2 + kk);
    c20 = V_MADD(c20, s, b0);
    c21 = V_MADD(c21, s, b1);
    s = V_SPLAT_LOAD(a3 + kk);
    c30 = V_MADD(c30, s, b0);
    c31 = V_MADD(c31, s, b1);
  }
  Tile4x8 t = {c00, c01, c10, c11, c20, c21, c30, c31};
  return t;
}

/* Four rows by the first four columns of a panel (the last, half-empty panel of a GEMM with n % 8 in 1..4). */
typedef struct {
  v128_t c0, c1, c2, c3;
} Tile4x4;

INLINE Tile4x4 tile_4x4(const float *a0, const float *a1, const float *a2, const float *a3, const float *bp, int k) {
  v128_t c0 = V_ZERO(), c1 = c0, c2 = c0, c3 = c0;
  for (int kk = 0; kk < k; kk++, bp += 8) {
    const v128_t b0 = V_LOAD(bp);
    c0 = V_MADD(c0, V_SPLAT_LOAD(a0 + kk), b0);
    c1 = V_MADD(c1, V_SPLAT_LOAD(a1 + kk), b0);
    c2 = V_MADD(c2, V_SPLAT_LOAD(a2 + kk), b0);
    c3 = V_MADD(c3, V_SPLAT_LOAD(a3 + kk), b0);
  }
  Tile4x4 t = {c0, c1, c2, c3};
  return t;
}

/* The tile's row r as two vectors. */
INLINE v128_t tile_lo(const Tile4x8 *t, int r) { return r == 0 ? t->c00 : r == 1 ? t->c10 : r == 2 ? t->c20 : t->c30; }
INLINE v128_t tile_hi(const Tile4x8 *t, int r) { return r == 0 ? t->c01 : r == 1 ? t->c11 : r == 2 ? t->c21 : t->c31; }

INLINE void tile_scale(Tile4x8 *t, float s) {
  const v128_t v = wasm_f32x4_splat(s);
  t->c00 = V_MUL(t->c00, v); t->c01 = V_MUL(t->c01, v);
  t->c10 = V_MUL(t->c10, v); t->c11 = V_MUL(t->c11, v);
  t->c20 = V_MUL(t->c20, v); t->c21 = V_MUL(t->c21, v);
  t->c30 = V_MUL(t->c30, v); t->c31 = V_MUL(t->c31, v);
}

/* Stores the first `cols` (<= 8) entries of row (lo | hi) at out. */
INLINE void store_row8(float *out, v128_t lo, v128_t hi, int cols) {
  if (cols == 8) {
    V_STORE(out, lo);
    V_STORE(out + 4, hi);
    return;
  }
  float tmp[8];
  V_STORE(tmp, lo);
  V_STORE(tmp + 4, hi);
  for (int t = 0; t < cols; t++) out[t] = tmp[t];
}

/* Stores the first `rows` (<= 4) rows and `cols` (<= 8) columns of the tile at out (row stride ld). */
INLINE void tile_store(const Tile4x8 *t, float *out, size_t ld, int rows, int cols) {
  store_row8(out, t->c00, t->c01, cols);
  if (rows > 1) store_row8(out + ld, t->c10, t->c11, cols);
  if (rows > 2) store_row8(out + 2 * ld, t->c20, t->c21, cols);
  if (rows > 3) store_row8(out + 3 * ld, t->c30, t->c31, cols);
}

/* 4 x 4 transpose: (a, b, c, d) rows -> columns. */
INLINE void transpose4(v128_t *a, v128_t *b, v128_t *c, v128_t *d) {
  const v128_t t0 = wasm_i32x4_shuffle(*a, *b, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(*c, *d, 0, 4, 1, 5);
  const v128_t t2 = wasm_i32x4_shuffle(*a, *b, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(*c, *d, 2, 6, 3, 7);
  *a = wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5);
  *b = wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7);
  *c = wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5);
  *d = wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7);
}

/*
 * Stores the tile transposed: column j of the tile (j < cols) becomes the
 * first `rows` entries of out + j * ld. For a full 4 x 8 tile these are eight
 * 4-float stores after two 4 x 4 transposes.
 */
INLINE void tile_store_transposed(const Tile4x8 *t, float *out, size_t ld, int rows, int cols) {
  v128_t a = t->c00, b = t->c10, c = t->c20, d = t->c30;
  v128_t e = t->c01, f = t->c11, g = t->c21, h = t->c31;
  transpose4(&a, &b, &c, &d);
  transpose4(&e, &f, &g, &h);
  const v128_t col[8] = {a, b, c, d, e, f, g, h};
  for (int j = 0; j < cols; j++) {
    float *o = out + (size_t)j * ld;
    if (rows == 4) {
      V_STORE(o, col[j]);
    } else {
      float tmp[4];
      V_STORE(tmp, col[j]);
      for (int r = 0; r < rows; r++) o[r] = tmp[r];
    }
  }
}

/*
 * Packs B^T for C = A B^T: b is [n][k] row-major (row stride ldb); panel p
 * holds rows 8p..8p+7 as [k][8]; rows past n are zero. If inv_norm is not
 * null, row j is multiplied by inv_norm[j] on the way (rows normalised while
 * packed). Panels [p0, p1) only; the packed size is round_up(n, 8) * k floats.
 */
static inline void pack_nt_panels(const float *b, int n, int k, size_t ldb, const float *inv_norm, float *packed, int p0,
                                  int p1) {
  for (int p = 8 * p0; p < n && p < 8 * p1; p += 8) {
    float *dst = packed + (size_t)p * k;
    const int rows = min_i(8, n - p);
    if (rows == 8 && (k & 3) == 0) {
      /* Four k at a time: two 4 x 4 transposes of rows p..p+3 and p+4..p+7. */
      v128_t s0 = wasm_f32x4_splat(1.0f), s1 = s0;
      if (inv_norm) {
        s0 = V_LOAD(inv_norm + p);
        s1 = V_LOAD(inv_norm + p + 4);
      }
      const float *r0 = b + (size_t)p * ldb;
      for (int kk = 0; kk < k; kk += 4, dst += 32) {
        v128_t a = V_LOAD(r0 + kk), bb = V_LOAD(r0 + ldb + kk), c = V_LOAD(r0 + 2 * ldb + kk), d = V_LOAD(r0 + 3 * ldb + kk);
        v128_t e = V_LOAD(r0 + 4 * ldb + kk), f = V_LOAD(r0 + 5 * ldb + kk), g = V_LOAD(r0 + 6 * ldb + kk),
               h = V_LOAD(r0 + 7 * ldb + kk);
        transpose4(&a, &bb, &c, &d);
        transpose4(&e, &f, &g, &h);
        V_STORE(dst, V_MUL(a, s0));
        V_STORE(dst + 4, V_MUL(e, s1));
        V_STORE(dst + 8, V_MUL(bb, s0));
        V_STORE(dst + 12, V_MUL(f, s1));
        V_STORE(dst + 16, V_MUL(c, s0));
        V_STORE(dst + 20, V_MUL(g, s1));
        V_STORE(dst + 24, V_MUL(d, s0));
        V_STORE(dst + 28, V_MUL(h, s1));
      }
      continue;
    }
    for (int kk = 0; kk < k; kk++, dst += 8) {
      for (int t = 0; t < 8; t++) {
        const int row = p + t;
        dst[t] = row < n ? b[(size_t)row * ldb + kk] * (inv_norm ? inv_norm[row] : 1.0f) : 0.0f;
      }
    }
  }
}

static inline void pack_nt(const float *b, int n, int k, size_t ldb, const float *inv_norm, float *packed) {
  pack_nt_panels(b, n, k, ldb, inv_norm, packed, 0, (n + 7) / 8);
}

/*
 * Packs B for C = A B: b is [k][n] row-major (row stride ldb); panel p holds
 * columns 8p..8p+7 as [k][8], zero past n. If inv_norm is not null, row kk
 * of b is multiplied by inv_norm[kk] (B = rows normalised while packed).
 * Panels [p0, p1) only.
 */
static inline void pack_nn_panels(const float *b, int k, int n, size_t ldb, const float *inv_norm, float *packed, int p0,
                                  int p1) {
  for (int p = 8 * p0; p < n && p < 8 * p1; p += 8) {
    float *dst = packed + (size_t)p * k;
    const int cols = min_i(8, n - p);
    for (int kk = 0; kk < k; kk++, dst += 8) {
      const float *src = b + (size_t)kk * ldb + p;
      const float s = inv_norm ? inv_norm[kk] : 1.0f;
      if (cols == 8) {
        const v128_t sv = wasm_f32x4_splat(s);
        V_STORE(dst, V_MUL(V_LOAD(src), sv));
        V_STORE(dst + 4, V_MUL(V_LOAD(src + 4), sv));
      } else {
        for (int t = 0; t < 8; t++) dst[t] = t < cols ? src[t] * s : 0.0f;
      }
    }
  }
}

static inline void pack_nn(const float *b, int k, int n, size_t ldb, const float *inv_norm, float *packed) {
  pack_nn_panels(b, k, n, ldb, inv_norm, packed, 0, (n + 7) / 8);
}

/*
 * out[r][0..dp) += sum_{kk < k} a_r[kk] b[kk][0..dp) for r < rows (<= 4),
 * with b packed by pack_nn over K rows: column panel p sits at packed + p * K
 * and row kk of the product starts k0 rows into it. k runs in blocks of 512,
 * so the four A rows stay in L1 next to the streamed B panel.
 */
static inline void gemm_acc_rows(const float *a0, const float *a1, const float *a2, const float *a3, int rows,
                                 const float *packed, int kp_total, int k0, int k, int dp, float *out, size_t ldo) {
  for (int kb = 0; kb < k; kb += 512) {
    const int kl = min_i(512, k - kb);
    for (int j0 = 0; j0 < dp; j0 += 8) {
      const Tile4x8 t = tile_4x8(a0 + kb, a1 + kb, a2 + kb, a3 + kb, packed + (size_t)j0 * kp_total + (size_t)(k0 + kb) * 8, kl);
      float *o = out + j0;
      for (int r = 0; r < rows; r++, o += ldo) {
        V_STORE(o, V_ADD(V_LOAD(o), tile_lo(&t, r)));
        V_STORE(o + 4, V_ADD(V_LOAD(o + 4), tile_hi(&t, r)));
      }
    }
  }
}

#endif
