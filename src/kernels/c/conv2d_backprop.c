/*
 * Gradients of a 2-D convolution y = conv2d(x, w) in NHWC, as GEMMs over
 * blocks of output pixels.
 *
 *   x  [n, h, w, c]        w  [kh, kw, c, co] = [K, co] with K = kh*kw*c
 *   y  [n, oh, ow, co]     M = n*oh*ow output pixels
 *
 *   dW = cols(x)^T . dy    (K x co), summed over M
 *   dX = col2im(dy . W^T)  (dy . W^T is M x K, scattered back onto x)
 *
 * cols(x) is the im2col matrix (M x K): row m holds the kh*kw*c input values
 * output pixel m reads, zero where it reads padding. It is never materialised
 * whole: a block of rows is packed at a time, small enough to stay in cache,
 * and the GEMM accumulates over blocks. Strides, dilations and any padding are
 * handled by the packing (for dW) and the scatter (for dX); the GEMMs only see
 * dense panels. The register tile is 4 x 8 (8 f32x4 accumulators), which
 * measured fastest on V8 (6 x 8 and 8 x 8 spill registers).
 */
#include "simd.h"

/* Rows (output pixels) per block of the filter gradient: the packed block is
 * rows * Kp floats and the dy block rows * Cop floats; ~256 KiB keeps both in L2. */
INLINE int filter_block_rows(int kp, int cop) {
  int rows = 65536 / (kp + cop);
  return max_i(16, min_i(512, rows));
}

/* Rows per block of the input gradient: the dy.W^T block is rows * Kp8 floats. */
INLINE int input_block_rows(int kp8) {
  int rows = 32768 / kp8;
  rows = max_i(8, min_i(256, rows));
  return rows & ~3;
}

EXPORT(conv2d_backprop_filter_scratch)
int conv2d_backprop_filter_scratch(int kh, int kw, int c, int co) {
  int k = kh * kw * c, kp = round_up(k, 4), cop = round_up(co, 8);
  int rows = filter_block_rows(kp, cop);
  return (kp * cop + kp * rows + rows * cop) * (int)sizeof(float);
}

/*
 * Packs columns [ka, kb) (multiples of 4) of rows [m0, m0 + rows) of cols(x)
 * into panels of 4 columns: element (m, k) lands at
 * (((k - ka) / 4) * rows + m) * 4 + k % 4, so the GEMM reads each panel front
 * to back. Columns K..Kp-1 are zero.
 */
static void pack_cols(const float *x, float *panel, int rows, int m0, int ka, int kb, int k,
                      int h, int w, int c, int oh, int ow, int kh, int kw,
                      int sh, int sw, int dh, int dw, int pt, int pl) {
  int b = m0 / (oh * ow);
  const int rem = m0 - b * oh * ow;
  int oy = rem / ow, ox = rem % ow;
  const int tap0 = ka / c, tap1 = min_i(kh * kw, (kb + c - 1) / c); /* taps whose channels meet [ka, kb) */
  for (int mi = 0; mi < rows; mi++) {
    const int ih0 = oy * sh - pt, iw0 = ox * sw - pl;
    for (int tap = tap0; tap < tap1; tap++) {
      const int ky = tap / kw, kx = tap % kw;
      const int ih = ih0 + ky * dh, iw = iw0 + kx * dw;
      const int ok = ih >= 0 && ih < h && iw >= 0 && iw < w;
      const int k0 = tap * c;
      const int c_lo = max_i(0, ka - k0), c_hi = min_i(c, kb - k0);
      const float *src = ok ? x + (((size_t)b * h + ih) * w + iw) * c : 0;
      if ((c & 3) == 0) {
        /* ka and kb are multiples of 4, so is the channel span. */
        float *dst = panel + ((size_t)((k0 + c_lo - ka) >> 2) * rows + mi) * 4;
        const size_t step = (size_t)rows * 4;
        if (ok) {
          for (int g = c_lo; g < c_hi; g += 4, dst += step) V_STORE(dst, V_LOAD(src + g));
        } else {
          for (int g = c_lo; g < c_hi; g += 4, dst += step) V_STORE(dst, V_ZERO());
        }
      } else {
        for (int ci = c_lo; ci < c_hi; ci++) {
          const int kk = k0 + ci - ka;
          panel[((size_t)(kk >> 2) * rows + mi) * 4 + (kk & 3)] = ok ? src[ci] : 0.0f;
        }
      }
    }
    for (int kk = max_i(k, ka); kk < kb; kk++) {
      const int kr = kk - ka;
      panel[((size_t)(kr >> 2) * rows + mi) * 4 + (kr & 3)] = 0.0f;
    }
    if (++ox == ow) {
      ox = 0;
      if (++oy == oh) {
        oy = 0;
        b++;
      }
    }
  }
}

