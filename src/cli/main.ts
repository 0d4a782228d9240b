/**
 * The `selfsup` command: `selfsup pretrain …`, `selfsup embed …`, `--help`,
 * `--version`. Mistakes on the command line exit with code 2 and a message
 * naming the flag; selfsup's own errors (a missing data folder, a bad
 * checkpoint) with code 1 and their message; never a stack trace unless
 * SELFSUP_DEBUG is set.
 */
import { SelfsupError } from '../core/errors.js';
import { SELFSUP_VERSION } from '../core/version.js';
import { UsageError } from './args.js';
import { embed, embedHelp } from './embed.js';
import type { CliIO } from './io.js';
import { pretrain, pretrainHelp } from './pretrain.js';

const COMMANDS = {
  pretrain: { run: pretrain, help: pretrainHelp, summary: 'pretrain an encoder on a folder of images (self-supervised)' },
  embed: { run: embed, help: embedHelp, summary: 'embed a folder of images with a saved encoder (.npy + names and labels)' },
} as const;

export function mainHelp(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`);
  return (
    'Usage: selfsup <command> [options]\n\n' +
    'Self-supervised pretraining on your own images, with TensorFlow.js (no GPU, no Python).\n\n' +
    `Commands:\n${rows.join('\n')}\n\n` +
    'Options:\n  -h, --help     show this help (selfsup <command> --help for a command\'s options)\n  -v, --version  print the version\n\n' +
    'Example:\n  npx selfsup pretrain --data ./photos --method simclr --out ./run\n  npx selfsup embed --model ./run/encoder --data ./photos --out ./photos.npy\n'
  );
}

/** Runs the command line `argv` (without `node selfsup`); returns the exit code. */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      if (command === 'help' && rest[0] && rest[0] in COMMANDS) {
        io.stdout.write(COMMANDS[rest[0] as keyof typeof COMMANDS].help());
        return 0;
      }
      (command === undefined ? io.stderr : io.stdout).write(mainHelp());
      return command === undefined ? 2 : 0;
    }
    if (command === '--version' || command === '-v') {
      io.stdout.write(`${SELFSUP_VERSION}\n`);
      return 0;
    }
    if (!(command in COMMANDS)) {
      const what = command.startsWith('-') ? `unknown flag ${command} (flags follow a command: selfsup pretrain --help)` : `unknown command '${command}'`;
      throw new UsageError(`${what}; commands: ${Object.keys(COMMANDS).join(', ')}`);
    }
    return await COMMANDS[command as keyof typeof COMMANDS].run(rest, io);
  } catch (e) {
    return reportError(e, io, command !== undefined && command in COMMANDS ? command : '');
  }
}

function reportError(e: unknown, io: CliIO, command: string): number {
  const debug = Boolean(process.env.SELFSUP_DEBUG);
  if (e instanceof UsageError) {
    const cmd = e.command || command;
    io.stderr.write(`selfsup${cmd ? ` ${cmd}` : ''}: ${e.message}\nRun 'selfsup${cmd ? ` ${cmd}` : ''} --help' for the options.\n`);
    return 2;
  }
  const err = e as Error;
  const message = err instanceof SelfsupError ? err.message : `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`;
  io.stderr.write(`selfsup${command ? ` ${command}` : ''}: ${message}\n`);
  if (debug && err?.stack) io.stderr.write(`${err.stack}\n`);
  else if (!(err instanceof SelfsupError)) io.stderr.write('(set SELFSUP_DEBUG=1 to see where it happened)\n');
  return 1;
}
