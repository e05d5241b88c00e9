// `replay --paced --against URL` (packet-protocol sessions: against-packets.ts): a recorded Moshi-protocol session's client side (a session
// `solacelive proxy` recorded in front of any Moshi server, or one SolaceLive recorded on
// /api/chat) sent again, message for message, at the recorded pace, to a server that may be
// anything speaking Moshi. The connection is measured as the proxy measures one
// (harness/measure: lag p50/p99, growth, stalls, missing audio), and so is the recording
// (its packets through the same meter), side by side. When both servers are SolaceLive (their
// metadata carries the ready message), the replay asks for the recorded seeds and sampling,
// and the server's messages are compared with the recorded ones: every audio page and text
// piece identical is bit-exact, the same text with other audio token-exact, else diverged at
// the first differing text piece or reply. A model the server does not share gives timing only.
// The live connection's loop only stamps and sends: decoding and measuring run in the proxy's
// measuring worker (harness/proxy/measurer.ts), so a stamp never waits for a decode.
import type { ReadyMessage } from '../../src/server/messages.ts';
import type { SessionResult } from '../../src/client/client.ts';
import { connectMoshi, moshiQuery, type MoshiResult } from '../../src/client/moshi.ts';
import { loadLibopusNode } from '../../src/audio/opus/node.ts';
import { decodeMoshi, MOSHI_KINDS, type MoshiMessage } from '../../src/protocol/moshi/index.ts';
import { inputFramingQuery } from '../../src/server/moshi-query.ts';
import { satisfies } from '../compare.ts';
import { openSession, type SessionManifest, type SessionReader } from '../format/node.ts';
import { proxyMetaOf } from '../format/index.ts';
import { MoshiMeter, type ConnectionEvent, type ConnectionFigures, type Percentiles } from '../measure/index.ts';
import { PROXY_DEFAULTS } from '../proxy/index.ts';
import { Measurer } from '../proxy/measurer.ts';
import { fingerprintDiffs, ReplayError } from '../replayer.ts';
import { assertUndamaged, verifySession } from '../verify.ts';
import { packetAgainst } from './against-packets.ts';

export interface AgainstOptions {
  readonly salvage?: boolean;
  /** The verdict asked for (default: what the two servers' platform fingerprints allow). */
  readonly expect?: 'bit-exact' | 'token-exact';
  /** Longest wait for the server's last replies after the last message is sent (default 30 s). */
  readonly maxWaitMs?: number;
  /** TEST-ONLY: CPU the measuring worker burns per message (measuring made slow on purpose). */
  readonly testMeasureBurnMs?: number;
}

export interface WireVerdict {
  readonly kind: 'bit-exact' | 'token-exact' | 'diverged';
  /** "bit-exact", "token-exact (audio differs from reply N)", "diverged at text piece N: …". */
  readonly verdict: string;
  readonly expected: 'bit-exact' | 'token-exact';
  readonly fingerprintDiffs: readonly string[];
  readonly ok: boolean;
}

/** What both protocols' timing gives (ConnectionFigures on the Moshi protocol is one). */
export interface TimingFigures {
  readonly lag: Percentiles & { readonly slopeMsPerMin: number | null };
  readonly stalls: { readonly count: number };
  readonly clientTimeouts: { readonly count: number };
  readonly firstAudioMs: number | null;
  readonly client: { readonly audioFrames: number };
  readonly server: { readonly audioFrames: number };
  readonly missing: { readonly count: number };
  readonly text: { readonly count: number };
  readonly end: { readonly by: string; readonly code: number; readonly reason: string } | null;
  /** What the measuring saw happen (the Moshi protocol's figures; the packet protocol's timing has none). */
  readonly events?: readonly ConnectionEvent[];
}

export interface AgainstReport {
  readonly session: string;
  readonly url: string;
  /** The wire protocol the session was recorded (and is replayed) on. */
  readonly protocol: 'moshi' | 'solacelive';
  /** Where the recording was measured: the proxy, or the SolaceLive server that recorded it. */
  readonly recordedAt: 'proxy' | 'server';
  /** The query the replay connected with. */
  readonly query: Readonly<Record<string, string>>;
  readonly recorded: TimingFigures;
  readonly replayed: TimingFigures;
  /** The reply verdict, or null with why not (not SolaceLive, another model, no seed known). */
  readonly verdict: WireVerdict | null;
  readonly noVerdict: string | null;
  readonly messagesSent: number;
  readonly client: MoshiResult | SessionResult;
  /** The server answered every frame, and closed normally (measured to the end: the measuring worker kept up). */
  readonly complete: boolean;
  readonly ok: boolean;
}

