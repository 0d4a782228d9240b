#!/usr/bin/env node
/**
 * A tiny static server for the browser demo, with the cross-origin isolation
 * headers (COOP/COEP) that let a browser enable SharedArrayBuffer and thus
 * wasm threads. Binds to 127.0.0.1 only.
 *
 *   node scripts/serve.mjs [folder=examples/browser/dist] [--port=8080]
 *
 * `npm run docs:serve` serves the docs site (docs/site/, built by `npm run docs`) this way, so its
 * browser demo runs; pages opened from disk (file://) cannot load the demo's module and .wasm files.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.gz': 'application/gzip', // no Content-Encoding: selfsup's data files are decompressed by the code that fetches them
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** Starts the server; resolves to `{url, close}`. Port 0 picks a free port. */
export function serve(folder, port = 0) {
  const root = resolve(folder);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let path = normalize(join(root, decodeURIComponent(url.pathname)));
    if (!path.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(path) && statSync(path).isDirectory()) path = join(path, 'index.html');
    if (!existsSync(path)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cross-origin-resource-policy': 'same-origin',
      'cache-control': 'no-store',
    });
    createReadStream(path).pipe(res);
  });
  return new Promise((ok) => {
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      ok({ url: `http://127.0.0.1:${actual}/`, close: () => new Promise((done) => server.close(done)) });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const folder = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'examples/browser/dist';
  const port = Number(process.argv.find((a) => a.startsWith('--port='))?.split('=')[1] ?? 8080);
  if (!existsSync(join(folder, 'index.html'))) {
    console.error(`serve: ${folder}/index.html does not exist; build it first (npm run docs for docs/site, npm run demo:browser for the demo)`);
    process.exit(1);
  }
  const { url } = await serve(folder, port);
  console.log(`serving ${folder} at ${url} (COOP/COEP on: wasm threads allowed where the browser supports them)`);
}
