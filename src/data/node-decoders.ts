/**
 * The image decoders of `imageFolder` in Node: sharp (libvips, an optional
 * native dependency; decodes on libuv's threads) and the pure-JS fallback
 * (jpeg-js and pngjs on worker threads). Both overlap decoding with training
 * on the main thread.
 *
 * @module
 */
import { MissingDataError } from '../core/errors.js';
import { nodeBuiltin, optionalPackage, resolvePackage } from '../core/node.js';
import type { ImageHeader } from './image-header.js';
import { createImageKernel, type JsDecoders, type OutputSpec } from './image-kernel.js';

/** Decodes one file to the output size (8-bit, interleaved); rejects with the reason when it cannot. */
export interface NodeImageDecoder {
  readonly name: 'sharp' | 'js';
  decode(path: string, header: ImageHeader, spec: OutputSpec): Promise<Uint8Array>;
  /** Whether it reads this format (the pure-JS decoders read no WebP). */
  reads(format: ImageHeader['format']): boolean;
  close(): void;
}

/** The parts of sharp's API used here. */
interface SharpPipeline {
  pipelineColourspace(space: string): SharpPipeline;
  toColourspace(space: string): SharpPipeline;
  resize(width: number, height: number, options: { fit: string; position: string; kernel: string }): SharpPipeline;
  removeAlpha(): SharpPipeline;
  raw(options: { depth: 'uchar' }): SharpPipeline;
  toBuffer(options: { resolveWithObject: true }): Promise<{ data: Uint8Array; info: { width: number; height: number; channels: number } }>;
}
type Sharp = ((input: string, options: { failOn: string }) => SharpPipeline) & { concurrency(n?: number): number };

/** Runs at most `limit` tasks at once, in submission order. */
function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** sharp, if installed and loadable here. */
export function loadSharp(fn: string): Sharp | undefined {
  const sharp = optionalPackage<Sharp>('sharp', fn);
  return typeof sharp === 'function' ? sharp : undefined;
}

/**
 * The sharp decoder: libvips decodes and resizes (with shrink-on-load for
 * JPEG) on libuv's thread pool, off the main thread. CMYK JPEGs are resized
 * in CMYK and converted as Pillow does, without colour management, so both
 * decoders agree; alpha is dropped (torchvision's `convert('RGB')`).
 */
export function sharpDecoder(sharp: Sharp, concurrency: number): NodeImageDecoder {
  const kernel = createImageKernel();
  const run = limiter(concurrency);
  return {
    name: 'sharp',
    reads: (format) => format === 'png' || format === 'jpeg' || format === 'webp',
    decode: (path, header, spec) =>
      run(async () => {
        const cmyk = header.format === 'jpeg' && header.components === 4;
        let pipeline = sharp(path, { failOn: 'warning' });
        pipeline = cmyk ? pipeline.pipelineColourspace('cmyk').toColourspace('cmyk') : pipeline.toColourspace('srgb').removeAlpha();
        pipeline = pipeline.resize(spec.width, spec.height, { fit: spec.fit, position: 'centre', kernel: 'linear' });
        const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
        if (!cmyk && info.channels === 3 && spec.channels === 3) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        return kernel.toOutput(data, info.width * info.height, info.channels, cmyk, spec.channels);
      }),
    close: () => undefined,
  };
}

/** Paths of the pure-JS decoders, or an error saying they are missing. */
function jsDecoderPaths(fn: string): { jpeg: string; png: string } {
  const jpeg = resolvePackage('jpeg-js', fn);
  const png = resolvePackage('pngjs', fn);
  if (jpeg === undefined || png === undefined) {
    throw new MissingDataError(
      `${fn}: no image decoder is installed: selfsup decodes with sharp (optional dependency) or with jpeg-js and pngjs ` +
        `(dependencies); reinstall selfsup (npm install selfsup) or install sharp`,
    );
  }
  return { jpeg, png };
}

