/*
 * Hot paths of the augmentation pipelines (src/augment/), on the planar
 * layout the pipelines use inside `compose` ([C, B, H, W]: one plane per
 * channel and sample). Each kernel is one pass per sample over planes that
 * stay in cache, where the tfjs compositions they replace make a pass over
 * the whole batch per elementary op (colour jitter: ~60 ops). They compute
 * the same float32 arithmetic, in the same order, as the compositions in
 * src/augment/color-planes.ts, color-jitter.ts, grayscale.ts,
 * gaussian-blur.ts and tensor-ops.ts (resampleSeparable); sums (plane means,
 * convolution taps) may round differently.
 *
 * Per-sample parameters arrive in a float buffer the caller filled.
 */
#include "simd.h"

/* ITU-R 601-2 luma weights (color-planes.ts GRAY_WEIGHTS), as float32. */
#define W_R 0.2989f
#define W_G 0.587f
#define W_B 0.114f

INLINE v128_t clip01(v128_t v) {
  /* pmin/pmax: one instruction each; tfjs's ClipByValue also maps NaN to a bound-free NaN-or-bound, never relied on. */
  return wasm_f32x4_pmax(wasm_f32x4_pmin(v, wasm_f32x4_splat(1.0f)), wasm_f32x4_splat(0.0f));
}
INLINE float clip01_f(float v) { return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v; }

/* ------------------------------------------------------- range check --- */

/*
 * out[0], out[1] = min and max of x[0..n), both NaN if any value is NaN or
 * infinite (image-input.ts's range summary, one pass instead of three
 * reductions).
 */
EXPORT(min_max)
void min_max(const float *x, float *out, int n) {
  v128_t lo = wasm_f32x4_splat(__builtin_inff()), hi = wasm_f32x4_splat(-__builtin_inff()), bad = V_ZERO();
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t v = V_LOAD(x + i);
    lo = wasm_f32x4_pmin(lo, v);
    hi = wasm_f32x4_pmax(hi, v);
    bad = wasm_v128_or(bad, wasm_f32x4_ne(wasm_f32x4_sub(v, v), V_ZERO())); /* v - v is NaN for NaN and +-inf */
  }
  float mn = __builtin_inff(), mx = -__builtin_inff();
  for (int l = 0; l < 4; l++) {
    const float a = l == 0 ? wasm_f32x4_extract_lane(lo, 0) : l == 1 ? wasm_f32x4_extract_lane(lo, 1) : l == 2 ? wasm_f32x4_extract_lane(lo, 2) : wasm_f32x4_extract_lane(lo, 3);
    const float z = l == 0 ? wasm_f32x4_extract_lane(hi, 0) : l == 1 ? wasm_f32x4_extract_lane(hi, 1) : l == 2 ? wasm_f32x4_extract_lane(hi, 2) : wasm_f32x4_extract_lane(hi, 3);
    mn = a < mn ? a : mn;
    mx = z > mx ? z : mx;
  }
  int nonfinite = wasm_v128_any_true(bad);
  for (; i < n; i++) {
    const float v = x[i];
    if (v - v != 0.0f) nonfinite = 1;
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
  out[0] = nonfinite ? __builtin_nanf("") : mn;
  out[1] = nonfinite ? __builtin_nanf("") : mx;
}

/* ----------------------------------------------------------- layouts --- */

/* out [c][n] = x [n][c] (NHWC pixels to planes) for the pixels [begin, end) (begin a multiple of 4); c = 3 is vectorised. */
EXPORT(to_planar)
void to_planar(const float *x, float *out, int n, int c, int begin, int end) {
  if (c == 3) {
    float *r = out, *g = out + n, *b = out + 2 * (size_t)n;
    int i = begin;
    for (; i + 4 <= end; i += 4) {
      const float *p = x + 3 * (size_t)i;
      const v128_t v0 = V_LOAD(p), v1 = V_LOAD(p + 4), v2 = V_LOAD(p + 8);
      V_STORE(r + i, wasm_i32x4_shuffle(wasm_i32x4_shuffle(v0, v1, 0, 3, 6, 0), v2, 0, 1, 2, 5));
      V_STORE(g + i, wasm_i32x4_shuffle(wasm_i32x4_shuffle(v0, v1, 1, 4, 7, 0), v2, 0, 1, 2, 6));
      V_STORE(b + i, wasm_i32x4_shuffle(wasm_i32x4_shuffle(v0, v1, 2, 5, 0, 0), v2, 0, 1, 4, 7));
    }
    for (; i < end; i++) {
      r[i] = x[3 * (size_t)i];
      g[i] = x[3 * (size_t)i + 1];
      b[i] = x[3 * (size_t)i + 2];
    }
    return;
  }
  for (int i = begin; i < end; i++) {
    for (int ch = 0; ch < c; ch++) out[(size_t)ch * n + i] = x[(size_t)i * c + ch];
  }
}

