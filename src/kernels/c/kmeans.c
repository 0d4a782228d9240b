/*
 * One Lloyd iteration of k-means (src/losses/k-means.ts): for each block of 4
 * rows, the scores ||c_j||^2 - 2 x.c_j against every centroid come out of the
 * 4 x 8 SIMD tile and are reduced to a running argmin in registers (lowest
 * index on ties, as tf.argMin and scikit-learn), so the N x k distance matrix
 * is never written; then each cluster's rows are summed (float32, in sample
 * order, as scikit-learn's Lloyd does). Rows go in chunks and centroids in
 * groups that fit L1 together. The phases (kmeans_prepare,
 * kmeans_assign_rows, kmeans_sums, kmeans_means) are split over threads by
 * centroid panels, row chunks and column groups; every output is computed
 * by one thread in a fixed order, so any split gives the same bits.
 */
#include "gemm.h"

INLINE int lane_i(v128_t v, int l) {
  return l == 0 ? wasm_i32x4_extract_lane(v, 0)
                : l == 1 ? wasm_i32x4_extract_lane(v, 1) : l == 2 ? wasm_i32x4_extract_lane(v, 2) : wasm_i32x4_extract_lane(v, 3);
}
INLINE float lane_f(v128_t v, int l) {
  return l == 0 ? wasm_f32x4_extract_lane(v, 0)
                : l == 1 ? wasm_f32x4_extract_lane(v, 1) : l == 2 ? wasm_f32x4_extract_lane(v, 2) : wasm_f32x4_extract_lane(v, 3);
}

/* (best, index) <- the lane-wise minimum of (best, index) and (v, vi); ties keep the earlier (lower) index. */
INLINE void argmin_update(v128_t *best, v128_t *index, v128_t v, v128_t vi) {
  const v128_t lower = wasm_f32x4_lt(v, *best);
  *best = wasm_v128_bitselect(v, *best, lower);
  *index = wasm_v128_bitselect(vi, *index, lower);
}

/* Centroid panels swept per group, and rows per chunk: a group's packed centroids (PANEL_GROUP * 8 * d floats)
 * and a chunk's rows (CHUNK_ROWS * d floats) fit in L1 together for d <= 128, instead of every 4-row block
 * streaming all k centroids from L2. */
#define PANEL_GROUP 6
#define CHUNK_ROWS 32

/* Scratch per thread of kmeans_assign_rows: the per-row running minima of a chunk. */
EXPORT(kmeans_scratch)
int kmeans_scratch(int d, int k) {
  (void)d;
  (void)k;
  return 2 * 4 * CHUNK_ROWS * (int)sizeof(float);
}

/* Work units of kmeans_assign_rows: chunks of CHUNK_ROWS rows. */
EXPORT(kmeans_row_chunks)
int kmeans_row_chunks(int n) { return (n + CHUNK_ROWS - 1) / CHUNK_ROWS; }

/*
 * For the centroid panels [begin, end) of 8: cnorm[j] = ||c_j||^2 (+inf for
 * the padding past k, which never wins) and c packed as B^T
 * (packed [round_up(k, 8) / 8][d][8]).
 */
EXPORT(kmeans_prepare)
void kmeans_prepare(const float *c, float *packed, float *cnorm, int d, int k, int begin, int end) {
  for (int j = 8 * begin; j < 8 * end; j++) {
    if (j < k) {
      const float *cj = c + (size_t)j * d;
      float s = 0.0f;
      for (int t = 0; t < d; t++) s += cj[t] * cj[t];
      cnorm[j] = s;
    } else {
      cnorm[j] = __builtin_inff();
    }
  }
  pack_nt_panels(c, k, d, (size_t)d, 0, packed, begin, end);
}

/*
 * labels[i] = argmin_j ||c_j||^2 - 2 x_i.c_j for the row chunks [begin, end)
 * of x [n, d], with c prepared by kmeans_prepare. If row_inertia is not null,
 * row_inertia[i] = ||x_i - c_{label_i}||^2 (double accumulation). scratch:
 * kmeans_scratch(d, k) bytes, this thread's own.
 */
