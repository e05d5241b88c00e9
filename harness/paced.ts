// Paced replay: the recorded client's audio goes over a real WebSocket to a fresh server
// (loopback, free port, recorder on) at the recorded capture times, with the recorded seed
// and sampling; the new recording is then compared with the original step by step. Unlike
// the offline replay, the server decides late/missing frames anew, so this checks that the
// live path (cadence, queues, IPC) reproduces the session, not only the engine. A session
// recorded on the Moshi protocol is paced on it: its client's messages (Ogg Opus pages) go
// as recorded to /api/chat with the recorded query, so the server decodes them anew.
import { basename, dirname, resolve } from 'node:path';
import { connect } from '../src/client/connect.ts';
import type { SessionResult } from '../src/client/client.ts';
import { connectMoshi, moshiQuery, type MoshiResult } from '../src/client/moshi.ts';
import { decodeMessageSafe } from '../src/protocol/index.ts';
import { MOSHI_KINDS } from '../src/protocol/moshi/index.ts';
import type { Pace } from '../src/server/messages.ts';
import { inputFramingQuery } from '../src/server/moshi-query.ts';
import type { ServerOptions } from '../src/server/options.ts';
import { createServer } from '../src/server/server.ts';
import { diffSessions, type SessionDiff } from './diff.ts';
import { openSession, type SessionReader } from './format/node.ts';
import { Recorder } from './recorder.ts';
import { proxyMetaOf } from './format/index.ts';
import { ReplayError, replayEngine, type ReplayOptions } from './replayer.ts';
import { assertUndamaged, verifySession } from './verify.ts';

export interface PacedOptions extends ReplayOptions {
  /** The new session folder. */
  readonly out: string;
  /** Options of the server the session is paced into (its limits and timings). */
  readonly server?: ServerOptions;
}

export interface PacedReport {
  readonly session: string;
  readonly out: string;
  readonly diff: SessionDiff;
  /** The wire protocol the session was recorded (and is paced) on. */
  readonly protocol: 'solacelive' | 'moshi';
  readonly client: SessionResult | MoshiResult;
  /** Packets: audio frames sent; Moshi: client messages sent (as recorded). */
  readonly framesSent: number;
  readonly forced: boolean;
  readonly mismatches: readonly string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

export async function pacedReplay(path: string, o: PacedOptions): Promise<PacedReport> {
  const reader = await openSession(path, { salvage: o.salvage === true });
  const m = reader.manifest;
  const proxied = proxyMetaOf(m);
  if (proxied) throw new ReplayError('REPLAY_ERR_PROXIED', `${path} was recorded by \`solacelive proxy\` in front of ${proxied.upstream}: no local server runs its model; \`solacelive replay --paced --against URL\` sends its client side to the server at URL`);
  if (o.salvage !== true) assertUndamaged(path, await verifySession(reader));
  if (m.meta.wire === 'moshi') return pacedMoshi(path, reader, o);
  // What the client sent, when: every AUDIO_CHUNK in the client → server records.
  const frames: { t: number; pcm: Float32Array }[] = [];
  for await (const rec of reader.packets()) {
    if (rec.direction !== 0) continue;
    for (const p of decodeMessageSafe(rec.bytes).packets) if (p.type === 'AUDIO_CHUNK') frames.push({ t: rec.timeMs, pcm: p.samples });
  }
  const pace: Pace = m.meta.pace === 'fast' ? 'fast' : 'realtime';
  return pacedInto(path, m, o, 'solacelive', async (url) => {
    const c = await connect(url, { seed: m.seed, sampling: m.sampling, record: true, pace });
    if (pace === 'fast') return { client: await c.run(frames.map((f) => f.pcm)), framesSent: frames.length };
    await atRecordedTimes(frames, () => c.isOpen, (f) => c.sendFrame(f.pcm));
    return { client: await c.end(), framesSent: frames.length };
  });
}

/**
 * A Moshi-protocol session: the client's recorded messages, byte for byte, at their recorded
 * times, to /api/chat with the recorded query; the seeds and sampling are the manifest's
 * (what the session ran with: a seed the server drew is in no query).
 */
async function pacedMoshi(path: string, reader: SessionReader, o: PacedOptions): Promise<PacedReport> {
  const m = reader.manifest;
  const sent: { t: number; bytes: Uint8Array }[] = [];
  // Steps the original server answered with audio: its audio messages, less the one with OpusHead and OpusTags.
  let replies = -1;
  for await (const rec of reader.packets()) {
    if (rec.direction === 0) sent.push({ t: rec.timeMs, bytes: rec.bytes });
    else if (rec.bytes[0] === MOSHI_KINDS.audio) replies++;
  }
  const recorded = (m.meta.wireInfo as { query?: Record<string, string> } | undefined)?.query ?? {};
  // A session recorded before the encoder framing is cut as it was (pre-skip dropped), so its steps can match.
  const query = { ...recorded, ...moshiQuery({ seed: m.seed, audioSeed: m.audioSeed ?? m.seed, sampling: m.sampling, record: true }), ...inputFramingQuery(m.meta.wireInfo) };
  return pacedInto(path, m, o, 'moshi', async (url) => {
    const c = await connectMoshi(url, { query });
    await atRecordedTimes(sent, () => c.isOpen, (s) => c.sendRaw(s.bytes));
    await c.settle({ expectFrames: Math.max(0, replies) });
    return { client: c.result(), framesSent: sent.length };
  });
}

/** Sends each item at its recorded time (relative to the first), while the connection is open. */
async function atRecordedTimes<T extends { readonly t: number }>(items: readonly T[], open: () => boolean, send: (item: T) => void): Promise<void> {
  const t0 = performance.now();
  const first = items[0]?.t ?? 0;
  for (const it of items) {
    await sleep(t0 + (it.t - first) - performance.now());
    if (!open()) return;
    send(it);
  }
}

/**
 * What both protocols share: the recorded engine set-up, a loopback server that records the
 * new session into `o.out`, the client `drive` runs against it, then the diff with the original.
 */
async function pacedInto(
  path: string, m: SessionReader['manifest'], o: PacedOptions, protocol: PacedReport['protocol'],
  drive: (url: string) => Promise<{ client: PacedReport['client']; framesSent: number }>,
): Promise<PacedReport> {
  const { engine, own, mismatches } = await replayEngine(path, m, o);
  const out = resolve(o.out);
  try {
    const recorder = new Recorder({ dir: dirname(out), mode: 'requested', engineInfo: () => engine.info, name: () => basename(out), meta: { pacedReplayOf: path } });
    const server = createServer({ ...o.server, port: 0, host: '127.0.0.1' }, engine, recorder);
    const { url } = await server.start();
    let sent: { client: PacedReport['client']; framesSent: number };
    try {
      sent = await drive(url);
    } finally {
      await server.stop();
    }
    await recorder.closeAll();
    const diff = await diffSessions(path, out, o.context ?? 3, { salvage: o.salvage === true });
    return { session: path, out, protocol, diff, client: sent.client, framesSent: sent.framesSent, forced: mismatches.length > 0, mismatches };
  } finally {
    await own?.close();
  }
}
