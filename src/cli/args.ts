/**
 * Command-line parsing for `selfsup`: node:util's parseArgs in strict mode,
 * with every failure turned into a {@link UsageError} that names the flag
 * (exit code 2, no stack trace).
 */
import { parseArgs } from 'node:util';

/** A mistake on the command line: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose --help to point to (`pretrain`, `embed`, or '' for selfsup). */
    readonly command = '',
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A flag of a command: its type, help text and default shown in --help. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  /** The value's placeholder in --help (`DIR`, `N`). */
  value?: string;
  help: string;
  /** The default, as shown in --help. */
  shown?: string;
  short?: string;
}

export type Flags = Record<string, FlagSpec>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `argv` against `flags` (plus `--help`). Unknown flags, a missing
 * value, a value given to a switch and stray positionals are usage errors
 * that name the flag.
 */
export function parseFlags(command: string, argv: readonly string[], flags: Flags, maxPositionals = 0): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(flags)) options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}) };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(describeParseError(e as Error & { code?: string }, argv, flags), command);
  }
  const positionals = parsed.positionals;
  if (positionals.length > maxPositionals) {
    const stray = positionals[maxPositionals]!;
    throw new UsageError(`unexpected argument '${stray}'${stray.startsWith('-') ? '' : ' (flags start with --, e.g. --data DIR)'}`, command);
  }
  return { values: parsed.values as Parsed['values'], positionals };
}

function describeParseError(e: Error & { code?: string }, argv: readonly string[], flags: Flags): string {
  const flag = /'(-[^'\s]+)/.exec(e.message)?.[1]?.split('=')[0];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const name = flag ?? '?';
      const close = Object.keys(flags).find((f) => editDistance(`--${f}`, name) <= 2);
      return `unknown flag ${name}${close ? ` (did you mean --${close}?)` : ''}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = flag ?? '?';
      const spec = flags[name.replace(/^--?/, '')];
      if (spec?.type === 'string') return `flag ${name} needs a value (${name} ${spec.value ?? 'VALUE'})`;
      return `flag ${name} takes no value`;
    }
    default:
      return `${e.message} (arguments: ${argv.join(' ')})`;
  }
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

/** A required string flag. */
export function requireString(parsed: Parsed, name: string, command: string, what: string): string {
  const v = parsed.values[name];
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`missing --${name} ${what}`, command);
  return v;
}

/** An optional integer flag within [min, max]: `--steps abc` names the flag and the value. */
export function integerFlag(parsed: Parsed, name: string, command: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = parsed.values[name];
  if (v === undefined) return undefined;
  const text = String(v);
  if (!/^[+-]?\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`--${name} expects an integer, got '${text}'`, command);
  }
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`--${name} must be ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `between ${min} and ${max}`}, got ${n}`, command);
  return n;
}

/** An optional flag taking one of `choices`. */
export function choiceFlag<T extends string>(parsed: Parsed, name: string, command: string, choices: readonly T[]): T | undefined {
  const v = parsed.values[name];
  if (v === undefined) return undefined;
  if (!choices.includes(v as T)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${String(v)}'`, command);
  return v as T;
}

/** The --help text of a command: usage line, description, then one line per flag. */
export function helpText(usage: string, description: string, flags: Flags, footer = ''): string {
  const rows = Object.entries(flags).map(([name, spec]) => {
    const left = `  ${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`;
    return [left, `${spec.help}${spec.shown !== undefined ? ` (default: ${spec.shown})` : ''}`] as const;
  });
  rows.push(['  -h, --help', 'show this help'] as const);
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  const lines = rows.map(([l, r]) => `${l.padEnd(width)}${r}`);
  return `Usage: ${usage}\n\n${description}\n\nOptions:\n${lines.join('\n')}\n${footer ? `\n${footer}\n` : ''}`;
}