/* out [n][c] = x [c][n] (planes back to NHWC pixels) for the pixels [begin, end) (begin a multiple of 4). */
EXPORT(from_planar)
void from_planar(const float *x, float *out, int n, int c, int begin, int end) {
  if (c == 3) {
    const float *r = x, *g = x + n, *b = x + 2 * (size_t)n;
    int i = begin;
    for (; i + 4 <= end; i += 4) {
      const v128_t rv = V_LOAD(r + i), gv = V_LOAD(g + i), bv = V_LOAD(b + i);
      const v128_t rg01 = wasm_i32x4_shuffle(rv, gv, 0, 4, 1, 5);   /* r0 g0 r1 g1 */
      const v128_t gb12 = wasm_i32x4_shuffle(gv, bv, 1, 5, 2, 6);   /* g1 b1 g2 b2 */
      const v128_t rg33 = wasm_i32x4_shuffle(rv, gv, 3, 7, 3, 7);   /* r3 g3 r3 g3 */
      float *p = out + 3 * (size_t)i;
      V_STORE(p, wasm_i32x4_shuffle(rg01, bv, 0, 1, 4, 2));         /* r0 g0 b0 r1 */
      V_STORE(p + 4, wasm_i32x4_shuffle(gb12, rv, 0, 1, 6, 2));     /* g1 b1 r2 g2 */
      V_STORE(p + 8, wasm_i32x4_shuffle(bv, rg33, 2, 4, 5, 3));     /* b2 r3 g3 b3 */
    }
    for (; i < end; i++) {
      out[3 * (size_t)i] = r[i];
      out[3 * (size_t)i + 1] = g[i];
      out[3 * (size_t)i + 2] = b[i];
    }
    return;
  }
  for (int i = begin; i < end; i++) {
    for (int ch = 0; ch < c; ch++) out[(size_t)i * c + ch] = x[(size_t)ch * n + i];
  }
}

/* ------------------------------------------------------ colour jitter --- */

/* x = clip(x * a + offset) over one plane (offset = 0 for brightness). */
static void affine_clip(float *x, int n, float a, float offset) {
  const v128_t av = wasm_f32x4_splat(a), ov = wasm_f32x4_splat(offset);
  int i = 0;
  if (offset == 0.0f) {
    for (; i + 4 <= n; i += 4) V_STORE(x + i, clip01(V_MUL(V_LOAD(x + i), av)));
    for (; i < n; i++) x[i] = clip01_f(x[i] * a);
  } else {
    for (; i + 4 <= n; i += 4) V_STORE(x + i, clip01(V_ADD(V_MUL(V_LOAD(x + i), av), ov)));
    for (; i < n; i++) x[i] = clip01_f(x[i] * a + offset);
  }
}

static double plane_sum(const float *x, int n) {
  double total = 0.0;
  for (int i0 = 0; i0 < n; i0 += 1024) {
    const int i1 = min_i(n, i0 + 1024);
    v128_t acc = V_ZERO();
    int i = i0;
    for (; i + 4 <= i1; i += 4) acc = V_ADD(acc, V_LOAD(x + i));
    float s = wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) + wasm_f32x4_extract_lane(acc, 2) +
              wasm_f32x4_extract_lane(acc, 3);
    for (; i < i1; i++) s += x[i];
    total += s;
  }
  return total;
}

