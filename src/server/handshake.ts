// The METADATA handshake, as pure functions: parse and check a client's start message
// (strictly: an unknown key is more likely a typo than an extension), and build the ready
// reply. Nothing here touches sockets or the engine.
import { createHash, randomInt } from 'node:crypto';
import { DEFAULT_SAMPLING, GREEDY, type EngineInfo, type SamplingParams, type SessionOptions } from '../engine/types.ts';
import { SESSION_PROTOCOL, type Pace, type ReadyMessage, type SessionLimits } from './messages.ts';

export interface StartRequest {
  /** null: the server picks one (and reports it in the reply). */
  readonly seed: number | null;
  /** The audio streams' own seed (Moshi protocol `audio_seed`); null or absent: `seed`. */
  readonly audioSeed?: number | null;
  readonly sampling: SamplingParams;
  readonly record: boolean;
  readonly pace: Pace;
}

export type StartResult = { readonly ok: true; readonly start: StartRequest } | { readonly ok: false; readonly message: string };

const START_KEYS = new Set(['type', 'protocol', 'seed', 'sampling', 'record', 'pace']);
const SAMPLING_KEYS: readonly (keyof SamplingParams)[] = ['textTemperature', 'textTopK', 'audioTemperature', 'audioTopK'];
/** Temperatures above this are noise; a bound keeps a typo (70 for 0.7) from passing. */
const MAX_TEMPERATURE = 10;
const MAX_SEED = 0xffffffff;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseSampling(v: unknown): SamplingParams | string {
  if (v === undefined || v === 'default') return DEFAULT_SAMPLING;
  if (v === 'greedy') return GREEDY;
  if (!isRecord(v)) return `sampling must be "greedy", "default" or an object with ${SAMPLING_KEYS.join(', ')}`;
  const out: Record<string, number> = { ...DEFAULT_SAMPLING };
  for (const [k, x] of Object.entries(v)) {
    if (!(SAMPLING_KEYS as readonly string[]).includes(k)) return `sampling.${k} is not a sampling parameter (expected ${SAMPLING_KEYS.join(', ')})`;
    if (k.endsWith('TopK')) {
      if (!Number.isInteger(x) || (x as number) < 1) return `sampling.${k} must be an integer >= 1, got ${JSON.stringify(x)}`;
    } else if (typeof x !== 'number' || !(x >= 0 && x <= MAX_TEMPERATURE)) {
      return `sampling.${k} must be a number in 0..${MAX_TEMPERATURE}, got ${JSON.stringify(x)}`;
    }
    out[k] = x as number;
  }
  return out as unknown as SamplingParams;
}

/** Checks a start message; the error text names the offending field. */
export function parseStart(data: unknown): StartResult {
  const fail = (message: string): StartResult => ({ ok: false, message });
  if (!isRecord(data) || data.type !== 'start') return fail('the first METADATA must be {"type":"start", ...}');
  for (const k of Object.keys(data)) if (!START_KEYS.has(k)) return fail(`unknown start field "${k}" (known: ${[...START_KEYS].join(', ')})`);
  if (data.protocol !== undefined && data.protocol !== SESSION_PROTOCOL) {
    return fail(`protocol ${JSON.stringify(data.protocol)} is not supported (this server speaks ${SESSION_PROTOCOL})`);
  }
  let seed: number | null = null;
  if (data.seed !== undefined && data.seed !== null) {
    if (!Number.isInteger(data.seed) || (data.seed as number) < 0 || (data.seed as number) > MAX_SEED) {
      return fail(`seed must be an integer in 0..${MAX_SEED}, got ${JSON.stringify(data.seed)}`);
    }
    seed = data.seed as number;
  }
  const sampling = parseSampling(data.sampling);
  if (typeof sampling === 'string') return fail(sampling);
  if (data.record !== undefined && typeof data.record !== 'boolean') return fail(`record must be true or false, got ${JSON.stringify(data.record)}`);
  const pace = data.pace ?? 'realtime';
  if (pace !== 'realtime' && pace !== 'fast') return fail(`pace must be "realtime" or "fast", got ${JSON.stringify(data.pace)}`);
  return { ok: true, start: { seed, sampling, record: data.record === true, pace } };
}

/** The engine's session options for a start request (a random seed when none was given). */
export function sessionOptions(start: StartRequest, random: () => number = () => randomInt(0, MAX_SEED)): SessionOptions {
  const seed = start.seed ?? random();
  return start.audioSeed === undefined || start.audioSeed === null || start.audioSeed === seed
    ? { seed, sampling: start.sampling }
    : { seed, audioSeed: start.audioSeed, sampling: start.sampling };
}

/** One short hex digest over every weight file's sha256, so two servers can be compared at a glance. */
export function weightsFingerprint(weightsSha256: Readonly<Record<string, string>>): string {
  const lines = Object.keys(weightsSha256).sort().map((k) => `${k}:${weightsSha256[k]}`);
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}

export function readyMessage(session: string, info: EngineInfo, options: SessionOptions, start: StartRequest, heartbeatMs: number, limits: SessionLimits): ReadyMessage {
  return {
    type: 'ready',
    protocol: SESSION_PROTOCOL,
    session,
    model: info.model,
    untrained: info.untrained,
    weights: weightsFingerprint(info.weightsSha256),
    weightsSha256: info.weightsSha256,
    fingerprint: info.fingerprint,
    seed: options.seed,
    ...(options.audioSeed === undefined ? {} : { audioSeed: options.audioSeed }),
    sampling: options.sampling,
    record: start.record,
    pace: start.pace,
    sampleRate: info.sampleRate,
    frameSamples: info.frameSamples,
    heartbeatMs,
    limits,
  };
}
