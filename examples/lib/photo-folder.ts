/**
 * A folder of real image files for the examples, guides and the loader
 * benchmark to read: random crops of the four vendored photographs, saved as
 * PNG and JPEG files in one subfolder per photograph (the class).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import jpeg from 'jpeg-js';
import { createRng, loadPhotos } from 'selfsup';
import { encodePng } from '../../scripts/lib/png.js';

export interface PhotoFolderOptions {
  /** Files per class. @default 8 */
  perClass?: number;
  /** Side of the square files, in pixels. @default 96 */
  size?: number;
  /** Share of JPEG files (the rest are PNG). @default 0.5 */
  jpegShare?: number;
  /** JPEG quality. @default 90 */
  quality?: number;
  /** Crop seed. @default 0 */
  seed?: number;
  /** Tile 2×2 crops into each file (more detail per pixel at sizes above the photos' 128 px). @default size > 128 */
  mosaic?: boolean;
}

/** Writes `dir/<photo>/<i>.{png,jpg}` and returns the file paths. */
export function writePhotoFolder(dir: string, options: PhotoFolderOptions = {}): string[] {
  const { perClass = 8, size = 96, jpegShare = 0.5, quality = 90, seed = 0 } = options;
  const mosaic = options.mosaic ?? size > 128;
  const rng = createRng(seed);
  const { images, names } = loadPhotos();
  const tile = mosaic ? size / 2 : size;
  const crop = (photo: number): tf.Tensor3D => {
    const side = rng.uniform(0.3, 0.9);
    const y = rng.uniform(0, 1 - side);
    const x = rng.uniform(0, 1 - side);
    return tf.tidy(() => tf.squeeze(tf.image.cropAndResize(images, [[y, x, y + side, x + side]], [photo], [tile, tile]), [0]) as tf.Tensor3D);
  };
  const files: string[] = [];
  names.forEach((name, photo) => {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const pixels = tf.tidy(() => {
        let img: tf.Tensor3D;
        if (mosaic) {
          const [a, b, c, d] = [crop(photo), crop(photo), crop(photo), crop(photo)];
          img = tf.concat([tf.concat([a, b], 1), tf.concat([c, d], 1)], 0) as tf.Tensor3D;
        } else {
          img = crop(photo);
        }
        return Uint8Array.from(tf.clipByValue(tf.round(tf.mul(img, 255)), 0, 255).dataSync());
      });
      const asJpeg = rng.next() < jpegShare;
      const path = join(dir, name, `${name}-${i}.${asJpeg ? 'jpg' : 'png'}`);
      if (asJpeg) {
        const rgba = new Uint8Array(size * size * 4);
        for (let p = 0; p < size * size; p++) {
          rgba.set(pixels.subarray(p * 3, p * 3 + 3), p * 4);
          rgba[p * 4 + 3] = 255;
        }
        writeFileSync(path, jpeg.encode({ data: rgba, width: size, height: size }, quality).data);
      } else {
        writeFileSync(path, encodePng(pixels, size, size, 3));
      }
      files.push(path);
    }
  });
  tf.dispose(images);
  return files;
}