interface Timed {
  readonly t: number;
  readonly bytes: Uint8Array;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** SolaceLive's ready message in a metadata message (null from other servers, or for other kinds). */
function readyOf(m: MoshiMessage): ReadyMessage | null {
  if (m.kind !== 'metadata') return null;
  const r = (m.json as { solacelive?: Partial<ReadyMessage> } | null)?.solacelive;
  return r && typeof r.session === 'string' && typeof r.seed === 'number' ? (r as ReadyMessage) : null;
}

function decodeSafe(bytes: Uint8Array): MoshiMessage | null {
  try {
    return decodeMoshi(bytes);
  } catch {
    return null;
  }
}

/** The server's replies that must not depend on timing: audio pages and text, in order. */
function replies(msgs: readonly Uint8Array[]): { audio: string[]; text: string[] } {
  const audio: string[] = [];
  const text: string[] = [];
  for (const b of msgs) {
    if (b[0] === MOSHI_KINDS.audio) audio.push(Buffer.from(b).toString('hex'));
    else if (b[0] === MOSHI_KINDS.text) {
      const m = decodeSafe(b);
      text.push(m?.kind === 'text' ? m.text : Buffer.from(b).toString('hex'));
    }
  }
  return { audio, text };
}

/** Recorded vs replayed server messages, as a verdict. */
export function wireVerdict(recorded: readonly Uint8Array[], replayed: readonly Uint8Array[]): Pick<WireVerdict, 'kind' | 'verdict'> {
  const a = replies(recorded);
  const b = replies(replayed);
  const firstDiff = (x: readonly string[], y: readonly string[]) => {
    for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) return i;
    return -1;
  };
  const t = firstDiff(a.text, b.text);
  if (t >= 0) {
    const show = (s: string | undefined) => (s === undefined ? '(none)' : JSON.stringify(s.slice(0, 40)));
    return { kind: 'diverged', verdict: `diverged at text piece ${t}: recorded ${show(a.text[t])}, replayed ${show(b.text[t])} (${a.text.length} vs ${b.text.length} pieces)` };
  }
  const au = firstDiff(a.audio, b.audio);
  if (au >= 0) return { kind: 'token-exact', verdict: `token-exact (${a.text.length} text pieces equal; audio differs from reply message ${au}, ${a.audio.length} vs ${b.audio.length} audio messages)` };
  return { kind: 'bit-exact', verdict: `bit-exact (${a.text.length} text pieces and ${a.audio.length} audio messages identical)` };
}

/** A recording's messages through a meter, as the proxy measured them live. */
async function recordedFigures(reader: SessionReader): Promise<{ figures: ConnectionFigures; sent: Timed[]; received: Timed[] }> {
  const meter = new MoshiMeter(await loadLibopusNode());
  const sent: Timed[] = [];
  const received: Timed[] = [];
  meter.upstreamOpen(0);
  for await (const rec of reader.packets()) {
    const side = rec.direction === 0 ? 'client' : 'server';
    (side === 'client' ? sent : received).push({ t: rec.timeMs, bytes: rec.bytes });
    meter.message(side, rec.bytes, true, rec.timeMs);
  }
  return { figures: meter.figures(), sent, received };
}

/** The query of the replay: as recorded, with the recorded SolaceLive session's seeds and sampling when known. */
function replayQuery(m: SessionManifest, ready: ReadyMessage | null): { query: Record<string, string>; seeded: boolean } {
  const proxied = proxyMetaOf(m);
  const recorded = proxied?.query ?? (m.meta.wireInfo as { query?: Record<string, string> } | undefined)?.query ?? {};
  const query: Record<string, string> = { ...recorded };
  // A proxy saw only the client's query: the seed a server drew is in its ready message.
  const s = ready ?? (proxied ? null : { seed: m.seed, audioSeed: m.audioSeed, sampling: m.sampling });
  if (!s) return { query, seeded: false };
  for (const [k, v] of Object.entries(moshiQuery({ seed: s.seed, audioSeed: s.audioSeed ?? s.seed, sampling: s.sampling }))) query[k] = String(v);
  // A SolaceLive session recorded before the encoder framing: cut its input as it was, so the verdict can hold (other servers ignore it).
  if (!proxied) Object.assign(query, inputFramingQuery(m.meta.wireInfo));
  delete query.record;
  return { query, seeded: true };
}

