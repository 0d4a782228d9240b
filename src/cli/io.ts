/** Where the command writes, so that tests can run it in-process. */
import type { DataWarning } from '../data/image-dataset.js';

export interface CliStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIO {
  stdout: CliStream;
  stderr: CliStream;
  /** Folder relative paths are resolved against. */
  cwd: string;
}

/** Prints a dataset's warnings (skipped or undecodable files) on stderr, one line each. */
export function dataWarningPrinter(io: CliIO): (warning: DataWarning) => void {
  return (warning) => void io.stderr.write(`warning: ${warning.message}\n`);
}
