/**
 * Launching Debian's Chromium for the browser tests through playwright-core
 * (never a downloaded browser), kept off the network, with a fresh profile.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM);
export const chromiumMissing = `${CHROMIUM} is not installed (apt-get install chromium); the browser check is skipped`;

/** Flags that keep Chromium from reaching out to the network (this machine has none). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

/**
 * Flags for GPU backends without a GPU: WebGL on ANGLE's SwiftShader and
 * WebGPU on SwiftShader's Vulkan (Chromium's software adapter). They replace
 * `--disable-gpu`; a machine with a GPU may use it instead.
 */
export const CHROMIUM_GPU_ARGS = [
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-vulkan-surface',
];

/**
 * A headless Chromium context on a fresh user-data dir; `close()` removes the
 * profile. `options.gpu` swaps `--disable-gpu` for {@link CHROMIUM_GPU_ARGS}.
 */
export async function launchChromium(options: { gpu?: boolean } = {}): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'selfsup-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: options.gpu ? [...CHROMIUM_ARGS.filter((a) => a !== '--disable-gpu'), ...CHROMIUM_GPU_ARGS] : CHROMIUM_ARGS,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
