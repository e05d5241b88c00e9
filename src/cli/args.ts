// Shared argument handling for the CLI commands: parseArgs with the help/usage errors
// every command reports the same way.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CodedError } from '../errors.ts';
import { GREEDY, type SamplingParams } from '../engine/types.ts';

export class UsageError extends CodedError<'CLI_ERR_USAGE'> {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super('CLI_ERR_USAGE', message);
  }
}

/** A failure the user can act on (a busy port, no server at a URL), with a stable code; main prints it without a stack. */
export class CliError extends CodedError {
  override readonly name = 'CliError';
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

/** A seed option: an integer in 0..2^32-1, or undefined when absent. */
export function seedOption(values: Record<string, unknown>, name: string): number | undefined {
  if (values[name] === undefined) return undefined;
  const n = intOption(values, name, 0);
  if (n < 0 || n > 0xffffffff) throw new UsageError(`--${name} must be in 0..${0xffffffff}`);
  return n;
}

/** The sampling flags the streaming commands share (`--greedy`, or any of the four fields). */
export const SAMPLING_OPTIONS = {
  greedy: { type: 'boolean' },
  'text-temperature': { type: 'string' },
  'text-topk': { type: 'string' },
  'audio-temperature': { type: 'string' },
  'audio-topk': { type: 'string' },
} as const satisfies Options;

export const SAMPLING_HELP = [
  '  --greedy        temperature 0 (argmax) for text and audio',
  '  --text-temperature T, --audio-temperature T',
  '                  sampling temperature (0..10; 0 is argmax; default: the server\'s)',
  '  --text-topk K, --audio-topk K',
  '                  top-k sampling (an integer >= 1; default: the server\'s)',
];

/** `--greedy` or the fields given (the server's defaults for the rest); undefined when none. */
export function samplingOption(values: Record<string, unknown>): Partial<SamplingParams> | undefined {
  const fields: [string, keyof SamplingParams, 'temperature' | 'topk'][] = [
    ['text-temperature', 'textTemperature', 'temperature'], ['text-topk', 'textTopK', 'topk'],
    ['audio-temperature', 'audioTemperature', 'temperature'], ['audio-topk', 'audioTopK', 'topk'],
  ];
  const given = fields.filter(([name]) => values[name] !== undefined);
  if (values.greedy) {
    if (given.length) throw new UsageError(`--greedy and --${given[0]![0]} exclude each other`);
    return GREEDY;
  }
  if (!given.length) return undefined;
  const out: Partial<Record<keyof SamplingParams, number>> = {};
  for (const [name, key, kind] of given) {
    const n = Number(values[name]);
    if (kind === 'topk' && !(Number.isInteger(n) && n >= 1)) throw new UsageError(`--${name} must be an integer >= 1 (got ${String(values[name])})`);
    if (kind === 'temperature' && !(n >= 0 && n <= 10)) throw new UsageError(`--${name} must be a number in 0..10 (got ${String(values[name])})`);
    out[key] = n;
  }
  return out;
}
