/**
 * `npm run docs`: builds the documentation site into docs/site/ (not committed).
 *
 * 1. renders the gallery (scripts/render-gallery.ts → docs/gallery/*.png),
 * 2. renders the benchmark plots from bench/results/*.json (scripts/render-plots.ts → docs/plots/*.svg),
 * 3. runs typedoc: the API reference of every area from the TSDoc, and the
 *    guides in docs/*.md, which embed those pictures and plots and show code
 *    copied from examples/ by `npm run docs:code` (tests/docs/guides.test.ts
 *    fails when it has drifted),
 * 4. bundles the browser demo next to the site's copy of its page: the guides link
 *    examples/browser/index.html, which typedoc copies into docs/site/media/, so the
 *    bundle (app.js and the tfjs .wasm files) goes there and the link opens a working demo,
 * 5. points docs/api at the site (the API reference's historical location).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildBrowserDemo } from './build-browser-demo.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run(bin('tsx'), ['scripts/render-gallery.ts']);
run(bin('tsx'), ['scripts/render-plots.ts']);
run(bin('typedoc'), []);
const page = readFileSync(`${root}examples/browser/index.html`, 'utf8');
const media = `${root}docs/site/media`;
const copied = existsSync(media) ? readdirSync(media).find((f) => f.endsWith('.html') && readFileSync(`${media}/${f}`, 'utf8') === page) : undefined;
if (copied !== 'index.html') throw new Error(`docs: expected typedoc to copy examples/browser/index.html to docs/site/media/index.html (found ${copied ?? 'no copy'}); is the demo still linked from docs/browser-demo.md?`);
const bytes = await buildBrowserDemo(media);
console.log(`docs: browser demo bundled into docs/site/media/ (${(bytes / 1e6).toFixed(1)} MB with its source map)`);

// The site must hold every guide, and every gallery picture and plot they embed.
const guides = readdirSync(`${root}docs`).filter((f) => f.endsWith('.md'));
const pages = readdirSync(`${root}docs/site/documents`);
if (pages.length < guides.length) throw new Error(`docs: ${guides.length} guides in docs/ but ${pages.length} pages in docs/site/documents/`);
const pictures = [...readdirSync(`${root}docs/gallery`), ...readdirSync(`${root}docs/plots`)];
const missing = pictures.filter((f) => !existsSync(`${media}/${f}`));
if (missing.length > 0) throw new Error(`docs: rendered but not embedded in any guide: ${missing.join(', ')}`);
console.log(`docs: ${guides.length} guides, ${pictures.length} gallery pictures and plots`);

const api = `${root}docs/api`;
if (existsSync(api) || isLink(api)) rmSync(api, { recursive: true, force: true });
symlinkSync('site', api, 'dir');
console.log('docs: site in docs/site/ (docs/api links to it)');

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
