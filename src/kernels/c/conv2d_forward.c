/*
 * The forward 2-D convolution y = act(conv2d(x, w) + bias) in NHWC as a GEMM
 * over blocks of output pixels (the transpose of the input gradient's
 * scheme in conv2d_backprop.c):
 *
 *   y[m][co] = sum_k cols(x)[m][k] . W[k][co],   K = kh*kw*c,  M = n*oh*ow
 *
 * A block of im2col rows (zero where a tap reads padding) is formed in
 * scratch, small enough to stay in cache, and multiplied by W packed in
 * panels of 8 output channels with the 4 x 8 register tile of gemm.h; the
 * bias and the activation are applied to the tile before it is stored, so y
 * is written once.
 *
 * Work splits over output pixels [m0, m1) (each thread with its own block
 * scratch); W is packed once per call by conv2d_forward_pack.
 */
#include "gemm.h"

/* im2col rows per block: ~64 KiB of rows, a multiple of 4 between 16 and 256. */
INLINE int forward_block_rows(int k) { return max_i(16, min_i(256, 16384 / k)) & ~3; }

EXPORT(conv2d_forward_packed_floats)
int conv2d_forward_packed_floats(int kh, int kw, int c, int co) { return kh * kw * c * round_up(co, 8); }

EXPORT(conv2d_forward_block_floats)
int conv2d_forward_block_floats(int kh, int kw, int c) {
  const int k = kh * kw * c;
  return forward_block_rows(k) * k;
}

/* W [K][co] (tfjs's [kh][kw][c][co]) into panels of 8 output channels, [co/8][K][8], zero past co. */
EXPORT(conv2d_forward_pack)
void conv2d_forward_pack(const float *w, float *packed, int k, int co) { pack_nn(w, k, co, (size_t)co, 0, packed); }

/* Row mi of the block: the K = kh*kw*c input values output pixel (b, oy, ox) reads, zero on padding. */
INLINE void im2col_row(const float *x, float *row, int b, int oy, int ox, int h, int w, int c, int kh, int kw,
                       int sh, int sw, int dh, int dw, int pt, int pl) {
  const int ih0 = oy * sh - pt, iw0 = ox * sw - pl;
  for (int ky = 0; ky < kh; ky++) {
    const int ih = ih0 + ky * dh;
    const int row_ok = ih >= 0 && ih < h;
    for (int kx = 0; kx < kw; kx++) {
      const int iw = iw0 + kx * dw;
      float *dst = row + (ky * kw + kx) * c;
      if (row_ok && iw >= 0 && iw < w) {
        const float *src = x + (((size_t)b * h + ih) * w + iw) * c;
        int ci = 0;
        for (; ci + 4 <= c; ci += 4) V_STORE(dst + ci, V_LOAD(src + ci));
        for (; ci < c; ci++) dst[ci] = src[ci];
      } else {
        int ci = 0;
        for (; ci + 4 <= c; ci += 4) V_STORE(dst + ci, V_ZERO());
        for (; ci < c; ci++) dst[ci] = 0.0f;
      }
    }
  }
}

/* act(v + bias): activation 0 linear, 1 relu, 2 relu6. */
INLINE v128_t epilogue(v128_t v, v128_t bias, int activation) {
  v = V_ADD(v, bias);
  if (activation == 1) v = wasm_f32x4_max(v, V_ZERO());
  else if (activation == 2) v = wasm_f32x4_min(wasm_f32x4_max(v, V_ZERO()), wasm_f32x4_splat(6.0f));
  return v;
}

/*
 * y rows [m0, m1) = act(cols(x) . W + bias), with W packed by
 * conv2d_forward_pack and `block` holding conv2d_forward_block_floats floats.
 * bias may be null. activation: 0 linear, 1 relu, 2 relu6.
 */
EXPORT(conv2d_forward)
void conv2d_forward(const float *x, const float *packed, const float *bias, float *y, float *block,
                    int n, int h, int w, int c, int oh, int ow, int co, int kh, int kw,
                    int sh, int sw, int dh, int dw, int pt, int pl, int activation, int m0, int m1) {
  (void)n;
  const int k = kh * kw * c;
  const int rows_per_block = forward_block_rows(k);
  const int cop = round_up(co, 8);
  for (int mb = m0; mb < m1; mb += rows_per_block) {
    const int rows = min_i(rows_per_block, m1 - mb);
    int b = mb / (oh * ow);
    const int rem = mb - b * oh * ow;
    int oy = rem / ow, ox = rem % ow;
    for (int mi = 0; mi < rows; mi++) {
      im2col_row(x, block + (size_t)mi * k, b, oy, ox, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl);
      if (++ox == ow) {
        ox = 0;
        if (++oy == oh) {
          oy = 0;
          b++;
        }
      }
    }
    for (int p = 0; p < cop; p += 8) {
      const float *bp = packed + (size_t)p * k;
      const int cols = min_i(8, co - p);
      v128_t b0 = V_ZERO(), b1 = V_ZERO();
      if (bias) {
        if (cols == 8) {
          b0 = V_LOAD(bias + p);
          b1 = V_LOAD(bias + p + 4);
        } else {
          float tmp[8] = {0};
          for (int t = 0; t < cols; t++) tmp[t] = bias[p + t];
          b0 = V_LOAD(tmp);
          b1 = V_LOAD(tmp + 4);
        }
      }
      for (int r = 0; r < rows; r += 4) {
        const int rn = min_i(4, rows - r);
        const float *a0 = block + (size_t)r * k;
        const float *a1 = rn > 1 ? a0 + k : a0, *a2 = rn > 2 ? a0 + 2 * (size_t)k : a0, *a3 = rn > 3 ? a0 + 3 * (size_t)k : a0;
        Tile4x8 t = tile_4x8(a0, a1, a2, a3, bp, k);
        t.c00 = epilogue(t.c00, b0, activation); t.c01 = epilogue(t.c01, b1, activation);
        t.c10 = epilogue(t.c10, b0, activation); t.c11 = epilogue(t.c11, b1, activation);
        t.c20 = epilogue(t.c20, b0, activation); t.c21 = epilogue(t.c21, b1, activation);
        t.c30 = epilogue(t.c30, b0, activation); t.c31 = epilogue(t.c31, b1, activation);
        tile_store(&t, y + ((size_t)mb + r) * co + p, (size_t)co, rn, cols);
      }
    }
  }
}
