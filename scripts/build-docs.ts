/**
 * `npm run docs`: builds the documentation site into docs/site/ (not committed).
 *
 * 1. renders the gallery (scripts/render-gallery.ts → docs/gallery/*.png),
 * 2. renders the benchmark plots from bench/results/*.json (scripts/render-plots.ts → docs/plots/*.svg),
 * 3. runs typedoc: the API reference of every area from the TSDoc, and the
 *    guides in docs/*.md, which embed those pictures and plots and include
 *    their code from examples/ (`{@includeCode ../examples/…}`),
 * 4. points docs/api at the site (the API reference's historical location).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, rmSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run(bin('tsx'), ['scripts/render-gallery.ts']);
if (existsSync(`${root}scripts/render-plots.ts`)) run(bin('tsx'), ['scripts/render-plots.ts']);
run(bin('typedoc'), []);

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