/** The body of a decoding thread; `KERNEL` is replaced by the kernel's source. */
const WORKER_SOURCE = `
// Transpilers that keep function names (tsx, esbuild's keepNames) wrap the kernel's functions in __name().
var __name = (target) => target;
const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
const fs = process.getBuiltinModule('node:fs');
const req = process.getBuiltinModule('node:module').createRequire(workerData.jpeg);
const decoders = { jpeg: req(workerData.jpeg), png: req(workerData.png) };
const kernel = (KERNEL)();
parentPort.on('message', (job) => {
  try {
    const out = kernel.decodeToSize(fs.readFileSync(job.path), decoders, job.spec);
    parentPort.postMessage({ id: job.id, data: out }, [out.buffer]);
  } catch (e) {
    parentPort.postMessage({ id: job.id, error: e && e.message ? String(e.message) : String(e) });
  }
});
`;

interface Job {
  id: number;
  path: string;
  spec: OutputSpec;
  resolve(data: Uint8Array): void;
  reject(error: Error): void;
}

interface PoolWorker {
  worker: import('node:worker_threads').Worker;
  jobs: Map<number, Job>;
}

/**
 * The pure-JS decoder: jpeg-js and pngjs (both pure JavaScript, no install
 * step) running in `threads` worker threads, so decoding overlaps training;
 * `threads: 0` decodes on the main thread between steps.
 */
export function jsDecoder(threads: number, fn: string): NodeImageDecoder {
  const paths = jsDecoderPaths(fn);
  const kernel = createImageKernel();
  const reads = (format: ImageHeader['format']) => format === 'png' || format === 'jpeg';
  if (threads === 0) {
    const req = nodeBuiltin('node:module', fn).createRequire(paths.jpeg);
    const decoders = { jpeg: req(paths.jpeg), png: req(paths.png) } as JsDecoders;
    const fsp = nodeBuiltin('node:fs/promises', fn);
    return {
      name: 'js',
      reads,
      decode: async (path, _header, spec) => kernel.decodeToSize(await fsp.readFile(path), decoders, spec),
      close: () => undefined,
    };
  }
  const { Worker } = nodeBuiltin('node:worker_threads', fn);
  const source = WORKER_SOURCE.replace('KERNEL', createImageKernel.toString());
  const pool: PoolWorker[] = [];
  const queue: Job[] = [];
  let nextId = 0;
  let closed = false;
  // Two jobs per thread hide the message round trip.
  const perWorker = 2;

  const spawn = (): PoolWorker => {
    const worker = new Worker(source, { eval: true, workerData: paths });
    const entry: PoolWorker = { worker, jobs: new Map() };
    worker.unref();
    worker.on('message', (message: { id: number; data?: Uint8Array; error?: string }) => {
      const job = entry.jobs.get(message.id);
      if (job === undefined) return;
      entry.jobs.delete(message.id);
      if (message.data !== undefined) job.resolve(message.data);
      else job.reject(new Error(message.error ?? 'decoding failed'));
      dispatch();
    });
    worker.on('error', (error: Error) => {
      // A thread that died takes its jobs with it: fail them, replace the thread.
      for (const job of entry.jobs.values()) job.reject(error);
      entry.jobs.clear();
      const i = pool.indexOf(entry);
      if (i >= 0) pool.splice(i, 1);
      if (!closed) pool.push(spawn());
      dispatch();
    });
    return entry;
  };

  const dispatch = () => {
    for (const entry of pool) {
      while (entry.jobs.size < perWorker && queue.length > 0) {
        const job = queue.shift()!;
        entry.jobs.set(job.id, job);
        entry.worker.postMessage({ id: job.id, path: job.path, spec: job.spec });
      }
      // A busy thread keeps the process alive until its results are in; an idle one does not.
      if (entry.jobs.size > 0) entry.worker.ref();
      else entry.worker.unref();
    }
  };

  for (let i = 0; i < threads; i++) pool.push(spawn());
  return {
    name: 'js',
    reads,
    decode: (path, _header, spec) =>
      new Promise<Uint8Array>((resolve, reject) => {
        if (closed) {
          reject(new Error('the dataset was disposed'));
          return;
        }
        queue.push({ id: nextId++, path, spec, resolve, reject });
        dispatch();
      }),
    close: () => {
      closed = true;
      for (const job of queue) job.reject(new Error('the dataset was disposed'));
      queue.length = 0;
      for (const entry of pool) {
        for (const job of entry.jobs.values()) job.reject(new Error('the dataset was disposed'));
        void entry.worker.terminate();
      }
      pool.length = 0;
    },
  };
}
