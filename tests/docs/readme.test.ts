/**
 * The README as newcomers meet it, on GitHub and on the npm page: the first
 * screen gives the two commands, and every link works from both places
 * (absolute URLs into the repository, pointing at files and headings that
 * exist). Its code is generated from examples/guides/readme.ts
 * (tests/docs/guides.test.ts), run from the repository by tests/examples and
 * from the packed package by tests/package/pack-install.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { repository: { url: string }; homepage: string; bugs: { url: string } };
const REPO = 'https://github.com/selfsup/selfsup';
const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);

/** GitHub's anchor for a markdown heading. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');

describe('README', () => {
  it('starts with the two commands', () => {
    const firstScreen = readme.split('\n').slice(0, 25).join('\n');
    expect(firstScreen).toContain('npm ci && npm run demo');
    expect(firstScreen).toContain('npm ci && npm test');
  });

  it('links only with absolute URLs, so they work on GitHub and on the npm page', () => {
    expect(links.length).toBeGreaterThan(10);
    expect(links.filter((l) => !/^https?:\/\//.test(l))).toEqual([]);
  });

  it('links into the repository point at files and headings that exist', () => {
    const blob = `${REPO}/blob/main/`;
    for (const link of links.filter((l) => l.startsWith(blob))) {
      const [path, anchor] = link.slice(blob.length).split('#') as [string, string | undefined];
      expect(existsSync(`${root}${path}`), `${link}: ${path} does not exist`).toBe(true);
      if (anchor) {
        const headings = [...readFileSync(`${root}${path}`, 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!));
        expect(headings, `${link}: no heading #${anchor} in ${path}`).toContain(anchor);
      }
    }
  });

  it('package.json names the repository the links point to', () => {
    expect(pkg.repository.url).toBe(`git+${REPO}.git`);
    expect(pkg.homepage).toBe(`${REPO}#readme`);
    expect(pkg.bugs.url).toBe(`${REPO}/issues`);
  });
});
