/**
 * The relaxed-SIMD build of selfsup's kernels: chosen at `useBackend` time
 * where the runtime validates relaxed SIMD, the SIMD128 build elsewhere or
 * with `relaxedSimd: false`, reported by `backendInfo().kernelsSimd`, and
 * computing the same results as the SIMD128 build up to the rounding of a
 * fused multiply-add. Node 20 (CI's) has relaxed SIMD only behind
 * `--experimental-wasm-relaxed-simd`, so the relaxed path runs in a child
 * process with that flag (or without it on Node ≥ 22).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendInfo, useBackend } from '../../src/backend/use-backend.js';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { relaxedSimdSupported } from '../../src/kernels/wasm-runtime.js';

const script = fileURLToPath(new URL('./relaxed-simd-check.ts', import.meta.url));

describe('relaxed-SIMD kernels', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('backendInfo reports the build this runtime runs', async () => {
    expect(backendInfo().kernelsSimd).toBe(relaxedSimdSupported() ? 'relaxed' : 'simd128');
    await useBackend('wasm', { relaxedSimd: false });
    expect(backendInfo().kernelsSimd).toBe('simd128');
    await useBackend('wasm');
    expect(backendInfo().kernelsSimd).toBe(relaxedSimdSupported() ? 'relaxed' : 'simd128');
    await useBackend('cpu');
    expect(backendInfo().kernelsSimd).toBeNull();
    await useBackend('wasm');
  });

  it('rejects a relaxedSimd option that is not a boolean', async () => {
    await expect(useBackend('wasm', { relaxedSimd: 'yes' as unknown as boolean })).rejects.toThrow(InvalidArgumentError);
    await expect(useBackend('wasm', { relaxedSimd: 'yes' as unknown as boolean })).rejects.toThrow(/useBackend.*relaxedSimd/);
  });

  it('in a runtime with relaxed SIMD, runs the relaxed build and agrees with SIMD128 to float32 rounding', () => {
    const flags = relaxedSimdSupported() ? [] : ['--experimental-wasm-relaxed-simd'];
    const out = execFileSync(process.execPath, [...flags, '--import', 'tsx', script], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      timeout: 120_000,
    });
    const report = JSON.parse(out.trim().split('\n').pop()!) as {
      kernelsSimd: string[];
      finite: boolean;
      diffs: Record<string, number>;
      threaded: { kernelsSimd: string; threads: number; kernelThreads: number; pooled: number; threadDiffs: string[] };
    };
    expect(report.kernelsSimd).toEqual(['relaxed', 'simd128', 'relaxed']);
    expect(report.finite).toBe(true);
    for (const [name, diff] of Object.entries(report.diffs)) expect(diff, name).toBeLessThan(2e-6);
    // The fused multiply-add is really used: the GEMM-based gradients round differently somewhere.
    expect(Object.values(report.diffs).some((d) => d > 0)).toBe(true);
    // On 3 threads the relaxed module runs in selfsup's kernel pool too, with the same bits as on one thread.
    expect(report.threaded).toMatchObject({ kernelsSimd: 'relaxed', threads: 3, kernelThreads: 3, threadDiffs: [] });
    expect(report.threaded.pooled).toBeGreaterThan(0);
  });
});
