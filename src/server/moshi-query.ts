// The query string of GET /api/chat (Kyutai's web client and servers): sampling, seeds and
// the options upstream servers read, checked strictly enough that a typo is an error, not
// a silent default. Every parameter we do not act on is recorded and said to be ignored;
// the token (Kyutai's client can only send it in the query) is never recorded.
import { DEFAULT_SAMPLING, type SamplingParams } from '../engine/types.ts';
import type { StartRequest } from './handshake.ts';

/** Parameters acted on here. */
const READ = new Set(['text_temperature', 'text_topk', 'audio_temperature', 'audio_topk', 'text_seed', 'audio_seed', 'record']);
/** The server's token (auth.ts reads it): a secret, so kept out of the record that sessions carry to whoever they are shared with. */
const CREDENTIALS = new Set(['worker_auth_id', 'token']);
/** Sent by Kyutai's client about the user, not the session: recorded, not listed as ignored. */
const NOT_OPTIONS = new Set(['email']);

export interface MoshiQuery {
  readonly start: StartRequest;
  /** Every parameter as sent, for the session's manifest, except the token. */
  readonly params: Readonly<Record<string, string>>;
  /** Parameters given that nothing here acts on (upstream options we do not implement, misspelt names…), in query order. */
  readonly ignored: readonly string[];
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
  const all: Record<string, string> = {};
  const ignored: string[] = [];
  for (const [k, v] of params) {
    if (CREDENTIALS.has(k)) continue;
    all[k] = v;
    if (!READ.has(k) && !NOT_OPTIONS.has(k)) ignored.push(k);
  }
  return {
    ok: true,
    query: {
      start: { seed: seeds.text_seed ?? null, audioSeed: seeds.audio_seed ?? null, sampling, record: params.get('record') === '1', pace: 'realtime' },
      params: all,
      ignored,
    },
  };
}
