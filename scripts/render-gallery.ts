/**
 * Renders the docs gallery: every augmentation, preset and masking strategy
 * applied to the vendored photographs and to the vendored handwritten digits, drawn by
 * selfsup itself with fixed seeds. Run at docs build time (`npm run docs`);
 * writes PNGs to docs/gallery/ (not committed) which the Augmentations guide
 * links and typedoc copies into the site.
 *
 *   tsx scripts/render-gallery.ts [--out=docs/gallery]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import {
  applyMask,
  blockMask,
  byolAugment,
  centerMask,
  colorJitter,
  cutout,
  dinoMultiCrop,
  gaussianBlur,
  gaussianNoise,
  grayscaleAugment,
  irregularMask,
  jigsawBatch,
  jigsawPermutations,
  labSplit,
  loadDigits,
  loadPhotos,
  mocoV2Augment,
  multiCrop,
  pixelDropout,
  randomErasing,
  randomGrayscale,
  randomHorizontalFlip,
  randomPatchMask,
  randomPosterize,
  randomRectangleMask,
  randomResizedCrop,
  randomRotate90,
  randomSolarize,
  randomVerticalFlip,
  relativePositionPairs,
  rotationBatch,
  saltAndPepper,
  simclrAugment,
  twoViews,
  useBackend,
  type Transform,
} from 'selfsup';
import { encodePng } from './lib/png.js';

const outArg = process.argv.find((a) => a.startsWith('--out='))?.split('=')[1];
const outDir = outArg ?? fileURLToPath(new URL('../docs/gallery/', import.meta.url));
mkdirSync(outDir, { recursive: true });

const CELL = 96; // every tile is drawn at 96×96 (nearest-neighbour upscaling keeps small images crisp)
const PAD = 4;

/** Any NHWC batch → RGB tiles of CELL×CELL, values clipped to [0, 1]. */
function toCells(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const rgb = images.shape[3] === 1 ? tf.tile(images, [1, 1, 1, 3]) : images;
    return tf.clipByValue(tf.image.resizeNearestNeighbor(rgb as tf.Tensor4D, [CELL, CELL]), 0, 1) as tf.Tensor4D;
  });
}

/** Lays `rows` (each a list of equally long cell batches, column-major) into one grid image and writes it. */
function writeGrid(name: string, columns: tf.Tensor4D[]): void {
  const cells = columns.map(toCells);
  const rows = cells[0]!.shape[0];
  const cols = cells.length;
  const width = cols * CELL + (cols + 1) * PAD;
  const height = rows * CELL + (rows + 1) * PAD;
  const canvas = new Uint8Array(width * height * 3).fill(255);
  cells.forEach((batch, c) => {
    const data = batch.dataSync();
    for (let r = 0; r < rows; r++) {
      for (let y = 0; y < CELL; y++) {
        for (let x = 0; x < CELL; x++) {
          const src = ((r * CELL + y) * CELL + x) * 3;
          const dst = ((PAD + r * (CELL + PAD) + y) * width + PAD + c * (CELL + PAD) + x) * 3;
          canvas[dst] = Math.round((data[src] as number) * 255);
          canvas[dst + 1] = Math.round((data[src + 1] as number) * 255);
          canvas[dst + 2] = Math.round((data[src + 2] as number) * 255);
        }
      }
    }
  });
  tf.dispose(cells);
  writeFileSync(`${outDir}/${name}.png`, encodePng(canvas, width, height, 3));
  written.push(name);
}

const written: string[] = [];
const SEEDS = [1, 2, 3, 4];

await useBackend('wasm');
const photos = loadPhotos({ size: 96 }).images;
const digitsAll = loadDigits();
// One each of 0, 3, 7 and 8, upsampled from 8×8 to 32×32 so the transforms are legible.
const digits = tf.tidy(() => {
  const labels = Array.from(digitsAll.labels.dataSync());
  const picks = [0, 3, 7, 8].map((c) => labels.indexOf(c));
  return tf.image.resizeBilinear(tf.gather(digitsAll.images, picks) as tf.Tensor4D, [32, 32]);
});
tf.dispose([digitsAll.images, digitsAll.labels]);

