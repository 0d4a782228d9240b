/**
 * Float64 reference for the gradients of NHWC convolutions, written straight
 * from the definition y[b, oy, ox, o] = Σ x[b, oy·sh + ky·dh − pt, ox·sw + kx·dw − pl, ·] · w[ky, kx, ·, ·]
 * so it covers strides, dilations and any padding at once (unlike tfjs's cpu
 * kernels, whose backprop loops have no dilation). Slow; for small test shapes.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface ConvGeometry {
  n: number; h: number; w: number; c: number;
  kh: number; kw: number;
  /** Output channels (conv2d) or channel multiplier q (depthwise). */
  co: number;
  oh: number; ow: number;
  sh: number; sw: number; dh: number; dw: number; pt: number; pl: number;
  depthwise: boolean;
}

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

/** The geometry tfjs computes for these arguments (the same function every backend uses). */
export function geometry(
  xShape: number[], filterShape: number[], strides: number | [number, number], dilations: number | [number, number],
  pad: Pad, depthwise: boolean,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    strides, dilations, pad as 'same', undefined, depthwise,
  );
  return {
    n: info.batchSize, h: info.inHeight, w: info.inWidth, c: info.inChannels,
    kh: info.filterHeight, kw: info.filterWidth, co: filterShape[3]!,
    oh: info.outHeight, ow: info.outWidth,
    sh: info.strideHeight, sw: info.strideWidth, dh: info.dilationHeight, dw: info.dilationWidth,
    pt: info.padInfo.top, pl: info.padInfo.left, depthwise,
  };
}

/** Calls visit(xIndex, wIndex, yIndex) for every (input, filter, output) triple of the convolution. */
function forEachTap(g: ConvGeometry, visit: (xi: number, wi: number, yi: number) => void): void {
  const outC = g.depthwise ? g.c * g.co : g.co;
  for (let b = 0; b < g.n; b++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        for (let ky = 0; ky < g.kh; ky++) {
          const iy = oy * g.sh + ky * g.dh - g.pt;
          if (iy < 0 || iy >= g.h) continue;
          for (let kx = 0; kx < g.kw; kx++) {
            const ix = ox * g.sw + kx * g.dw - g.pl;
            if (ix < 0 || ix >= g.w) continue;
            const xBase = ((b * g.h + iy) * g.w + ix) * g.c;
            const yBase = ((b * g.oh + oy) * g.ow + ox) * outC;
            const wBase = (ky * g.kw + kx) * g.c * g.co;
            if (g.depthwise) {
              for (let ci = 0; ci < g.c; ci++) {
                for (let j = 0; j < g.co; j++) visit(xBase + ci, wBase + ci * g.co + j, yBase + ci * g.co + j);
              }
            } else {
              for (let ci = 0; ci < g.c; ci++) {
                for (let o = 0; o < g.co; o++) visit(xBase + ci, wBase + ci * g.co + o, yBase + o);
              }
            }
          }
        }
      }
    }
  }
}

/** dL/dfilter for upstream gradient dy. */
export function filterGradRef(g: ConvGeometry, x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  const out = new Float64Array(g.kh * g.kw * g.c * g.co);
  forEachTap(g, (xi, wi, yi) => {
    out[wi]! += x[xi]! * dy[yi]!;
  });
  return out;
}

/** dL/dx for upstream gradient dy. */
export function inputGradRef(g: ConvGeometry, w: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  const out = new Float64Array(g.n * g.h * g.w * g.c);
  forEachTap(g, (xi, wi, yi) => {
    out[xi]! += w[wi]! * dy[yi]!;
  });
  return out;
}

/** Deterministic values in [−1, 1) (a small LCG), so cases are reproducible without tf.random. */
export function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** The convolution itself (conv2d; depthwise with its channel multiplier), float64. */
export function forwardRef(g: ConvGeometry, x: ArrayLike<number>, w: ArrayLike<number>): Float64Array {
  const out = new Float64Array(g.n * g.oh * g.ow * (g.depthwise ? g.c * g.co : g.co));
  forEachTap(g, (xi, wi, yi) => {
    out[yi]! += x[xi]! * w[wi]!;
  });
  return out;
}
