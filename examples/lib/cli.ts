/**
 * Small helpers shared by the runnable examples: quick mode, the backend flag and a quiet tfjs (the
 * progress display is selfsup's `ProgressBar`).
 */

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