/** Original + four seeded samples of a one-call transform, on both image sets. */
function gallery(name: string, run: (images: tf.Tensor4D, seed: number) => tf.Tensor4D): void {
  for (const [suffix, images] of [['photos', photos], ['digits', digits]] as const) {
    const columns = [images, ...SEEDS.map((s) => run(images, s))];
    writeGrid(`${name}-${suffix}`, columns);
    tf.dispose(columns.slice(1));
  }
}

/** Same for a Transform pipeline (presets). */
function pipelineGallery(name: string, pipeline: Transform, sets: readonly ('photos' | 'digits')[] = ['photos', 'digits']): void {
  for (const suffix of sets) {
    const images = suffix === 'photos' ? photos : digits;
    const columns = [images, ...SEEDS.map((s) => pipeline.run(images, { seed: s }).images)];
    writeGrid(`${name}-${suffix}`, columns);
    tf.dispose(columns.slice(1));
  }
}

// --- single transforms -------------------------------------------------------
gallery('random-resized-crop', (x, seed) => randomResizedCrop(x, { size: x.shape[1], seed }));
gallery('horizontal-flip', (x, seed) => randomHorizontalFlip(x, { seed }));
gallery('vertical-flip', (x, seed) => randomVerticalFlip(x, { seed }));
gallery('rotate90', (x, seed) => randomRotate90(x, { seed }));
gallery('gaussian-blur', (x, seed) => gaussianBlur(x, { kernelSize: 9, sigma: [0.1, 2], seed }));
gallery('gaussian-noise', (x, seed) => gaussianNoise(x, { std: 0.1, seed }));
gallery('random-erasing', (x, seed) => randomErasing(x, { p: 1, seed }));
gallery('cutout', (x, seed) => cutout(x, { size: Math.round(x.shape[1] / 3), seed }));
gallery('solarize', (x, seed) => randomSolarize(x, { p: 0.75, seed }));
gallery('posterize', (x, seed) => randomPosterize(x, { bits: 3, p: 0.75, seed }));
{
  // Colour jitter on 1-channel digits: brightness and contrast only (saturation and hue are identities there).
  const jitter = [digits, ...SEEDS.map((s) => colorJitter(digits, { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, seed: s }))];
  writeGrid('color-jitter-digits', jitter);
  tf.dispose(jitter.slice(1));
}
for (const [suffix, images] of [['photos', photos]] as const) {
  const jitter = [images, ...SEEDS.map((s) => colorJitter(images, { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, seed: s }))];
  writeGrid(`color-jitter-${suffix}`, jitter);
  tf.dispose(jitter.slice(1));
  const gray = [images, ...SEEDS.map((s) => randomGrayscale(images, { p: 0.5, seed: s }))];
  writeGrid(`random-grayscale-${suffix}`, gray);
  tf.dispose(gray.slice(1));
}

// --- presets ------------------------------------------------------------------
pipelineGallery('simclr-augment', simclrAugment({ size: 96 }), ['photos']);
pipelineGallery('mocov2-augment', mocoV2Augment({ size: 96 }), ['photos']);
const [byolA, byolB] = byolAugment({ size: 96 });
pipelineGallery('byol-augment-view1', byolA, ['photos']);
pipelineGallery('byol-augment-view2', byolB, ['photos']);
pipelineGallery('grayscale-augment', grayscaleAugment({ size: 32 }), ['digits']);
{
  const [a, b] = twoViews(photos, simclrAugment({ size: 96 }), { seed: 7 });
  writeGrid('two-views-photos', [photos, a, b]);
  tf.dispose([a, b]);
  const views = multiCrop(photos, { ...dinoMultiCrop({ globalSize: 64, localSize: 32, localCount: 4 }), seed: 7 });
  writeGrid('dino-multi-crop-photos', [photos, ...views.global, ...views.local]);
  tf.dispose([...views.global, ...views.local]);
}

