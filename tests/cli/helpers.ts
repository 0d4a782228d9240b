/**
 * Shared by the command-line tests: a folder of PNG and JPEG files in class
 * subfolders with a few corrupt files, and the command run in-process or as
 * a child process (from the sources, through tsx).
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writePhotoFolder } from '../../examples/lib/photo-folder.js';
import { main } from '../../src/cli/main.js';

export const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'src/cli/bin.ts');

/**
 * Writes `dir/<class>/<i>.{png,jpg}` (four classes: crops of the four vendored
 * photographs, about half JPEG) and three bad files: a zero-byte PNG, a
 * truncated JPEG and a text file named .png. Returns the number of good files.
 */
export function writeTestFolder(dir: string, perClass = 10, size = 40): number {
  const files = writePhotoFolder(dir, { perClass, size, jpegShare: 0.5, seed: 3 });
  const classes = ['astronaut', 'chelsea', 'coffee', 'rocket'];
  writeFileSync(join(dir, classes[0]!, 'empty.png'), new Uint8Array(0));
  writeFileSync(join(dir, classes[1]!, 'truncated.jpg'), new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70, 0]));
  writeFileSync(join(dir, classes[2]!, 'not-a-picture.png'), 'this is text, not a PNG');
  return files.length;
}

/** Runs the command in this process with captured output (stderr as a terminal when asked). */
export async function runInProcess(args: string[], cwd = root, stderrIsTerminal = false): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t), ...(stderrIsTerminal ? { isTTY: true, columns: 120 } : {}) },
    cwd,
  });
  return { code, stdout, stderr };
}

const childArgs = (args: string[]) => ['--import', 'tsx', bin, ...args];

/** Runs the command in a child process (from the sources) to the end. */
export function runChild(args: string[], timeout = 240_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, childArgs(args), { cwd: root, encoding: 'utf8', timeout });
}

/** Starts the command in a child process; the caller waits for or kills it. */
export function startChild(args: string[]): ChildProcess {
  return spawn(process.execPath, childArgs(args), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Reads OUT/metrics.jsonl as objects. */
export function readMetrics(text: string): { step: number; loss: number }[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { step: number; loss: number });
}