/* acc[kp][cop] += A^T . B, with A packed by pack_cols (rows x kp) and B rows x cop (row stride ldb). */
static void gemm_tn_accumulate(const float *panel, int rows, const float *bmat, int ldb, float *acc,
                               int kp, int cop) {
  for (int ct = 0; ct < cop; ct += 8) {
    for (int kt = 0; kt < kp; kt += 4) {
      const float *a = panel + (size_t)kt * rows;
      const float *bp = bmat + ct;
      v128_t c00 = V_ZERO(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      for (int m = 0; m < rows; m++) {
        const v128_t b0 = V_LOAD(bp), b1 = V_LOAD(bp + 4);
        v128_t s = V_SPLAT_LOAD(a);
        c00 = V_MADD(c00, s, b0);
        c01 = V_MADD(c01, s, b1);
        s = V_SPLAT_LOAD(a + 1);
        c10 = V_MADD(c10, s, b0);
        c11 = V_MADD(c11, s, b1);
        s = V_SPLAT_LOAD(a + 2);
        c20 = V_MADD(c20, s, b0);
        c21 = V_MADD(c21, s, b1);
        s = V_SPLAT_LOAD(a + 3);
        c30 = V_MADD(c30, s, b0);
        c31 = V_MADD(c31, s, b1);
        a += 4;
        bp += ldb;
      }
      float *o = acc + (size_t)kt * cop + ct;
      V_STORE(o, V_ADD(V_LOAD(o), c00));
      V_STORE(o + 4, V_ADD(V_LOAD(o + 4), c01));
      o += cop;
      V_STORE(o, V_ADD(V_LOAD(o), c10));
      V_STORE(o + 4, V_ADD(V_LOAD(o + 4), c11));
      o += cop;
      V_STORE(o, V_ADD(V_LOAD(o), c20));
      V_STORE(o + 4, V_ADD(V_LOAD(o + 4), c21));
      o += cop;
      V_STORE(o, V_ADD(V_LOAD(o), c30));
      V_STORE(o + 4, V_ADD(V_LOAD(o + 4), c31));
    }
  }
}

/*
 * The filter gradient of a first layer (c = 1..3 input channels, co a
 * multiple of 8) without im2col: with so few channels, packing the patches
 * would cost as much as the GEMM. For each output row and tap, the input
 * pixels the row reads are contiguous (stride sw), so x is read in place; the
 * c x 8 block of dW being accumulated stays in registers over the row.
 */
INLINE void filter_grad_small_c(const float *x, const float *dy, float *dwt, const int c,
                                int n, int h, int w, int oh, int ow, int co, int kh, int kw,
                                int sh, int sw, int dh, int dw, int pt, int pl, int ct0, int ct1) {
  for (int r = 0; r < kh * kw * c; r++) zero_floats(dwt + (size_t)r * co + ct0, (size_t)(ct1 - ct0));
  for (int b = 0; b < n; b++) {
    for (int oy = 0; oy < oh; oy++) {
      const float *dy_row = dy + (((size_t)b * oh + oy) * ow) * co;
      for (int ky = 0; ky < kh; ky++) {
        const int ih = oy * sh + ky * dh - pt;
        if (ih < 0 || ih >= h) continue;
        const float *x_row = x + (((size_t)b * h + ih) * w) * c;
        for (int kx = 0; kx < kw; kx++) {
          const int off = kx * dw - pl;
          int lo, hi;
          valid_range(w, sw, off, ow, &lo, &hi);
          if (lo >= hi) continue;
          float *tap = dwt + (size_t)(ky * kw + kx) * c * co;
          for (int ct = ct0; ct < ct1; ct += 8) {
            v128_t a00 = V_LOAD(tap + ct), a01 = V_LOAD(tap + ct + 4);
            v128_t a10 = V_ZERO(), a11 = a10, a20 = a10, a21 = a10;
            if (c > 1) { a10 = V_LOAD(tap + co + ct); a11 = V_LOAD(tap + co + ct + 4); }
            if (c > 2) { a20 = V_LOAD(tap + 2 * co + ct); a21 = V_LOAD(tap + 2 * co + ct + 4); }
            const float *xp = x_row + (size_t)(lo * sw + off) * c;
            const float *dp = dy_row + (size_t)lo * co + ct;
            for (int ox = lo; ox < hi; ox++, xp += sw * c, dp += co) {
              const v128_t b0 = V_LOAD(dp), b1 = V_LOAD(dp + 4);
              v128_t s = V_SPLAT_LOAD(xp);
              a00 = V_MADD(a00, s, b0);
              a01 = V_MADD(a01, s, b1);
              if (c > 1) {
                s = V_SPLAT_LOAD(xp + 1);
                a10 = V_MADD(a10, s, b0);
                a11 = V_MADD(a11, s, b1);
              }
              if (c > 2) {
                s = V_SPLAT_LOAD(xp + 2);
                a20 = V_MADD(a20, s, b0);
                a21 = V_MADD(a21, s, b1);
              }
            }
            V_STORE(tap + ct, a00);
            V_STORE(tap + ct + 4, a01);
            if (c > 1) { V_STORE(tap + co + ct, a10); V_STORE(tap + co + ct + 4, a11); }
            if (c > 2) { V_STORE(tap + 2 * co + ct, a20); V_STORE(tap + 2 * co + ct + 4, a21); }
          }
        }
      }
    }
  }
}

INLINE int small_c_path(int c, int co) { return c <= 3 && (co & 7) == 0; }

/*
 * Work units of conv2d_backprop_filter: groups of 4 rows of dW [K, co] (K =
 * kh*kw*c), or groups of 8 of its columns on the first-layer path (c <= 3).
 * Every dW element is summed by one unit over all output pixels, in the same
 * order whatever the split.
 */
EXPORT(conv2d_backprop_filter_units)
int conv2d_backprop_filter_units(int kh, int kw, int c, int co) {
  return small_c_path(c, co) ? co / 8 : round_up(kh * kw * c, 4) / 4;
}

/*
 * dw[kh][kw][c][co] = sum over output pixels of x-patch (x) dy, for work
 * units [begin, end) of conv2d_backprop_filter_units. scratch:
 * conv2d_backprop_filter_scratch(kh, kw, c, co) bytes, this thread's own.
 */
EXPORT(conv2d_backprop_filter)
void conv2d_backprop_filter(const float *x, const float *dy, float *dwt, float *scratch,
                            int n, int h, int w, int c, int oh, int ow, int co, int kh, int kw,
                            int sh, int sw, int dh, int dw, int pt, int pl, int begin, int end) {
  if (small_c_path(c, co)) {
    const int ct0 = 8 * begin, ct1 = 8 * end;
    /* Separate calls with a constant c, so each gets its own register allocation. */
    if (c == 1) filter_grad_small_c(x, dy, dwt, 1, n, h, w, oh, ow, co, kh, kw, sh, sw, dh, dw, pt, pl, ct0, ct1);
    else if (c == 2) filter_grad_small_c(x, dy, dwt, 2, n, h, w, oh, ow, co, kh, kw, sh, sw, dh, dw, pt, pl, ct0, ct1);
    else filter_grad_small_c(x, dy, dwt, 3, n, h, w, oh, ow, co, kh, kw, sh, sw, dh, dw, pt, pl, ct0, ct1);
    return;
  }
  const int k = kh * kw * c, kp = round_up(k, 4), cop = round_up(co, 8);
  const int ka = 4 * begin, kb = min_i(kp, 4 * end), kr = kb - ka;
  if (kr <= 0) return;
  /* The block size follows the whole filter, so every split sums the same blocks. */
  const int block = filter_block_rows(kp, cop);
  float *acc = scratch;
  float *panel = acc + (size_t)kp * cop;
  float *dyp = panel + (size_t)kp * block;
  zero_floats(acc, (size_t)kr * cop);
  const int m_total = n * oh * ow;
  for (int m0 = 0; m0 < m_total; m0 += block) {
    const int rows = min_i(block, m_total - m0);
    pack_cols(x, panel, rows, m0, ka, kb, k, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl);
    const float *bmat;
    if (co == cop) {
      bmat = dy + (size_t)m0 * co;
    } else {
      /* Pad dy's rows to a multiple of 8 columns so the GEMM has no column tail. */
      for (int m = 0; m < rows; m++) {
        const float *src = dy + ((size_t)m0 + m) * co;
        float *dst = dyp + (size_t)m * cop;
        int j = 0;
        for (; j < co; j++) dst[j] = src[j];
        for (; j < cop; j++) dst[j] = 0.0f;
      }
      bmat = dyp;
    }
    gemm_tn_accumulate(panel, rows, bmat, co == cop ? co : cop, acc, kr, cop);
  }
  for (int kk = ka; kk < min_i(kb, k); kk++) {
    const float *src = acc + (size_t)(kk - ka) * cop;
    float *dst = dwt + (size_t)kk * co;
    for (int j = 0; j < co; j++) dst[j] = src[j];
  }
}

EXPORT(conv2d_backprop_input_scratch)
int conv2d_backprop_input_scratch(int kh, int kw, int c, int co) {
  int kp8 = round_up(kh * kw * c, 8);
  return (kp8 * co + input_block_rows(kp8) * kp8) * (int)sizeof(float);
}

/* out[rows][kp8] = A[rows][co] (row stride co) . B, B packed in panels [kp8/8][co][8]. */
static void gemm_nn_panels(const float *amat, int rows, int co, const float *packed, int kp8, float *out) {
  for (int p = 0; p < kp8; p += 8) {
    const float *bp0 = packed + (size_t)p * co;
    int r = 0;
    for (; r + 4 <= rows; r += 4) {
      const float *a0 = amat + (size_t)r * co, *a1 = a0 + co, *a2 = a1 + co, *a3 = a2 + co;
      const float *bp = bp0;
      v128_t c00 = V_ZERO(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      for (int j = 0; j < co; j++) {
        const v128_t b0 = V_LOAD(bp), b1 = V_LOAD(bp + 4);
        v128_t s = V_SPLAT_LOAD(a0 + j);
        c00 = V_MADD(c00, s, b0);
        c01 = V_MADD(c01, s, b1);
        s = V_SPLAT_LOAD(a1 + j);
        c10 = V_MADD(c10, s, b0);
        c11 = V_MADD(c11, s, b1);
        s = V_SPLAT_LOAD(a2 + j);
        c20 = V_MADD(c20, s, b0);
        c21 = V_MADD(c21, s, b1);
        s = V_SPLAT_LOAD(a3 + j);
        c30 = V_MADD(c30, s, b0);
        c31 = V_MADD(c31, s, b1);
        bp += 8;
      }
      float *o = out + (size_t)r * kp8 + p;
      V_STORE(o, c00);
      V_STORE(o + 4, c01);
      o += kp8;
      V_STORE(o, c10);
      V_STORE(o + 4, c11);
      o += kp8;
      V_STORE(o, c20);
      V_STORE(o + 4, c21);
      o += kp8;
      V_STORE(o, c30);
      V_STORE(o + 4, c31);
    }
    for (; r < rows; r++) {
      const float *a0 = amat + (size_t)r * co;
      const float *bp = bp0;
      v128_t c00 = V_ZERO(), c01 = c00;
      for (int j = 0; j < co; j++) {
        const v128_t s = V_SPLAT_LOAD(a0 + j);
        c00 = V_MADD(c00, s, V_LOAD(bp));
        c01 = V_MADD(c01, s, V_LOAD(bp + 4));
        bp += 8;
      }
      float *o = out + (size_t)r * kp8 + p;
      V_STORE(o, c00);
      V_STORE(o + 4, c01);
    }
  }
}

/*
 * dx[n][h][w][c] = col2im(dy . W^T): each output pixel's row of dy . W^T is
 * added onto the kh*kw input pixels it read (taps on padding are dropped),
 * for the images [begin, end) (the work units: images never share dx, and
 * each is scattered in the same order whatever the split). scratch:
 * conv2d_backprop_input_scratch(kh, kw, c, co) bytes, this thread's own.
 */
EXPORT(conv2d_backprop_input)
void conv2d_backprop_input(const float *dy, const float *wt, float *dx, float *scratch,
                           int n, int h, int w, int c, int oh, int ow, int co, int kh, int kw,
                           int sh, int sw, int dh, int dw, int pt, int pl, int begin, int end) {
  (void)n;
  const int k = kh * kw * c, kp8 = round_up(k, 8);
  const int block = input_block_rows(kp8);
  float *packed = scratch;
  float *cols = packed + (size_t)kp8 * co;
  /* W^T in panels of 8 columns of K, zero beyond K. */
  for (int p = 0; p < kp8; p += 8) {
    float *dst = packed + (size_t)p * co;
    for (int j = 0; j < co; j++) {
      for (int t = 0; t < 8; t++) {
        const int kk = p + t;
        dst[j * 8 + t] = kk < k ? wt[(size_t)kk * co + j] : 0.0f;
      }
    }
  }
  zero_floats(dx + (size_t)begin * h * w * c, (size_t)(end - begin) * h * w * c);
  const int m_start = begin * oh * ow, m_total = end * oh * ow;
  int b = begin, oy = 0, ox = 0;
  for (int m0 = m_start; m0 < m_total; m0 += block) {
    const int rows = min_i(block, m_total - m0);
    gemm_nn_panels(dy + (size_t)m0 * co, rows, co, packed, kp8, cols);
    for (int mi = 0; mi < rows; mi++) {
      const int ih0 = oy * sh - pt, iw0 = ox * sw - pl;
      const float *src_row = cols + (size_t)mi * kp8;
      for (int ky = 0; ky < kh; ky++) {
        const int ih = ih0 + ky * dh;
        if (ih < 0 || ih >= h) continue;
        for (int kx = 0; kx < kw; kx++) {
          const int iw = iw0 + kx * dw;
          if (iw < 0 || iw >= w) continue;
          float *dst = dx + (((size_t)b * h + ih) * w + iw) * c;
          const float *src = src_row + (ky * kw + kx) * c;
          int ci = 0;
          for (; ci + 4 <= c; ci += 4) V_STORE(dst + ci, V_ADD(V_LOAD(dst + ci), V_LOAD(src + ci)));
          for (; ci < c; ci++) dst[ci] += src[ci];
        }
      }
      if (++ox == ow) {
        ox = 0;
        if (++oy == oh) {
          oy = 0;
          b++;
        }
      }
    }
  }
}
