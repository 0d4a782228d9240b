/** Small helpers shared by the runnable examples: quick mode and the backend flag (the progress display is selfsup's `ProgressBar`). */

/** True when the example should run a small, fast version (the tests pass `--quick`). */
export const QUICK = process.argv.includes('--quick') || process.env.SELFSUP_QUICK === '1';

/** Backend requested with `--backend=cpu|wasm` (default wasm). */
export const BACKEND = (process.argv.find((a) => a.startsWith('--backend='))?.split('=')[1] ?? 'wasm') as string;
