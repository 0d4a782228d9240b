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
 * 5. makes the site work when opened from disk: typedoc's pages take their icons from
 *    assets/icons.svg, which browsers refuse to load across file:// pages, while
 *    assets/icons.js puts the same symbols into every page; the pages point at those,
 * 6. opens the site from disk in Debian's Chromium (where installed): the pages render
 *    without a console error, and the demo page says it must be served
 *    (`npm run docs:serve`) instead of "Loading…",
 * 7. points docs/api at the site (the API reference's historical location).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromiumAvailable, launchChromium } from '../tests/helpers/chromium.js';
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

// Icons from the symbols icons.js inlines into each page rather than from assets/icons.svg (blocked on file://).
let pagesFixed = 0;
for (const file of htmlFiles(`${root}docs/site`)) {
  const html = readFileSync(file, 'utf8');
  const fixed = html.replace(/href="(?:\.\.\/)*assets\/icons\.svg#/g, 'href="#');
  if (fixed !== html) {
    writeFileSync(file, fixed);
    pagesFixed++;
  }
}
console.log(`docs: icons of ${pagesFixed} pages taken from the inlined symbols (the site works from disk)`);

if (chromiumAvailable) await checkFromDisk();
else console.log('docs: Chromium is not installed; the check of the site opened from disk is skipped');

const api = `${root}docs/api`;
if (existsSync(api) || isLink(api)) rmSync(api, { recursive: true, force: true });
symlinkSync('site', api, 'dir');
console.log('docs: site in docs/site/ (docs/api links to it)');

function htmlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? htmlFiles(join(dir, e.name)) : e.name.endsWith('.html') ? [join(dir, e.name)] : [],
  );
}

/** Opens the site from disk: pages without console errors; the demo explains that it must be served. */
async function checkFromDisk(): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    for (const path of ['index.html', 'documents/Getting_started.html', 'functions/losses.ntXentLoss.html']) {
      await page.goto(pathToFileURL(`${root}docs/site/${path}`).href);
      await page.waitForLoadState('load');
      if (errors.length > 0) throw new Error(`docs: docs/site/${path} opened from disk logs errors: ${errors.join(' | ')}`);
    }
    await page.goto(pathToFileURL(`${media}/index.html`).href);
    const status = await page.evaluate(() => document.getElementById('status')?.textContent ?? '');
    if (!status.includes('npm run docs:serve')) throw new Error(`docs: the demo page opened from disk says "${status}"`);
    console.log('docs: the site opened from disk renders without errors; its demo page says to serve it (npm run docs:serve)');
  } finally {
    await browser.close();
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
