/**
 * Embedding export: the .npy encoder against NumPy's format (header parsed
 * here; NumPy itself reads the files where /usr/bin/python3 has it, through
 * scripts/checks/read_npy.py), and saveEmbeddings' three formats.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/use-backend.js';
import { saveEmbeddings } from '../../src/io/embeddings.js';
import { decodeNpy, encodeNpy } from '../../src/io/npy.js';

const dir = mkdtempSync(join(tmpdir(), 'selfsup-npy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await useBackend('cpu');
});

const PYTHON = '/usr/bin/python3';
const hasNumpy = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('encodeNpy', () => {
  it("writes NumPy's version 1.0 layout: magic, header dict, 64-byte aligned little-endian data", () => {
    const bytes = encodeNpy(tf.tensor2d([[1.5, -2], [3, 0.25], [1e-8, 7]]));
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLength = bytes[8]! | (bytes[9]! << 8);
    expect((10 + headerLength) % 64).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
    expect(header.trimEnd()).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }");
    expect(header.endsWith('\n')).toBe(true);
    const data = new DataView(bytes.buffer, 10 + headerLength);
    expect(data.getFloat32(0, true)).toBe(1.5);
    expect(data.getFloat32(4 * 4, true)).toBe(Math.fround(1e-8));
    expect(bytes.length).toBe(10 + headerLength + 6 * 4);
  });

  it('round-trips through decodeNpy for every dtype and shape (1-D, 3-D, empty)', () => {
    const cases = [
      [new Float32Array([1, 2, 3]), [3], '<f4'],
      [new Float64Array([0.1, 0.2, 0.3, 0.4]), [2, 1, 2], '<f8'],
      [new Int32Array([-5, 7]), [1, 2], '<i4'],
      [new Uint8Array([0, 255, 9]), [3], '|u1'],
      [new Float32Array(0), [0, 4], '<f4'],
    ] as const;
    for (const [values, shape, descr] of cases) {
      const back = decodeNpy(encodeNpy(values, shape));
      expect(back.shape).toEqual(shape);
      expect(back.descr).toBe(descr);
      expect(Array.from(back.values)).toEqual(Array.from(values));
    }
    const header = new TextDecoder().decode(encodeNpy(new Float32Array([1, 2, 3]), [3]).subarray(10, 64));
    expect(header).toContain("'shape': (3,)");
  });

  it('checks its input; decodeNpy refuses what it cannot read', () => {
    expect(() => encodeNpy(new Float32Array(4), [3])).toThrow(/encodeNpy: shape must have 4 elements in all/);
    expect(() => encodeNpy(new Float32Array(4))).toThrow(/encodeNpy: shape must be an array of non-negative integers/);
    expect(() => encodeNpy([1, 2] as unknown as Float32Array, [2])).toThrow(/data must be a tensor or a Float32Array/);
    expect(() => encodeNpy(tf.tensor1d([true as unknown as number], 'bool'))).toThrow(/float32 or int32 tensor/);
    expect(() => decodeNpy(new Uint8Array(12))).toThrow(/not a .npy file/);
    const bytes = encodeNpy(new Float32Array([1, 2, 3, 4]), [4]);
    expect(() => decodeNpy(bytes.subarray(0, bytes.length - 2))).toThrow(/truncated/);
  });

  it.runIf(hasNumpy)('NumPy reads the files (scripts/checks/read_npy.py)', async () => {
    const a = join(dir, 'a.npy');
    const b = join(dir, 'b.npy');
    const values = tf.tensor2d([[0.5, -1.25, 3], [1e-7, 2e6, -0]]);
    await saveEmbeddings(a, values);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(b, encodeNpy(new Int32Array([1, -2, 3, 4, 5, 6]), [3, 1, 2]));
    const out = JSON.parse(execFileSync(PYTHON, ['scripts/checks/read_npy.py', a, b], { encoding: 'utf8' }));
    expect(out[0]).toMatchObject({ shape: [2, 3], dtype: '<f4' });
    expect(out[0].values).toEqual(Array.from(values.dataSync()));
    expect(out[1]).toEqual({ path: b, shape: [3, 1, 2], dtype: '<i4', values: [1, -2, 3, 4, 5, 6] });
    values.dispose();
  });
});

describe('saveEmbeddings', () => {
  const embeddings = () => tf.tensor2d([[0.1, 2], [-3.5, 1 / 3]]);
  const meta = { names: ['cats/a.png', 'dogs/b, "c".jpg'], labels: [0, 1], classNames: ['cat', 'dog'] };

  it('.npy with a .meta.json sidecar of names and labels', async () => {
    const e = embeddings();
    const saved = await saveEmbeddings(join(dir, 'out', 'features.npy'), e, meta);
    expect(saved).toEqual({ files: [join(dir, 'out', 'features.npy'), join(dir, 'out', 'features.meta.json')], rows: 2, dim: 2 });
    const back = decodeNpy(readFileSync(saved.files[0]!));
    expect(Array.from(back.values)).toEqual(Array.from(e.dataSync()));
    expect(JSON.parse(readFileSync(saved.files[1]!, 'utf8'))).toEqual({ file: 'features.npy', dtype: 'float32', rows: 2, dim: 2, ...meta });
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['features.meta.json', 'features.npy']); // no temporary files left
    e.dispose();
  });

  it('CSV: a header, quoted names, labels and class names, 9 significant digits', async () => {
    const e = embeddings();
    await saveEmbeddings(join(dir, 'features.csv'), e, meta);
    expect(readFileSync(join(dir, 'features.csv'), 'utf8')).toBe(
      'name,label,className,e0,e1\ncats/a.png,0,cat,0.100000001,2\n"dogs/b, ""c"".jpg",1,dog,-3.5,0.333333343\n',
    );
    await saveEmbeddings(join(dir, 'plain.txt'), e, { format: 'csv' });
    expect(readFileSync(join(dir, 'plain.txt'), 'utf8')).toBe('e0,e1\n0.100000001,2\n-3.5,0.333333343\n');
    e.dispose();
  });

  it('JSON: shape, names, labels, class names and the rows', async () => {
    const e = embeddings();
    await saveEmbeddings(join(dir, 'features.json'), e, { names: meta.names, labels: tf.tensor1d([1, 0], 'int32') });
    expect(JSON.parse(readFileSync(join(dir, 'features.json'), 'utf8'))).toEqual({
      shape: [2, 2],
      rows: 2,
      dim: 2,
      names: meta.names,
      labels: [1, 0],
      embeddings: [[0.100000001, 2], [-3.5, 0.333333343]],
    });
    e.dispose();
  });

  it('checks its arguments before writing anything', async () => {
    const e = embeddings();
    await expect(saveEmbeddings(join(dir, 'x.bin'), e)).rejects.toThrow(/saveEmbeddings: options.format must be given/);
    await expect(saveEmbeddings(join(dir, 'x.npy'), tf.zeros([2, 2, 2]) as unknown as tf.Tensor2D)).rejects.toThrow(/embeddings must be a rank-2 tensor/);
    await expect(saveEmbeddings(join(dir, 'x.npy'), e, { names: ['a'] })).rejects.toThrow(/options.names must be an array of 2 strings/);
    await expect(saveEmbeddings(join(dir, 'x.npy'), e, { labels: [0, -1] })).rejects.toThrow(/options.labels\[1\] must be an integer/);
    await expect(saveEmbeddings(join(dir, 'x.npy'), e, { format: 'xml' as 'npy' })).rejects.toThrow(/options.format must be one of/);
    expect(existsSync(join(dir, 'x.npy'))).toBe(false);
    e.dispose();
  });
});