// --- masks --------------------------------------------------------------------
/** Overlays a [B, H, W, 1] hole mask on images: holes drawn grey. */
function showHoles(images: tf.Tensor4D, mask: tf.Tensor4D): tf.Tensor4D {
  return applyMask(images, mask, { fill: 0.5 });
}
/** Expands a [B, L] patch mask on a g×g grid to a [B, H, W, 1] pixel mask. */
function patchMaskToPixels(mask: tf.Tensor2D, grid: number, size: number): tf.Tensor4D {
  return tf.tidy(() => {
    const m = tf.reshape(mask, [mask.shape[0], grid, grid, 1]) as tf.Tensor4D;
    return tf.image.resizeNearestNeighbor(m, [size, size]);
  });
}
{
  const grid = 8; // 8×8 patches of 12 px on the 96 px photos
  const masks = SEEDS.map((s) => randomPatchMask(photos.shape[0], grid * grid, { maskRatio: 0.75, seed: s }));
  writeGrid('mae-random-patch-mask-photos', [photos, ...masks.map((m) => showHoles(photos, patchMaskToPixels(m.mask, grid, 96)))]);
  tf.dispose(masks as never);
  const blocks = SEEDS.map((s) => blockMask(photos.shape[0], [grid, grid], { seed: s }));
  writeGrid('beit-block-mask-photos', [photos, ...blocks.map((m) => showHoles(photos, patchMaskToPixels(m, grid, 96)))]);
  tf.dispose(blocks);
}
gallery('center-mask', (x) => showHoles(x, centerMask(x.shape[0], [x.shape[1], x.shape[2]])));
gallery('random-rectangle-mask', (x, seed) => showHoles(x, randomRectangleMask(x.shape[0], [x.shape[1], x.shape[2]], { seed })));
gallery('irregular-mask', (x, seed) => showHoles(x, irregularMask(x.shape[0], [x.shape[1], x.shape[2]], { seed })));
gallery('pixel-dropout', (x, seed) => pixelDropout(x, { rate: 0.25, seed }));
gallery('salt-and-pepper', (x, seed) => saltAndPepper(x, { amount: 0.1, seed }));

// --- pretext-task batches -----------------------------------------------------
{
  const { images: rotated } = rotationBatch(photos); // [4B]: B unrotated, then B at 90°, 180°, 270°
  const b = photos.shape[0];
  const cols = [0, 1, 2, 3].map((k) => tf.slice(rotated, [k * b, 0, 0, 0], [b, -1, -1, -1]) as tf.Tensor4D);
  writeGrid('rotation-batch-photos', cols);
  tf.dispose([rotated, ...cols]);

  const perms = jigsawPermutations(30, { seed: 0 });
  const { tiles } = jigsawBatch(photos, perms, { seed: 1 }); // [B, 9, h, w, C]
  const [, n, th, tw, c] = tiles.shape;
  const tileCols = Array.from({ length: n }, (_, i) =>
    tf.tidy(() => tf.reshape(tf.slice(tiles, [0, i, 0, 0, 0], [-1, 1, -1, -1, -1]), [b, th, tw, c]) as tf.Tensor4D),
  );
  writeGrid('jigsaw-tiles-photos', [photos, ...tileCols]);
  tf.dispose([tiles, ...tileCols]);

  const pairs = relativePositionPairs(photos, { seed: 3 });
  writeGrid('relative-position-pairs-photos', [photos, pairs.center, pairs.neighbor]);
  tf.dispose([pairs.center, pairs.neighbor, pairs.labels]);

  const { l, ab } = labSplit(photos);
  const lightness = tf.tidy(() => tf.add(l, 0.5) as tf.Tensor4D); // (L − 50)/100 → [0, 1]
  const aChannel = tf.tidy(() => tf.add(tf.mul(tf.slice(ab, [0, 0, 0, 0], [-1, -1, -1, 1]), 0.5), 0.5) as tf.Tensor4D);
  const bChannel = tf.tidy(() => tf.add(tf.mul(tf.slice(ab, [0, 0, 0, 1], [-1, -1, -1, 1]), 0.5), 0.5) as tf.Tensor4D);
  writeGrid('lab-split-photos', [photos, lightness, aChannel, bChannel]);
  tf.dispose([l, ab, lightness, aChannel, bChannel]);
}

tf.dispose([photos, digits]);
console.log(`gallery: ${written.length} images in ${outDir}`);
