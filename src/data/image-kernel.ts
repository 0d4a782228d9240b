/**
 * The pixel work of the image loaders, shared by the main thread and the
 * decoding threads: format sniffing, decoding with the pure-JS decoders,
 * CMYK and alpha handling, the antialiased resampler and the channel
 * conversion.
 *
 * `createImageKernel` is self-contained on purpose (it references nothing
 * outside its own body): the decoding threads are started from its source
 * text (`createImageKernel.toString()`), so one implementation serves the
 * main thread, the worker threads and the sharp path's post-processing.
 *
 * @module
 */

/** Formats recognised by their first bytes. */
export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'bmp' | 'tiff';

/** What the output of a decode looks like. */
export interface OutputSpec {
  /** Output height. */
  height: number;
  /** Output width. */
  width: number;
  /** 3 (RGB) or 1 (grayscale, ITU-R 601 luma as Pillow's `convert('L')`). */
  channels: 1 | 3;
  /** `'cover'`: scale the shorter side to fit, centre crop; `'fill'`: plain resize to the output size. */
  fit: 'cover' | 'fill';
}

/** The pure-JS decoder modules (jpeg-js and pngjs), passed in so the kernel needs no imports. */
export interface JsDecoders {
  jpeg: {
    decode(
      data: Uint8Array,
      options: { useTArray: true; formatAsRGBA: boolean; tolerantDecoding: boolean; maxMemoryUsageInMB?: number },
    ): { width: number; height: number; data: Uint8Array };
  };
  png: { PNG: { sync: { read(data: Uint8Array): { width: number; height: number; data: Uint8Array } } } };
}

/** A decoded image at full size: interleaved 8-bit samples, 1, 3 or 4 (RGBA, or CMYK when `cmyk`) per pixel. */
export interface DecodedPixels {
  width: number;
  height: number;
  channels: number;
  cmyk: boolean;
  data: Uint8Array;
}

/** The kernel's functions; see {@link createImageKernel}. */
export interface ImageKernel {
  /** The format of an encoded image from its first bytes, or `null`. */
  sniff(bytes: Uint8Array): ImageFormat | null;
  /** Decodes a PNG or JPEG with the pure-JS decoders (throws on a broken file or another format). */
  decode(bytes: Uint8Array, decoders: JsDecoders): DecodedPixels;
  /** The source box `[x0, y0, x1, y1]` a `fit` takes from a `w × h` image for an `outW × outH` output. */
  cropBox(w: number, h: number, outW: number, outH: number, fit: 'cover' | 'fill'): [number, number, number, number];
  /**
   * Pillow's antialiased bilinear resampling (`Image.resize(size, BILINEAR, box)`, computed in
   * float, no rounding): separable, the triangle filter widened by the downscale factor.
   */
  resample(
    src: ArrayLike<number>,
    w: number,
    h: number,
    channels: number,
    box: readonly [number, number, number, number],
    outW: number,
    outH: number,
  ): Float32Array;
  /** RGB(A)/CMYK/gray samples → the output's 8-bit RGB or gray samples (alpha dropped, CMYK converted as Pillow). */
  toOutput(samples: ArrayLike<number>, pixels: number, channels: number, cmyk: boolean, outChannels: 1 | 3): Uint8Array;
  /** Decode → crop/resize → channels, with the pure-JS decoders. */
  decodeToSize(bytes: Uint8Array, decoders: JsDecoders, spec: OutputSpec): Uint8Array;
}

