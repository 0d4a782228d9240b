/**
 * The code of the guides (docs/*.md) and of the README lives in runnable
 * files under examples/ (the tests run them); this script copies it into the
 * markdown, so GitHub, the npm page and any markdown viewer show it, and the
 * typedoc site renders the same text.
 *
 * Each generated block is a fenced code block right after a marker line that
 * names its source, a markdown comment no renderer shows:
 *
 *     [//]: # (code: ../examples/guides/losses.ts#minimize)
 *     ```ts
 *     …the region `minimize` of that file…
 *     ```
 *
 * The path is relative to the markdown file; `#a,b` joins regions `a` and `b`
 * (between `// #region a` and `// #endregion a`); no `#` takes the whole file.
 * A typedoc placeholder line, `{@includeCode ../examples/x.ts#a}`, is turned
 * into such a block (typedoc would render it, but GitHub and npm show the
 * placeholder).
 *
 *   npx tsx scripts/guide-code.ts           rewrite the code blocks (npm run docs:code)
 *   npx tsx scripts/guide-code.ts --check   exit 1 if a block differs from its source
 *
 * tests/docs/guides.test.ts runs the same check inside `npm test`.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

/** The markdown files whose code is generated: every guide and the README. */
export function markdownFiles(): string[] {
  const docs = readdirSync(`${root}docs`)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `${root}docs/${f}`);
  return [`${root}README.md`, ...docs];
}

/** One generated block: where it comes from and what it holds now. */
export interface CodeBlock {
  /** The marker's source, as written (`../examples/x.ts#a,b`). */
  source: string;
  /** Absolute path of the source file. */
  file: string;
  /** The region names (empty: the whole file). */
  regions: string[];
  /** The fence's language (from the source's extension). */
  lang: string;
  /** The code the block must hold. */
  code: string;
}

const MARKER = /^\[\/\/\]: # \(code: ([^)#\s]+)(?:#([^)\s]+))?\)$/;
const PLACEHOLDER = /^\{@includeCode\s+([^}#\s]+)(?:#([^}\s]+))?\s*\}$/;

/** `text` with each `{@includeCode …}` placeholder line turned into a marker line. */
export function withMarkers(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const m = PLACEHOLDER.exec(line.trim());
      return m ? `[//]: # (code: ${m[1]}${m[2] ? `#${m[2]}` : ''})` : line;
    })
    .join('\n');
}
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The text of region `name` of `text` (between its `// #region` and `// #endregion` lines), or an error. */
export function region(text: string, name: string, where: string): string {
  const open = [...text.matchAll(new RegExp(`^[ \\t]*// *#region +${escape(name)} *\\r?\\n`, 'gm'))];
  const close = [...text.matchAll(new RegExp(`^[ \\t]*// *#endregion +${escape(name)} *\\r?\\n`, 'gm'))];
  if (open.length !== 1 || close.length !== 1) {
    throw new Error(`${where}: region ${name} must open and close once each (found ${open.length} and ${close.length})`);
  }
  const start = open[0]!.index + open[0]![0].length;
  const end = close[0]!.index;
  if (end < start) throw new Error(`${where}: region ${name} closes before it opens`);
  // Markers of other regions inside this one are not code.
  return text.slice(start, end).replace(/^[ \t]*\/\/ *#(?:end)?region\b.*\r?\n/gm, '');
}

/** The blocks a markdown file declares, with the code each must hold. */
export function codeBlocks(markdownPath: string): CodeBlock[] {
  const lines = withMarkers(readFileSync(markdownPath, 'utf8')).split('\n');
  const blocks: CodeBlock[] = [];
  for (const line of lines) {
    const m = MARKER.exec(line.trim());
    if (!m) continue;
    const file = resolve(dirname(markdownPath), m[1]!);
    const where = `${relative(root, markdownPath)} → ${m[1]}`;
    if (!existsSync(file)) throw new Error(`${where}: the file does not exist`);
    const text = readFileSync(file, 'utf8');
    const regions = m[2] ? m[2].split(',').map((r) => r.trim()) : [];
    const code = (regions.length > 0 ? regions.map((r) => region(text, r, where)).join('') : text).trimEnd();
    const ext = file.split('.').pop() ?? '';
    blocks.push({ source: m[2] ? `${m[1]}#${m[2]}` : m[1]!, file, regions, lang: ext === 'mts' || ext === 'cts' ? 'ts' : ext, code });
  }
  return blocks;
}

/** `markdownPath`'s text with every generated block holding its source's current code. */
export function render(markdownPath: string): string {
  const blocks = codeBlocks(markdownPath);
  const lines = withMarkers(readFileSync(markdownPath, 'utf8')).split('\n');
  const out: string[] = [];
  let b = 0;
  for (let i = 0; i < lines.length; i++) {
    out.push(lines[i]!);
    if (!MARKER.test(lines[i]!.trim())) continue;
    const block = blocks[b++]!;
    // Replace the fenced block that follows the marker (or insert one).
    let j = i + 1;
    if (lines[j]?.startsWith('```')) {
      j++;
      while (j < lines.length && lines[j] !== '```') j++;
      if (j === lines.length) throw new Error(`${relative(root, markdownPath)}: the code block after ${block.source} is not closed`);
      i = j;
    }
    out.push(`\`\`\`${block.lang}`, ...block.code.split('\n'), '```');
  }
  return out.join('\n');
}

/** The markdown files whose generated code differs from its source. */
export function staleFiles(): string[] {
  return markdownFiles().filter((f) => render(f) !== readFileSync(f, 'utf8'));
}

function main(): void {
  if (process.argv.includes('--check')) {
    const stale = staleFiles();
    if (stale.length > 0) {
      console.error(`docs:code: the code in ${stale.map((f) => relative(root, f)).join(', ')} differs from examples/; run npm run docs:code`);
      process.exit(1);
    }
    console.log('docs:code: every code block matches its example');
    return;
  }
  for (const f of markdownFiles()) {
    const text = render(f);
    if (text !== readFileSync(f, 'utf8')) {
      writeFileSync(f, text);
      console.log(`docs:code: updated ${relative(root, f)}`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) main();
