/**
 * The code of docs/backends.md, runnable: `npx tsx examples/guides/backends.ts`.
 *
 * Each `#region` is one snippet of the guide, shown there as written here.
 */

// #region use-backend
import { backendInfo, useBackend } from 'selfsup';

await useBackend('wasm');          // Node: the .wasm files are read from node_modules
console.log(backendInfo().simd);   // true where the runtime supports wasm SIMD
// #endregion use-backend

// #region threads
// Every core by default; here two threads, for tfjs's XNNPACK ops and selfsup's kernels alike.
const info = await useBackend('wasm', { threads: 2 });
console.log(info.threads, info.kernelThreads, info.threadsReason); // 2 2 null (Node, or a cross-origin-isolated page)
// #endregion threads

const { backend, threads, gradients, kernels, tfjsVersion } = backendInfo();
console.log(`${backend}: ${threads} thread(s), gradients ${gradients}, ${kernels.length} selfsup kernels, tfjs ${tfjsVersion}`);