EXPORT(kmeans_assign_rows)
void kmeans_assign_rows(const float *x, const float *c, const float *packed, const float *cnorm, int *labels,
                        double *row_inertia, float *scratch, int n, int d, int k, int begin, int end) {
  const int kp = round_up(k, 8);
  v128_t *best = (v128_t *)scratch; /* per row of a chunk: lane-wise best score, then its index */
  v128_t *index = best + CHUNK_ROWS;
  const v128_t two = wasm_f32x4_splat(2.0f), four = wasm_i32x4_splat(4);
  for (int c0 = begin * CHUNK_ROWS; c0 < n && c0 < end * CHUNK_ROWS; c0 += CHUNK_ROWS) {
    const int c1 = min_i(n, c0 + CHUNK_ROWS);
    for (int r = 0; r < c1 - c0; r++) {
      best[r] = wasm_f32x4_splat(__builtin_inff());
      index[r] = wasm_i32x4_splat(0);
    }
    for (int g0 = 0; g0 < kp; g0 += 8 * PANEL_GROUP) {
      const int g1 = min_i(kp, g0 + 8 * PANEL_GROUP);
      for (int i0 = c0; i0 < c1; i0 += 4) {
        const int rows = min_i(4, c1 - i0);
        const float *a0 = x + (size_t)i0 * d;
        const float *a1 = rows > 1 ? a0 + d : a0, *a2 = rows > 2 ? a0 + 2 * d : a0, *a3 = rows > 3 ? a0 + 3 * d : a0;
        const int r0 = i0 - c0;
        v128_t b0 = best[r0], b1 = best[r0 + 1 < CHUNK_ROWS ? r0 + 1 : r0], b2 = best[r0 + 2 < CHUNK_ROWS ? r0 + 2 : r0],
               b3 = best[r0 + 3 < CHUNK_ROWS ? r0 + 3 : r0];
        v128_t x0 = index[r0], x1 = index[r0 + 1 < CHUNK_ROWS ? r0 + 1 : r0], x2 = index[r0 + 2 < CHUNK_ROWS ? r0 + 2 : r0],
               x3 = index[r0 + 3 < CHUNK_ROWS ? r0 + 3 : r0];
        v128_t idx = wasm_i32x4_add(wasm_i32x4_splat(g0), wasm_i32x4_make(0, 1, 2, 3));
        for (int j0 = g0; j0 < g1; j0 += 8) {
          const v128_t nlo = V_LOAD(cnorm + j0);
          if (k - j0 <= 4) {
            /* The last panel holds at most 4 centroids: half a tile. */
            const Tile4x4 t = tile_4x4(a0, a1, a2, a3, packed + (size_t)j0 * d, d);
            argmin_update(&b0, &x0, wasm_f32x4_sub(nlo, V_MUL(two, t.c0)), idx);
            argmin_update(&b1, &x1, wasm_f32x4_sub(nlo, V_MUL(two, t.c1)), idx);
            argmin_update(&b2, &x2, wasm_f32x4_sub(nlo, V_MUL(two, t.c2)), idx);
            argmin_update(&b3, &x3, wasm_f32x4_sub(nlo, V_MUL(two, t.c3)), idx);
          } else {
            const Tile4x8 t = tile_4x8(a0, a1, a2, a3, packed + (size_t)j0 * d, d);
            const v128_t nhi = V_LOAD(cnorm + j0 + 4);
            const v128_t idx_hi = wasm_i32x4_add(idx, four);
            argmin_update(&b0, &x0, wasm_f32x4_sub(nlo, V_MUL(two, t.c00)), idx);
            argmin_update(&b0, &x0, wasm_f32x4_sub(nhi, V_MUL(two, t.c01)), idx_hi);
            argmin_update(&b1, &x1, wasm_f32x4_sub(nlo, V_MUL(two, t.c10)), idx);
            argmin_update(&b1, &x1, wasm_f32x4_sub(nhi, V_MUL(two, t.c11)), idx_hi);
            argmin_update(&b2, &x2, wasm_f32x4_sub(nlo, V_MUL(two, t.c20)), idx);
            argmin_update(&b2, &x2, wasm_f32x4_sub(nhi, V_MUL(two, t.c21)), idx_hi);
            argmin_update(&b3, &x3, wasm_f32x4_sub(nlo, V_MUL(two, t.c30)), idx);
            argmin_update(&b3, &x3, wasm_f32x4_sub(nhi, V_MUL(two, t.c31)), idx_hi);
          }
          idx = wasm_i32x4_add(idx, wasm_i32x4_splat(8));
        }
        best[r0] = b0;
        index[r0] = x0;
        if (rows > 1) best[r0 + 1] = b1, index[r0 + 1] = x1;
        if (rows > 2) best[r0 + 2] = b2, index[r0 + 2] = x2;
        if (rows > 3) best[r0 + 3] = b3, index[r0 + 3] = x3;
      }
    }
    for (int i = c0; i < c1; i++) {
      /* Lanes hold candidates of different columns: the smallest value, lowest index among equals. */
      const v128_t bv = best[i - c0], xv = index[i - c0];
      float bestv = lane_f(bv, 0);
      int arg = lane_i(xv, 0);
      for (int l = 1; l < 4; l++) {
        const float v = lane_f(bv, l);
        const int a = lane_i(xv, l);
        if (v < bestv || (v == bestv && a < arg)) {
          bestv = v;
          arg = a;
        }
      }
      labels[i] = arg;
      if (row_inertia) {
        const float *xi = x + (size_t)i * d;
        const float *cj = c + (size_t)arg * d;
        v128_t acc = V_ZERO();
        int t = 0;
        for (; t + 4 <= d; t += 4) {
          const v128_t diff = wasm_f32x4_sub(V_LOAD(xi + t), V_LOAD(cj + t));
          acc = V_MADD(acc, diff, diff);
        }
        double s = (double)wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) +
                   wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3);
        for (; t < d; t++) s += (double)(xi[t] - cj[t]) * (xi[t] - cj[t]);
        row_inertia[i] = s;
      }
    }
  }
}

