/*
 * Reductions the wasm backend does slowly.
 *
 * tfjs-backend-wasm reduces only over the innermost axes and transposes the
 * input first otherwise, so the bias gradient of every conv and dense layer
 * (a sum of dy [n, h, w, c] over n, h, w) pays a full transpose. Here the
 * leading axes are summed in place, vectorised over the trailing ones.
 */
#include "simd.h"

/* Rows summed into a partial before it is added to the total: bounds the
 * float32 rounding error of long sums (two-level summation). */
#define SUM_BLOCK_ROWS 128

/* out[j] += sum_{r < rows} x[r * cols + j] for j < cols. */
static void add_rows(const float *x, int rows, int cols, float *out) {
  int j = 0;
  for (; j + 16 <= cols; j += 16) {
    v128_t a0 = V_ZERO(), a1 = a0, a2 = a0, a3 = a0;
    const float *p = x + j;
    for (int r = 0; r < rows; r++, p += cols) {
      a0 = V_ADD(a0, V_LOAD(p));
      a1 = V_ADD(a1, V_LOAD(p + 4));
      a2 = V_ADD(a2, V_LOAD(p + 8));
      a3 = V_ADD(a3, V_LOAD(p + 12));
    }
    V_STORE(out + j, V_ADD(V_LOAD(out + j), a0));
    V_STORE(out + j + 4, V_ADD(V_LOAD(out + j + 4), a1));
    V_STORE(out + j + 8, V_ADD(V_LOAD(out + j + 8), a2));
    V_STORE(out + j + 12, V_ADD(V_LOAD(out + j + 12), a3));
  }
  for (; j + 4 <= cols; j += 4) {
    v128_t a0 = V_ZERO();
    const float *p = x + j;
    for (int r = 0; r < rows; r++, p += cols) a0 = V_ADD(a0, V_LOAD(p));
    V_STORE(out + j, V_ADD(V_LOAD(out + j), a0));
  }
  for (; j < cols; j++) {
    float s = 0.0f;
    const float *p = x + j;
    for (int r = 0; r < rows; r++, p += cols) s += *p;
    out[j] += s;
  }
}

/* Rows summed in registers per block: ~32 KiB of wide rows, else SUM_BLOCK_ROWS. */
EXPORT(sum_block_rows)
int sum_block_rows(int cols) { return cols > 64 ? max_i(1, 8192 / cols) : SUM_BLOCK_ROWS; }

/*
 * partials[blk][j] = sum over the rows of block blk of x[r][j], for the
 * blocks [begin, end) (the work units) of x [rows, cols], blocks of
 * sum_block_rows(cols) rows. Each block's rows stay in cache while its
 * column chunks are swept.
 */
EXPORT(sum_leading_axes_blocks)
void sum_leading_axes_blocks(const float *x, float *partials, int rows, int cols, int begin, int end) {
  const int block = sum_block_rows(cols);
  for (int blk = begin; blk < end; blk++) {
    const int r0 = blk * block;
    float *out = partials + (size_t)blk * cols;
    zero_floats(out, (size_t)cols);
    add_rows(x + (size_t)r0 * cols, min_i(block, rows - r0), cols, out);
  }
}

/*
 * out[j] = scale * sum over the blocks of partials[blk][j], blocks in order
 * (scale = 1 / rows makes it the mean): the sum over the leading axes of a
 * tensor whose trailing axes have cols elements. The per-block partial sums
 * bound float32 rounding (two-level summation), and the fixed block order
 * makes the result independent of how the blocks were split over threads.
 */
EXPORT(sum_leading_axes_total)
void sum_leading_axes_total(const float *partials, float *out, int blocks, int cols, float scale) {
  zero_floats(out, (size_t)cols);
  for (int blk = 0; blk < blocks; blk++) {
    const float *p = partials + (size_t)blk * cols;
    int j = 0;
    for (; j + 4 <= cols; j += 4) V_STORE(out + j, V_ADD(V_LOAD(out + j), V_LOAD(p + j)));
    for (; j < cols; j++) out[j] += p[j];
  }
  if (scale != 1.0f) {
    for (int j = 0; j < cols; j++) out[j] *= scale;
  }
}
