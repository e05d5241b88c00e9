// Shared argument handling for the CLI commands: parseArgs with the help/usage errors
// every command reports the same way.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  readonly code = 'CLI_ERR_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure the user can act on (a busy port, no server at a URL), with a stable code; main prints it without a stack. */
export class CliError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
  }
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs, strict, with `--help`/`-h` always accepted; unknown flags become UsageErrors. */
export function parseCommandArgs<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function requireOption(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

export function intOption(values: Record<string, unknown>, name: string, fallback: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer (got ${String(v)})`);
  return n;
}

/** A duration option in seconds (> 0), or Infinity when absent. */
export function secondsOption(values: Record<string, unknown>, name: string): number {
  const v = values[name];
  if (v === undefined) return Infinity;
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number > 0 (seconds; got ${String(v)})`);
  return n;
}

/** A command: its one-line summary, its --help text, and what it does. Returns the exit code. */
export interface Command {
  readonly summary: string;
  readonly help: string;
  run(argv: string[]): Promise<number>;
}