/* Saturation: each channel = clip(ch * f + gray * (1 - f)), gray from the current pixel. */
static void saturate(float *r, float *g, float *b, int n, float f, float gf) {
  const v128_t fv = wasm_f32x4_splat(f), gv = wasm_f32x4_splat(gf);
  const v128_t wr = wasm_f32x4_splat(W_R), wg = wasm_f32x4_splat(W_G), wb = wasm_f32x4_splat(W_B);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t rv = V_LOAD(r + i), gg = V_LOAD(g + i), bv = V_LOAD(b + i);
    const v128_t gray = V_MUL(V_ADD(V_ADD(V_MUL(rv, wr), V_MUL(gg, wg)), V_MUL(bv, wb)), gv);
    V_STORE(r + i, clip01(V_ADD(V_MUL(rv, fv), gray)));
    V_STORE(g + i, clip01(V_ADD(V_MUL(gg, fv), gray)));
    V_STORE(b + i, clip01(V_ADD(V_MUL(bv, fv), gray)));
  }
  for (; i < n; i++) {
    const float gray = ((r[i] * W_R + g[i] * W_G) + b[i] * W_B) * gf;
    r[i] = clip01_f(r[i] * f + gray);
    g[i] = clip01_f(g[i] * f + gray);
    b[i] = clip01_f(b[i] * f + gray);
  }
}

INLINE v128_t step_pos(v128_t x) { return wasm_v128_and(wasm_f32x4_gt(x, V_ZERO()), wasm_f32x4_splat(1.0f)); }

/*
 * Hue rotation by shift6 = 6 * shift (sextants), the branch-free RGB -> HSV
 * -> RGB of color-planes.ts (hueSextants, planesFromHue) op for op.
 */
INLINE void hue_shift4(v128_t r, v128_t g, v128_t b, v128_t shift6, v128_t *ro, v128_t *go, v128_t *bo) {
  const v128_t one = wasm_f32x4_splat(1.0f), six = wasm_f32x4_splat(6.0f), zero = V_ZERO();
  const v128_t bmg = wasm_f32x4_sub(b, g);
  const v128_t b_above = step_pos(bmg);
  const v128_t p0 = V_ADD(g, V_MUL(b_above, bmg));
  const v128_t p1 = wasm_f32x4_sub(V_ADD(g, b), p0);
  const v128_t pz = wasm_f32x4_neg(b_above);
  const v128_t pw = wasm_f32x4_sub(b_above, wasm_f32x4_splat(1.0f / 3.0f));
  const v128_t p0mr = wasm_f32x4_sub(p0, r);
  const v128_t r_below = step_pos(p0mr);
  const v128_t mx = V_ADD(r, V_MUL(r_below, p0mr));
  const v128_t qw = wasm_f32x4_sub(V_ADD(r, p0), mx);
  const v128_t qz = V_ADD(pz, V_MUL(r_below, wasm_f32x4_sub(pw, pz)));
  const v128_t relu = wasm_f32x4_pmax(wasm_f32x4_sub(qw, p1), zero);
  const v128_t chroma = wasm_f32x4_sub(mx, wasm_f32x4_sub(qw, relu));
  const v128_t step_c = step_pos(chroma);
  const v128_t safe = V_ADD(chroma, wasm_f32x4_sub(one, step_c));
  const v128_t ratio = wasm_f32x4_div(wasm_f32x4_sub(qw, p1), V_MUL(safe, six));
  const v128_t hue6 = V_MUL(wasm_f32x4_abs(V_ADD(qz, ratio)), V_MUL(step_c, six));
  const v128_t shifted = V_ADD(hue6, shift6);
  const v128_t h = wasm_f32x4_sub(shifted, V_MUL(wasm_f32x4_floor(V_MUL(shifted, wasm_f32x4_splat(1.0f / 6.0f))), six));
  const v128_t three = wasm_f32x4_splat(3.0f);
#define RAMP(opposite)                                                                                                  \
  wasm_f32x4_pmax(wasm_f32x4_pmin(wasm_f32x4_sub(wasm_f32x4_abs(wasm_f32x4_sub(three,                                   \
                                                                               wasm_f32x4_abs(wasm_f32x4_sub(h, wasm_f32x4_splat(opposite))))), \
                                                 one),                                                                  \
                                  one),                                                                                 \
                  zero)
  *ro = wasm_f32x4_sub(mx, V_MUL(chroma, RAMP(3.0f)));
  *go = wasm_f32x4_sub(mx, V_MUL(chroma, RAMP(5.0f)));
  *bo = wasm_f32x4_sub(mx, V_MUL(chroma, RAMP(1.0f)));
#undef RAMP
}

