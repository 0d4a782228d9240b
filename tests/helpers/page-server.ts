/**
 * The page the browser tests load: a script bundled for the browser with
 * esbuild (bare imports resolved from the repository's node_modules, as a
 * user's bundler would) and served from 127.0.0.1, so Chromium never needs
 * the network.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A running page server. */
export interface PageServer {
  /** The page's address, `http://127.0.0.1:PORT/`. */
  base: string;
  /** Stops the server. */
  close(): void;
}

/**
 * Bundles `script` and serves it as `/bundle.js` under a page at `/` that
 * loads it as a module. `route` sees every request first: it may set headers
 * (e.g. cross-origin isolation) and returns true when it has answered;
 * anything else gets a 404.
 */
export async function servePageScript(
  script: string,
  route: (url: URL, req: IncomingMessage, res: ServerResponse) => boolean = () => false,
): Promise<PageServer> {
  const dir = mkdtempSync(join(tmpdir(), 'selfsup-page-'));
  let bundle: string;
  try {
    const entry = join(dir, 'entry.js');
    writeFileSync(entry, script);
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      nodePaths: [join(root, 'node_modules')],
      logLevel: 'silent',
    });
    bundle = result.outputFiles[0]!.text;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (route(url, req, res)) return;
    if (url.pathname === '/') {
      res.setHeader('Content-Type', 'text/html');
      res.end('<!doctype html><script type="module" src="/bundle.js"></script>');
    } else if (url.pathname === '/bundle.js') {
      res.setHeader('Content-Type', 'text/javascript');
      res.end(bundle);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => server.close() };
}