export async function pacedAgainst(path: string, url: string, o: AgainstOptions = {}): Promise<AgainstReport> {
  const reader = await openSession(path, { salvage: o.salvage === true });
  const m = reader.manifest;
  if (o.salvage !== true) assertUndamaged(path, await verifySession(reader, { libopus: loadLibopusNode }));
  if (m.meta.wire !== 'moshi') {
    const p = await packetAgainst(reader, url, o.expect).catch((e: Error & { code?: string }) => {
      throw e instanceof ReplayError ? e : new ReplayError('REPLAY_ERR_ENGINE', `--against ${url}: ${e.code ? `${e.code}: ` : ''}${e.message}`);
    });
    return { session: path, url, protocol: 'solacelive', recordedAt: 'server', query: {}, ...p, ok: p.complete && (p.verdict === null || p.verdict.ok) };
  }
  const rec = await recordedFigures(reader);
  const recordedReady = rec.received.map((r) => decodeSafe(r.bytes)).map((x) => (x ? readyOf(x) : null)).find((x) => x !== null) ?? null;
  const { query, seeded } = replayQuery(m, recordedReady);

  const measurer = await Measurer.start({
    lib: await loadLibopusNode(), maxBacklog: PROXY_DEFAULTS.maxMeasureBacklog, maxBacklogBytes: PROXY_DEFAULTS.maxMeasureBacklogBytes,
    hangMs: PROXY_DEFAULTS.measureHangMs,
    test: { testBurnMs: o.testMeasureBurnMs ?? 0, testCrashAt: 0, testHangAt: 0, testHangAtStart: false },
    log: (_id, line) => console.error(`replay --against: ${line}`),
  });
  try {
    return await liveAgainst(path, url, o, measurer, m, rec, recordedReady, query, seeded);
  } finally {
    await measurer.close();
  }
}

async function liveAgainst(
  path: string, url: string, o: AgainstOptions, measurer: Measurer, m: SessionManifest, rec: Awaited<ReturnType<typeof recordedFigures>>, recordedReady: ReadyMessage | null, query: Record<string, string>, seeded: boolean,
): Promise<AgainstReport> {
  const t0 = performance.now();
  const since = (t: number) => t - t0;
  const meter = await measurer.open('against', performance.timeOrigin + t0, {}, null);
  const inbound: Uint8Array[] = [];
  const client = await connectMoshi(url, {
    query,
    // Decoded by the measuring worker; the client only counts the reply audio.
    replyAudio: 'count',
    onInbound: (b, t) => {
      inbound.push(Buffer.from(b));
      meter.message('server', b, true, since(t));
    },
    onOutbound: (b, t) => meter.message('client', b, true, since(t)),
  }).catch(async (e: Error & { code?: string }) => {
    await meter.finish(url);
    throw new ReplayError('REPLAY_ERR_ENGINE', `--against ${url}: ${e.code ? `${e.code}: ` : ''}${e.message}`);
  });
  meter.upstreamOpen(0);
  // The recorded messages at their recorded times, relative to the first.
  const first = rec.sent[0]?.t ?? 0;
  const start = performance.now();
  let sent = 0;
  for (const s of rec.sent) {
    await sleep(start + (s.t - first) - performance.now());
    if (!client.isOpen) break;
    client.sendRaw(s.bytes);
    sent++;
  }
  const expectFrames = rec.figures.server.audioFrames;
  await client.settle({ expectFrames, maxWaitMs: o.maxWaitMs ?? 30_000 });
  const result = client.result();
  // settle() closes with 'client done' when the server had not closed first.
  meter.end(result.close.reason === 'client done' ? 'client' : 'server', result.close.code, result.close.reason, since(performance.now()));
  const replayed = (await meter.finish(url)).figures;

  let verdict: WireVerdict | null = null;
  let noVerdict: string | null = null;
  const liveReady = result.solacelive;
  if (!recordedReady && proxyMetaOf(m)) noVerdict = 'the recorded server did not say it was SolaceLive (no ready message in its metadata): timing only';
  else if (!liveReady) noVerdict = `${url} is not a SolaceLive server (no ready message in its metadata): timing only`;
  else if (!seeded) noVerdict = 'no seed known for the recorded session: timing only';
  else {
    const model = recordedReady ? { model: recordedReady.model, weights: recordedReady.weightsSha256, fingerprint: recordedReady.fingerprint } : { model: m.model.id, weights: m.model.weights, fingerprint: m.platform };
    if (model.model !== liveReady.model || JSON.stringify(model.weights) !== JSON.stringify(liveReady.weightsSha256)) {
      noVerdict = `the server runs another model (recorded ${model.model}, server ${liveReady.model}${model.model === liveReady.model ? ', other weights' : ''}): timing only`;
    } else {
      const fp = fingerprintDiffs(model.fingerprint, liveReady.fingerprint);
      const expected = o.expect ?? (fp.length ? 'token-exact' : 'bit-exact');
      const v = wireVerdict(rec.received.map((r) => r.bytes), inbound);
      verdict = { ...v, expected, fingerprintDiffs: fp, ok: satisfies(v.kind, expected) };
    }
  }
  // Measuring that stopped or failed (the measuring worker's events) leaves the timing incomplete.
  const complete = result.ok && replayed.missing.count === 0 && !replayed.events.some(unmeasured);
  return {
    session: path, url, protocol: 'moshi', recordedAt: proxyMetaOf(m) ? 'proxy' : 'server', query, recorded: rec.figures, replayed, verdict, noVerdict,
    messagesSent: sent, client: result, complete, ok: complete && (verdict === null || verdict.ok),
  };
}