static void hue_shift(float *r, float *g, float *b, int n, float shift6) {
  const v128_t sv = wasm_f32x4_splat(shift6);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t ro, go, bo;
    hue_shift4(V_LOAD(r + i), V_LOAD(g + i), V_LOAD(b + i), sv, &ro, &go, &bo);
    V_STORE(r + i, ro);
    V_STORE(g + i, go);
    V_STORE(b + i, bo);
  }
  if (i < n) {
    /* The tail through the same vector code, via a padded copy. */
    float tr[4] = {0, 0, 0, 0}, tg[4] = {0, 0, 0, 0}, tb[4] = {0, 0, 0, 0};
    const int rest = n - i;
    for (int t = 0; t < rest; t++) {
      tr[t] = r[i + t];
      tg[t] = g[i + t];
      tb[t] = b[i + t];
    }
    v128_t ro, go, bo;
    hue_shift4(V_LOAD(tr), V_LOAD(tg), V_LOAD(tb), sv, &ro, &go, &bo);
    V_STORE(tr, ro);
    V_STORE(tg, go);
    V_STORE(tb, bo);
    for (int t = 0; t < rest; t++) {
      r[i + t] = tr[t];
      g[i + t] = tg[t];
      b[i + t] = tb[t];
    }
  }
}

/*
 * Colour jitter of planar RGB [3][b][hw] (color-jitter.ts jitterPlanes):
 * params holds 9 floats per sample: applied, the four ops in order
 * (0 brightness, 1 contrast, 2 saturation, 3 hue), then the brightness,
 * contrast, saturation factors and the hue shift in turns. Ops with a
 * neutral factor are skipped; everything is clipped to [0, 1] at the end.
 * Samples [begin, end) (the work units).
 */
EXPORT(color_jitter_planar)
void color_jitter_planar(const float *x, float *out, const float *params, int b, int hw, int begin, int end) {
  const size_t plane = (size_t)b * hw;
  for (int s = begin; s < end; s++) {
    const float *p = params + 9 * (size_t)s;
    float *r = out + (size_t)s * hw, *g = r + plane, *bl = g + plane;
    for (int ch = 0; ch < 3; ch++) {
      const float *src = x + ch * plane + (size_t)s * hw;
      float *dst = r + ch * plane;
      for (size_t i = 0; i < (size_t)hw; i += 4096) {
        const size_t len = (size_t)hw - i < 4096 ? (size_t)hw - i : 4096;
        __builtin_memcpy(dst + i, src + i, len * sizeof(float));
      }
    }
    if (p[0] != 0.0f) {
      for (int slot = 0; slot < 4; slot++) {
        const int op = (int)p[1 + slot];
        const float f = p[5 + op];
        if (op == 0 && f != 1.0f) {
          affine_clip(r, hw, f, 0.0f);
          affine_clip(g, hw, f, 0.0f);
          affine_clip(bl, hw, f, 0.0f);
        } else if (op == 1 && f != 1.0f) {
          const float n = (float)hw;
          const float mr = (float)(plane_sum(r, hw) / n), mg = (float)(plane_sum(g, hw) / n), mb = (float)(plane_sum(bl, hw) / n);
          const float mean = (mr * W_R + mg * W_G) + mb * W_B;
          const float offset = mean * (1.0f - f);
          affine_clip(r, hw, f, offset);
          affine_clip(g, hw, f, offset);
          affine_clip(bl, hw, f, offset);
        } else if (op == 2 && f != 1.0f) {
          saturate(r, g, bl, hw, f, 1.0f - f);
        } else if (op == 3 && f != 0.0f) {
          hue_shift(r, g, bl, hw, f * 6.0f);
        }
      }
    }
    /* The final clip (hue rotation is exact only up to rounding). */
    affine_clip(r, hw, 1.0f, 0.0f);
    affine_clip(g, hw, 1.0f, 0.0f);
    affine_clip(bl, hw, 1.0f, 0.0f);
  }
}

