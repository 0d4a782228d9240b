/** Small helpers shared by the runnable examples: quick mode, a progress display, a quiet tfjs. */

/**
 * Hides the banner tfjs-backend-cpu prints on its first use in Node ("looks
 * like you are running TensorFlow.js in Node.js … install our node backend"):
 * advice for tfjs-node, which these examples do not use. Every other warning
 * is printed as usual. The tests install the same filter (tests/helpers/setup.ts).
 */
let bannerSilenced = false;
export function silenceTfjsNodeBanner(): void {
  if (bannerSilenced) return;
  bannerSilenced = true;
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('looks like you are running TensorFlow.js in Node.js')) return;
    warn(...args);
  };
}
// Every example imports this module: none prints the banner.
silenceTfjsNodeBanner();

/** True when the example should run a small, fast version (the tests pass `--quick`). */
export const QUICK = process.argv.includes('--quick') || process.env.SELFSUP_QUICK === '1';

/** Backend requested with `--backend=cpu|wasm` (default wasm). */
export const BACKEND = (process.argv.find((a) => a.startsWith('--backend='))?.split('=')[1] ?? 'wasm') as string;

/**
 * A one-line progress display: redraws in place on a terminal, prints
 * occasional plain lines otherwise (CI logs, pipes).
 */
export function progress(label: string, total: number): { tick(extra?: string): void; done(extra?: string): void } {
  const tty = process.stdout.isTTY === true;
  const start = performance.now();
  let count = 0;
  let lastPrinted = -1;
  const render = (extra = '') => {
    const frac = total > 0 ? count / total : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const secs = (performance.now() - start) / 1000;
    return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count}/${total} ${secs.toFixed(1)}s ${extra}`;
  };
  return {
    tick(extra = '') {
      count++;
      if (tty) process.stdout.write(`\r${render(extra)}\x1b[K`);
      else {
        const decile = Math.floor((count / total) * 10);
        if (decile !== lastPrinted) {
          lastPrinted = decile;
          console.log(render(extra));
        }
      }
    },
    done(extra = '') {
      const finished = count === total;
      count = total;
      if (tty) process.stdout.write(`\r${render(extra)}\x1b[K\n`);
      // Off a terminal the last tick always printed the final count (its decile is new): print only what is new.
      else if (!finished || extra !== '') console.log(render(extra));
    },
  };
}
