/*
 * One Lloyd iteration of k-means (src/losses/k-means.ts) in one pass over
 * the samples: for each block of 4 rows, the scores ||c_j||^2 - 2 x.c_j
 * against every centroid come out of the 4 x 8 SIMD tile and are reduced to
 * a running argmin in registers (lowest index on ties, as tf.argMin and
 * scikit-learn), so the N x k distance matrix is never written; the rows,
 * still in cache, are then added to their cluster's sum (float32, in sample
 * order, as scikit-learn's Lloyd does). Rows go in chunks and centroids in
 * groups that fit L1 together.
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

EXPORT(kmeans_scratch)
int kmeans_scratch(int d, int k) {
  return (round_up(k, 8) * d + round_up(k, 8) + 2 * 4 * CHUNK_ROWS) * (int)sizeof(float);
}

/*
 * labels[i] = argmin_j ||c_j||^2 - 2 x_i.c_j for x [n, d], c [k, d].
 * If sums is not null: sums [k, d] = sum of the rows of each cluster and
 * counts [k] their sizes (float). If inertia is not null: *inertia = sum_i
 * ||x_i - c_{label_i}||^2 (double accumulation).
 */
EXPORT(kmeans_assign)
void kmeans_assign(const float *x, const float *c, int *labels, float *sums, float *counts, float *inertia,
                   float *scratch, int n, int d, int k) {
  const int kp = round_up(k, 8);
  float *packed = scratch;
  float *cnorm = packed + (size_t)kp * d;
  v128_t *best = (v128_t *)(cnorm + kp); /* per row of a chunk: lane-wise best score, then its index */
  v128_t *index = best + CHUNK_ROWS;
  for (int j = 0; j < kp; j++) {
    if (j < k) {
      const float *cj = c + (size_t)j * d;
      float s = 0.0f;
      for (int t = 0; t < d; t++) s += cj[t] * cj[t];
      cnorm[j] = s;
    } else {
      cnorm[j] = __builtin_inff(); /* padded columns never win */
    }
  }
  pack_nt(c, k, d, d, 0, packed);
  if (sums) {
    zero_floats(sums, (size_t)k * d);
    zero_floats(counts, (size_t)k);
  }
  double total = 0.0;
  const v128_t two = wasm_f32x4_splat(2.0f), four = wasm_i32x4_splat(4);
  for (int c0 = 0; c0 < n; c0 += CHUNK_ROWS) {
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
      const float *xi = x + (size_t)i * d;
      if (sums) {
        float *s = sums + (size_t)arg * d;
        int t = 0;
        for (; t + 4 <= d; t += 4) V_STORE(s + t, V_ADD(V_LOAD(s + t), V_LOAD(xi + t)));
        for (; t < d; t++) s[t] += xi[t];
        counts[arg] += 1.0f;
      }
      if (inertia) {
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
        total += s;
      }
    }
  }
  if (inertia) *inertia = (float)total;
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
