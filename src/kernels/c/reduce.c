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

/*
 * out[j] = scale * sum over r of x[r][j], for x [rows, cols]: the sum (or mean) over the
 * leading axes of a tensor whose trailing axes have cols elements. Blocks of
 * rows are summed in registers (each block's rows stay in cache while its
 * column chunks are swept), then added to the total.
 */
EXPORT(sum_leading_axes)
void sum_leading_axes(const float *x, float *out, int rows, int cols, float scale) {
  zero_floats(out, (size_t)cols);
  /* Wide rows: a block is already a long contiguous sweep; keep blocks within ~32 KiB. */
  int block = SUM_BLOCK_ROWS;
  if (cols > 64) block = max_i(1, 8192 / cols);
  for (int r0 = 0; r0 < rows; r0 += block) {
    add_rows(x + (size_t)r0 * cols, min_i(block, rows - r0), cols, out);
  }
  /* scale = 1 / rows makes it the mean. */
  if (scale != 1.0f) {
    for (int j = 0; j < cols; j++) out[j] *= scale;
  }
}