/* Work units of kmeans_sums: groups of 4 of the d columns. */
EXPORT(kmeans_column_groups)
int kmeans_column_groups(int d) { return (d + 3) / 4; }

/*
 * sums [k, d] = the sum of each cluster's rows (float32, in sample order, as
 * scikit-learn's Lloyd does) for the column groups [begin, end), and counts
 * [k] the cluster sizes (by the thread that has column group 0). Each sum
 * element is accumulated in sample order by one thread whatever the split.
 */
EXPORT(kmeans_sums)
void kmeans_sums(const float *x, const int *labels, float *sums, float *counts, int n, int d, int k, int begin, int end) {
  const int t0 = 4 * begin, t1 = min_i(d, 4 * end), t4 = t0 + ((t1 - t0) & ~3);
  for (int j = 0; j < k; j++) zero_floats(sums + (size_t)j * d + t0, (size_t)(t1 - t0));
  for (int i = 0; i < n; i++) {
    const float *xi = x + (size_t)i * d;
    float *s = sums + (size_t)labels[i] * d;
    int t = t0;
    for (; t < t4; t += 4) V_STORE(s + t, V_ADD(V_LOAD(s + t), V_LOAD(xi + t)));
    for (; t < t1; t++) s[t] += xi[t];
  }
  if (begin == 0) {
    zero_floats(counts, (size_t)k);
    for (int i = 0; i < n; i++) counts[labels[i]] += 1.0f;
  }
}

/* *out = (float)(sum of v[0..n) in order): the inertia from per-row terms. */
EXPORT(sum_of_doubles)
void sum_of_doubles(const double *v, int n, float *out) {
  double total = 0.0;
  for (int i = 0; i < n; i++) total += v[i];
  *out = (float)total;
}

/* next[j] = sums[j] / counts[j] where counts[j] > 0, else c[j] (an empty cluster keeps its centroid). */
EXPORT(kmeans_means)
void kmeans_means(const float *sums, const float *counts, const float *c, float *next, int d, int k) {
  for (int j = 0; j < k; j++) {
    const float *src = counts[j] > 0.0f ? sums + (size_t)j * d : c + (size_t)j * d;
    const float s = counts[j] > 0.0f ? counts[j] : 1.0f;
    for (int t = 0; t < d; t++) next[(size_t)j * d + t] = src[t] / s;
  }
}