const unmeasured = (e: ConnectionEvent): boolean => e.kind === 'measure-backlog' || e.kind === 'measure-worker-failed';

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${Math.round(v * 10) / 10} ms`);
const slope = (v: number | null) => (v === null ? '-' : `${v >= 0 ? '+' : ''}${v} ms/min`);

/** The side-by-side timing and the verdict, as `replay --paced --against` prints them. */
export function againstLines(r: AgainstReport): string[] {
  const a = r.recorded;
  const b = r.replayed;
  const row = (name: string, x: string, y: string) => `${name.padEnd(13)} ${x.padStart(16)}  ${y.padStart(16)}`;
  const lines = [
    `against  ${r.url} (${r.messagesSent} ${r.protocol === 'moshi' ? 'client messages' : 'frames'} sent at the recorded pace)`,
    row('timing', `recorded (${r.recordedAt})`, 'replayed'),
    row('lag p50', ms(a.lag.p50), ms(b.lag.p50)),
    row('lag p99', ms(a.lag.p99), ms(b.lag.p99)),
    row('lag max', ms(a.lag.max), ms(b.lag.max)),
    row('growth', slope(a.lag.slopeMsPerMin), slope(b.lag.slopeMsPerMin)),
    row('stalls', String(a.stalls.count), String(b.stalls.count)),
    row('timeouts', String(a.clientTimeouts.count), String(b.clientTimeouts.count)),
    row('first audio', ms(a.firstAudioMs), ms(b.firstAudioMs)),
    row('audio frames', String(a.server.audioFrames), String(b.server.audioFrames)),
    row('missing', String(a.missing.count), String(b.missing.count)),
    row('text pieces', String(a.text.count), String(b.text.count)),
    `closed   ${b.end ? `by ${b.end.by} (${b.end.code}${b.end.reason ? ` ${b.end.reason}` : ''})` : 'not closed'}${r.complete ? '' : (b.events ?? []).some(unmeasured) ? '; not measured to the end (below)' : '; the server did not answer every frame'}`,
    ...(b.events ?? []).filter(unmeasured).map((e) => `measured ${e.message}`),
  ];
  if (r.verdict) lines.push(`verdict  ${r.verdict.verdict}`, `expected ${r.verdict.expected} (${r.verdict.fingerprintDiffs.length ? `platform differs (${r.verdict.fingerprintDiffs.join('; ')})` : 'platform fingerprint matches'}): ${r.verdict.ok ? 'OK' : 'NOT MET'}`);
  else lines.push(`verdict  none: ${r.noVerdict}`);
  return lines;
}
