// The query string of GET /api/chat (Kyutai's web client and servers): sampling and seeds,
// each checked (a bad value is an error, not a silent default). Every other parameter —
// upstream options we do not implement (pad_mult, repetition_penalty…) and unknown ones, a
// typo included — is recorded and listed as ignored in the metadata the client gets, since
// clients add parameters of their own. Credentials are never recorded. SolaceLive's own:
// record=1, and input_framing (how the client's audio is cut into frames; replaying a session
// recorded before the encoder framing asks for its old 'decoded' framing).
import { INPUT_FRAMING, INPUT_FRAMINGS, recordedInputFraming, type InputFraming } from '../audio/opus/input-frames.ts';
import { DEFAULT_SAMPLING, type SamplingParams } from '../engine/types.ts';
import type { StartRequest } from './handshake.ts';

/** Parameters we read and apply. */
const APPLIED = new Set(['text_temperature', 'text_topk', 'audio_temperature', 'audio_topk', 'text_seed', 'audio_seed', 'record', 'input_framing']);
/** Credentials and personal data: checked or dropped, never recorded. */
const SECRET = new Set(['token', 'worker_auth_id', 'email']);

export interface MoshiQuery {
  readonly start: StartRequest;
  /** Every parameter as sent, credentials left out, for the session's manifest. */
  readonly params: Readonly<Record<string, string>>;
  /** Parameters given whose effect is not implemented here (upstream ones such as pad_mult, and unknown ones). */
  readonly ignored: readonly string[];
  /** How the client's Ogg Opus is cut into input frames (src/audio/opus/input-frames.ts). */
  readonly inputFraming: InputFraming;
}

export type MoshiQueryResult = { readonly ok: true; readonly query: MoshiQuery } | { readonly ok: false; readonly message: string };

const MAX_TEMPERATURE = 10;
const MAX_SEED = 0xffffffff;

function num(params: URLSearchParams, name: string): number | undefined | string {
  const v = params.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : `${name} must be a number, got ${JSON.stringify(v)}`;
}

/** Parses `?text_temperature=…&…`; the message names the bad parameter. */
export function parseMoshiQuery(search: string): MoshiQueryResult {
  const params = new URLSearchParams(search);
  const fail = (message: string): MoshiQueryResult => ({ ok: false, message });
  // get() reads the first of a repeated name and the record would keep the last: refuse rather than disagree.
  for (const k of new Set(params.keys())) {
    const n = params.getAll(k).length;
    if (n > 1) return fail(`${k} is given ${n} times; give it once`);
  }
  const sampling: Record<keyof SamplingParams, number> = { ...DEFAULT_SAMPLING };
  const fields: [string, keyof SamplingParams, 'temperature' | 'topk'][] = [
    ['text_temperature', 'textTemperature', 'temperature'], ['text_topk', 'textTopK', 'topk'],
    ['audio_temperature', 'audioTemperature', 'temperature'], ['audio_topk', 'audioTopK', 'topk'],
  ];
  for (const [name, key, kind] of fields) {
    const v = num(params, name);
    if (typeof v === 'string') return fail(v);
    if (v === undefined) continue;
    if (kind === 'topk' && (!Number.isInteger(v) || v < 1)) return fail(`${name} must be an integer >= 1, got ${v}`);
    if (kind === 'temperature' && !(v >= 0 && v <= MAX_TEMPERATURE)) return fail(`${name} must be a number in 0..${MAX_TEMPERATURE}, got ${v}`);
    sampling[key] = v;
  }
  const seeds: Record<string, number | null> = {};
  for (const name of ['text_seed', 'audio_seed']) {
    const v = num(params, name);
    if (typeof v === 'string') return fail(v);
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > MAX_SEED)) return fail(`${name} must be an integer in 0..${MAX_SEED}, got ${v}`);
    seeds[name] = v ?? null;
  }
  const framing = params.get('input_framing');
  const inputFraming = framing === null ? INPUT_FRAMING : INPUT_FRAMINGS.find((f) => f === framing);
  if (inputFraming === undefined) return fail(`input_framing must be one of ${INPUT_FRAMINGS.join(', ')}, got ${JSON.stringify(framing)}`);
  const all: Record<string, string> = {};
  for (const [k, v] of params) if (!SECRET.has(k)) all[k] = v;
  const ignored = Object.keys(all).filter((k) => !APPLIED.has(k));
  return {
    ok: true,
    query: {
      start: { seed: seeds.text_seed ?? null, audioSeed: seeds.audio_seed ?? null, sampling, record: params.get('record') === '1', pace: 'realtime' },
      params: all,
      ignored,
      inputFraming,
    },
  };
}

/**
 * The query a replay adds to ask a SolaceLive server for the framing a recorded session was cut
 * with (its manifest's wireInfo; none recorded: the old 'decoded'); nothing for today's.
 */
export function inputFramingQuery(wireInfo: unknown): Record<string, string> {
  const framing = recordedInputFraming(wireInfo);
  return framing === null || framing === INPUT_FRAMING ? {} : { input_framing: framing };
}
