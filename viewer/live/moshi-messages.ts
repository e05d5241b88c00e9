// The Moshi protocol's parts that are plain data, for the page (pure, tested under Node):
// the /api/chat URL with the page's options in its query string, the "CODE: message" text
// of an error (0x05), and what a metadata message (0x04) says about the session.
import type { LinkStart, SessionInfo } from './link.ts';
import { asServerMessage, type ServerMessage } from './messages.ts';

export const MOSHI_PATH = '/api/chat';

/**
 * `server` (ws://host:port/, any path other than / kept as given, its query, e.g. token=,
 * kept) with the session options as Kyutai's client and SolaceLive's server read them: one
 * seed for both streams, greedy as temperature 0 / top-k 1, record=1 (SolaceLive only).
 * 'default' sampling sends nothing: the server's own defaults apply.
 */
export function moshiChatUrl(server: string, start: LinkStart): string {
  const u = new URL(server);
  if (u.pathname === '/' || u.pathname === '') u.pathname = MOSHI_PATH;
  const q = u.searchParams;
  if (start.seed !== null) {
    q.set('text_seed', String(start.seed));
    q.set('audio_seed', String(start.seed));
  }
  if (start.sampling === 'greedy') {
    q.set('text_temperature', '0');
    q.set('text_topk', '1');
    q.set('audio_temperature', '0');
    q.set('audio_topk', '1');
  }
  if (start.record) q.set('record', '1');
  return u.href;
}

/** SolaceLive sends errors as "CODE: message"; another server's free text gets code SERVER_ERROR. */
export function parseMoshiError(text: string): { code: string; message: string } {
  const m = /^([A-Z][A-Z0-9_]*): ([\s\S]*)$/.exec(text);
  return m ? { code: m[1]!, message: m[2]! } : { code: 'SERVER_ERROR', message: text };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The session as the metadata before the handshake describes it. SolaceLive's carries its
 * ready message under `solacelive`; an upstream server names only its model file (no id,
 * seed or recording).
 */
export function sessionFromMetadata(metadata: readonly unknown[], start: LinkStart): SessionInfo {
  for (const m of metadata) {
    if (!isRecord(m)) continue;
    const ready = asServerMessage(m.solacelive);
    if (ready?.type === 'ready') return { id: ready.session, model: ready.model, untrained: ready.untrained, seed: ready.seed, record: ready.record };
  }
  const named = metadata.find((m) => isRecord(m) && typeof m.lm_model_file === 'string') as { lm_model_file: string } | undefined;
  return { id: null, model: named?.lm_model_file ?? 'unknown (the server did not say)', untrained: false, seed: start.seed, record: false };
}

/**
 * A session message inside a later metadata message: SolaceLive resends its whole metadata
 * with `solacelive.recording` (Kyutai's client checks every metadata message against its full
 * schema), or a bare message; null for anything else.
 */
export function messageFromMetadata(json: unknown): ServerMessage | null {
  if (isRecord(json) && isRecord(json.solacelive)) {
    const rec = asServerMessage(json.solacelive.recording);
    if (rec) return rec;
  }
  const m = asServerMessage(json);
  return m && m.type !== 'ready' ? m : null;
}
