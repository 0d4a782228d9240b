/*
 * tf.tile for any float32 tensor of rank <= 6. tfjs-backend-wasm's Tile
 * computes every output element's source index (~90 ns per element here: the
 * batch-norm gradient tiles [1, 1, 1, c] to a whole activation, ~360 ms for a
 * 128 x 32 x 32 x 32 batch). Here the output is built from block copies: the
 * input rows are placed (each repeated along the last axis), then, from the
 * innermost axis outwards, each filled block is copied reps - 1 times after
 * itself. Every output byte is written once, by memory.copy.
 */
#include "simd.h"

#define TILE_RANK 6

/* Dims and reps are passed leading-padded with 1 to rank 6. */
EXPORT(tile6)
void tile6(const float *x, float *out, int i0, int i1, int i2, int i3, int i4, int i5,
           int r0, int r1, int r2, int r3, int r4, int r5) {
  const int in[TILE_RANK] = {i0, i1, i2, i3, i4, i5};
  const int reps[TILE_RANK] = {r0, r1, r2, r3, r4, r5};
  size_t stride[TILE_RANK]; /* output elements per step of each axis */
  stride[TILE_RANK - 1] = 1;
  for (int d = TILE_RANK - 2; d >= 0; d--) stride[d] = stride[d + 1] * (size_t)in[d + 1] * (size_t)reps[d + 1];
  for (int d = 0; d < TILE_RANK; d++) if (in[d] == 0 || reps[d] == 0) return;

  /* 1. Input rows at their replicate-0 positions, each repeated along the last axis. */
  const size_t row = (size_t)in[TILE_RANK - 1];
  size_t rows = 1;
  for (int d = 0; d < TILE_RANK - 1; d++) rows *= (size_t)in[d];
  for (size_t r = 0; r < rows; r++) {
    size_t rem = r, offset = 0;
    for (int d = TILE_RANK - 2; d >= 0; d--) {
      offset += (rem % (size_t)in[d]) * stride[d];
      rem /= (size_t)in[d];
    }
    float *dst = out + offset;
    const float *src = x + r * row;
    for (int k = 0; k < reps[TILE_RANK - 1]; k++) __builtin_memcpy(dst + (size_t)k * row, src, row * sizeof(float));
  }

  /* 2. From the innermost axis out: replicate each filled block along axis d. */
  for (int d = TILE_RANK - 2; d >= 0; d--) {
    if (reps[d] == 1) continue;
    const size_t block = (size_t)in[d] * stride[d];
    size_t prefixes = 1;
    for (int j = 0; j < d; j++) prefixes *= (size_t)in[j];
    for (size_t p = 0; p < prefixes; p++) {
      size_t rem = p, base = 0;
      for (int j = d - 1; j >= 0; j--) {
        base += (rem % (size_t)in[j]) * stride[j];
        rem /= (size_t)in[j];
      }
      float *src = out + base;
      for (int k = 1; k < reps[d]; k++) __builtin_memcpy(src + (size_t)k * block, src, block * sizeof(float));
    }
  }
}