/* ---------------------------------------------------------- grayscale --- */

/* Planar RGB [3][b][hw]: samples with applied[s] != 0 become their luma in all three planes; samples [begin, end). */
EXPORT(grayscale_planar)
void grayscale_planar(const float *x, float *out, const float *applied, int b, int hw, int begin, int end) {
  const size_t plane = (size_t)b * hw;
  const v128_t wr = wasm_f32x4_splat(W_R), wg = wasm_f32x4_splat(W_G), wb = wasm_f32x4_splat(W_B);
  for (int s = begin; s < end; s++) {
    const float *r = x + (size_t)s * hw, *g = r + plane, *bl = g + plane;
    float *ro = out + (size_t)s * hw, *go = ro + plane, *bo = go + plane;
    if (applied[s] == 0.0f) {
      for (int ch = 0; ch < 3; ch++) __builtin_memcpy(ro + ch * plane, r + ch * plane, (size_t)hw * sizeof(float));
      continue;
    }
    int i = 0;
    for (; i + 4 <= hw; i += 4) {
      const v128_t gray = V_ADD(V_ADD(V_MUL(V_LOAD(r + i), wr), V_MUL(V_LOAD(g + i), wg)), V_MUL(V_LOAD(bl + i), wb));
      V_STORE(ro + i, gray);
      V_STORE(go + i, gray);
      V_STORE(bo + i, gray);
    }
    for (; i < hw; i++) ro[i] = go[i] = bo[i] = (r[i] * W_R + g[i] * W_G) + bl[i] * W_B;
  }
}

/* ------------------------------------------------------ gaussian blur --- */

/* Index under reflect padding (tf.mirrorPad 'reflect': the edge is not repeated), for offsets below the size. */
INLINE int reflect(int i, int n) { return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i; }

EXPORT(gaussian_blur_planar_scratch)
int gaussian_blur_planar_scratch(int h, int w) { return h * (w + 8) * (int)sizeof(float); }

/* Most taps kept as vectors on the stack; longer kernels take the scalar path. */
#define BLUR_MAX_TAPS 63

/*
 * Separable blur of planar [c][b][h][w] with reflect padding: per sample
 * (applied[s] != 0) k float32 taps, first along the rows (vertical) then
 * along the columns, as gaussian-blur.ts's two depthwise convolutions.
 * Samples [begin, end); scratch: gaussian_blur_planar_scratch(h, w) bytes,
 * this thread's own.
 */