/** Builds the kernel. Self-contained: its source text also runs in the decoding threads. */
export function createImageKernel(): ImageKernel {
  function sniff(b: Uint8Array): ImageFormat | null {
    if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
    if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
    if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) {
      return 'webp';
    }
    if (b.length >= 4 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return 'gif';
    if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
    if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a) || (b[0] === 0x4d && b[1] === 0x4d && b[3] === 0x2a))) return 'tiff';
    return null;
  }

  function decode(bytes: Uint8Array, decoders: JsDecoders): DecodedPixels {
    const format = sniff(bytes);
    if (format === 'png') {
      const png = decoders.png.PNG.sync.read(bytes);
      return { width: png.width, height: png.height, channels: 4, cmyk: false, data: png.data };
    }
    if (format === 'jpeg') {
      // Strict: a broken file is skipped rather than trained on as garbage.
      const jpg = decoders.jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false });
      const channels = jpg.data.length / (jpg.width * jpg.height);
      if (channels !== 1 && channels !== 3) {
        throw new Error(`unexpected JPEG layout (${channels} samples per pixel)`);
      }
      return { width: jpg.width, height: jpg.height, channels, cmyk: false, data: jpg.data };
    }
    throw new Error(format === null ? 'not a PNG or JPEG file' : `${format.toUpperCase()} is not decoded by the pure-JS decoders`);
  }

  function cropBox(w: number, h: number, outW: number, outH: number, fit: 'cover' | 'fill'): [number, number, number, number] {
    if (fit === 'fill') return [0, 0, w, h];
    const scale = Math.max(outW / w, outH / h);
    const bw = Math.min(w, outW / scale);
    const bh = Math.min(h, outH / scale);
    const x0 = (w - bw) / 2;
    const y0 = (h - bh) / 2;
    return [x0, y0, x0 + bw, y0 + bh];
  }

  /** Pillow's precompute_coeffs for the bilinear filter (support 1). */
  function coefficients(inSize: number, in0: number, in1: number, outSize: number): { start: Int32Array; count: Int32Array; weights: Float64Array; k: number } {
    const scale = (in1 - in0) / outSize;
    const filterScale = Math.max(scale, 1);
    const support = filterScale;
    const k = Math.ceil(support) * 2 + 1;
    const start = new Int32Array(outSize);
    const count = new Int32Array(outSize);
    const weights = new Float64Array(outSize * k);
    for (let xx = 0; xx < outSize; xx++) {
      const center = in0 + (xx + 0.5) * scale;
      const inv = 1 / filterScale;
      const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
      const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
      let total = 0;
      for (let x = 0; x < xmax; x++) {
        const t = Math.abs((x + xmin - center + 0.5) * inv);
        const wgt = t < 1 ? 1 - t : 0;
        weights[xx * k + x] = wgt;
        total += wgt;
      }
      if (total !== 0) for (let x = 0; x < xmax; x++) weights[xx * k + x]! /= total;
      start[xx] = xmin;
      count[xx] = Math.max(xmax, 0);
    }
    return { start, count, weights, k };
  }

  function resample(
    src: ArrayLike<number>,
    w: number,
    h: number,
    channels: number,
    box: readonly [number, number, number, number],
    outW: number,
    outH: number,
  ): Float32Array {
    const horizontal = coefficients(w, box[0], box[2], outW);
    const vertical = coefficients(h, box[1], box[3], outH);
    // Only the source rows the vertical pass reads go through the horizontal pass.
    const rowFirst = vertical.start[0]!;
    const rowLast = vertical.start[outH - 1]! + vertical.count[outH - 1]!;
    const rows = rowLast - rowFirst;
    const mid = new Float32Array(rows * outW * channels);
    for (let y = 0; y < rows; y++) {
      const srcRow = (y + rowFirst) * w * channels;
      const midRow = y * outW * channels;
      for (let xx = 0; xx < outW; xx++) {
        const s = horizontal.start[xx]!;
        const n = horizontal.count[xx]!;
        const wo = xx * horizontal.k;
        for (let c = 0; c < channels; c++) {
          let acc = 0;
          for (let x = 0; x < n; x++) acc += src[srcRow + (s + x) * channels + c]! * horizontal.weights[wo + x]!;
          mid[midRow + xx * channels + c] = acc;
        }
      }
    }
    const out = new Float32Array(outH * outW * channels);
    const rowLength = outW * channels;
    for (let yy = 0; yy < outH; yy++) {
      const s = vertical.start[yy]! - rowFirst;
      const n = vertical.count[yy]!;
      const wo = yy * vertical.k;
      const outRow = yy * rowLength;
      for (let y = 0; y < n; y++) {
        const wgt = vertical.weights[wo + y]!;
        const midRow = (s + y) * rowLength;
        for (let i = 0; i < rowLength; i++) out[outRow + i]! += mid[midRow + i]! * wgt;
      }
    }
    return out;
  }

  function clampByte(v: number): number {
    return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
  }

  function toOutput(samples: ArrayLike<number>, pixels: number, channels: number, cmyk: boolean, outChannels: 1 | 3): Uint8Array {
    const out = new Uint8Array(pixels * outChannels);
    for (let p = 0; p < pixels; p++) {
      const i = p * channels;
      let r: number;
      let g: number;
      let b: number;
      if (cmyk) {
        // Pillow's (and browsers') conversion without colour management: (255 − C)(255 − K)/255.
        const k = 255 - samples[i + 3]!;
        r = ((255 - samples[i]!) * k) / 255;
        g = ((255 - samples[i + 1]!) * k) / 255;
        b = ((255 - samples[i + 2]!) * k) / 255;
      } else if (channels < 3) {
        r = g = b = samples[i]!; // gray (and gray + alpha: the alpha is dropped)
      } else {
        r = samples[i]!;
        g = samples[i + 1]!;
        b = samples[i + 2]!;
      }
      if (outChannels === 3) {
        out[p * 3] = clampByte(r);
        out[p * 3 + 1] = clampByte(g);
        out[p * 3 + 2] = clampByte(b);
      } else {
        out[p] = clampByte(0.299 * r + 0.587 * g + 0.114 * b);
      }
    }
    return out;
  }

  function decodeToSize(bytes: Uint8Array, decoders: JsDecoders, spec: OutputSpec): Uint8Array {
    const img = decode(bytes, decoders);
    const box = cropBox(img.width, img.height, spec.width, spec.height, spec.fit);
    const same = img.width === spec.width && img.height === spec.height && box[0] === 0 && box[1] === 0;
    const samples = same ? img.data : resample(img.data, img.width, img.height, img.channels, box, spec.width, spec.height);
    return toOutput(samples, spec.width * spec.height, img.channels, img.cmyk, spec.channels);
  }

  return { sniff, decode, cropBox, resample, toOutput, decodeToSize };
}