EXPORT(gaussian_blur_planar)
void gaussian_blur_planar(const float *x, float *out, const float *taps, const float *applied, float *scratch, int c, int b,
                          int h, int w, int k, int begin, int end) {
  const int half = (k - 1) / 2;
  const size_t hw = (size_t)h * w;
  v128_t tv[BLUR_MAX_TAPS];
  const float *rows[BLUR_MAX_TAPS];
  for (int s = begin; s < end; s++) {
    if (applied[s] == 0.0f) {
      for (int ch = 0; ch < c; ch++) __builtin_memcpy(out + ((size_t)ch * b + s) * hw, x + ((size_t)ch * b + s) * hw, hw * sizeof(float));
      continue;
    }
    const float *tk = taps + (size_t)s * k;
    const int vector = k <= BLUR_MAX_TAPS;
    if (vector) for (int t = 0; t < k; t++) tv[t] = wasm_f32x4_splat(tk[t]);
    for (int ch = 0; ch < c; ch++) {
      const float *src = x + ((size_t)ch * b + s) * hw;
      float *dst = out + ((size_t)ch * b + s) * hw;
      /* Vertical: scratch[i][j] = sum_t tk[t] src[reflect(i + t - half)][j]. */
      for (int i = 0; i < h; i++) {
        float *v = scratch + (size_t)i * w;
        int j = 0;
        if (vector) {
          for (int t = 0; t < k; t++) rows[t] = src + (size_t)reflect(i + t - half, h) * w;
          for (; j + 4 <= w; j += 4) {
            v128_t acc = V_MUL(V_LOAD(rows[0] + j), tv[0]);
            for (int t = 1; t < k; t++) acc = V_ADD(acc, V_MUL(V_LOAD(rows[t] + j), tv[t]));
            V_STORE(v + j, acc);
          }
        }
        for (; j < w; j++) {
          float acc = 0.0f;
          for (int t = 0; t < k; t++) acc += src[(size_t)reflect(i + t - half, h) * w + j] * tk[t];
          v[j] = acc;
        }
      }
      /* Horizontal: dst[i][j] = sum_t tk[t] scratch[i][reflect(j + t - half)]. */
      const int lo = min_i(half, w), hi = max_i(lo, w - half); /* columns whose taps stay inside */
      for (int i = 0; i < h; i++) {
        const float *v = scratch + (size_t)i * w;
        float *o = dst + (size_t)i * w;
        for (int j = 0; j < lo; j++) {
          float acc = 0.0f;
          for (int t = 0; t < k; t++) acc += v[reflect(j + t - half, w)] * tk[t];
          o[j] = acc;
        }
        int j = lo;
        if (vector) {
          for (; j + 4 <= hi; j += 4) {
            const float *base = v + j - half;
            v128_t acc = V_MUL(V_LOAD(base), tv[0]);
            for (int t = 1; t < k; t++) acc = V_ADD(acc, V_MUL(V_LOAD(base + t), tv[t]));
            V_STORE(o + j, acc);
          }
        }
        for (; j < w; j++) {
          float acc = 0.0f;
          for (int t = 0; t < k; t++) acc += v[reflect(j + t - half, w)] * tk[t];
          o[j] = acc;
        }
      }
    }
  }
}

/* ---------------------------------------------------------- resample --- */

EXPORT(resample_planar_scratch)
int resample_planar_scratch(int oh, int w) { return oh * w * (int)sizeof(float); }

/*
 * Bilinear resampling of planar [c][b][h][w] at per-sample positions,
 * separable as tensor-ops.ts resampleSeparable: rows first,
 *   t[i] = x[r0[i]] + (x[r1[i]] - x[r0[i]]) * rf[i],
 * then columns the same way. idx holds, per sample, oh row pairs (r0, r1)
 * and ow column pairs (c0, c1) as ints; frac the oh + ow fractions. Work
 * units: the planes (channel, sample) [begin, end) of the c * b; scratch:
 * resample_planar_scratch(oh, w) bytes, this thread's own.
 */
EXPORT(resample_planar)
void resample_planar(const float *x, float *out, const int *idx, const float *frac, float *scratch, int c, int b, int h, int w,
                     int oh, int ow, int begin, int end) {
  (void)c;
  for (int unit = begin; unit < end; unit++) {
    const int ch = unit / b, s = unit % b;
    const float *src = x + ((size_t)ch * b + s) * h * w;
    float *dst = out + ((size_t)ch * b + s) * oh * ow;
    const int *ri = idx + (size_t)s * 2 * (oh + ow), *ci = ri + 2 * oh;
    const float *rf = frac + (size_t)s * (oh + ow), *cf = rf + oh;
    for (int i = 0; i < oh; i++) {
      const float *a = src + (size_t)ri[2 * i] * w, *bb = src + (size_t)ri[2 * i + 1] * w;
      float *t = scratch + (size_t)i * w;
      const v128_t fv = wasm_f32x4_splat(rf[i]);
      int j = 0;
      for (; j + 4 <= w; j += 4) {
        const v128_t av = V_LOAD(a + j);
        V_STORE(t + j, V_ADD(av, V_MUL(wasm_f32x4_sub(V_LOAD(bb + j), av), fv)));
      }
      for (; j < w; j++) t[j] = a[j] + (bb[j] - a[j]) * rf[i];
    }
    for (int i = 0; i < oh; i++) {
      const float *t = scratch + (size_t)i * w;
      float *o = dst + (size_t)i * ow;
      for (int j = 0; j < ow; j++) {
        const float a = t[ci[2 * j]];
        o[j] = a + (t[ci[2 * j + 1]] - a) * cf[j];
      }
    }
  }
}
