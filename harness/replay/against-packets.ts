// `replay --paced --against URL` for a session SolaceLive recorded on its packet protocol:
// the recorded client frames go to the packet server at URL at their recorded times, with the
// recorded seed and sampling. Timing by step, the packet protocol's own pairing (the server
// answers step k with one AUDIO_CHUNK, or a `gap` for a step without audio): lag of each
// answered step (reply arrival − frame sent), its growth, stalls, missing replies — the same
// function over the recording's packets and over the replayed connection. Verdict as on the
// Moshi protocol: the server's audio and text packets against the recorded ones.
import { connect } from '../../src/client/connect.ts';
import type { SessionResult } from '../../src/client/client.ts';
import { decodeMessageSafe } from '../../src/protocol/index.ts';
import { asServerMessage, type ReadyMessage } from '../../src/server/messages.ts';
import type { SessionReader } from '../format/node.ts';
import { growthOf, percentiles, METER_DEFAULTS } from '../measure/index.ts';
import { satisfies } from '../compare.ts';
import { fingerprintDiffs } from '../replayer.ts';
import type { TimingFigures, WireVerdict } from './against.ts';

interface TimedMessage {
  readonly side: 'client' | 'server';
  readonly t: number;
  readonly bytes: Uint8Array;
}

/** Timing of a packet-protocol connection from its messages both ways (times in ms from any origin). */
export function packetTiming(msgs: readonly TimedMessage[]): TimingFigures {
  const sentAt: number[] = [];
  const audioAt: number[] = [];
  const gaps = new Set<number>();
  const replaced = new Set<number>();
  let text = 0;
  for (const m of msgs) {
    for (const p of decodeMessageSafe(m.bytes).packets) {
      if (p.type === 'AUDIO_CHUNK') (m.side === 'client' ? sentAt : audioAt).push(m.t);
      else if (m.side === 'server' && p.type === 'TEXT_PARTIAL') text++;
      else if (m.side === 'server' && p.type === 'METADATA') {
        const s = asServerMessage(p.data);
        if (s?.type === 'gap') gaps.add(s.step);
        else if (s?.type === 'events' && s.events.some((e) => e.kind === 'missing-frame')) replaced.add(s.step);
      }
    }
  }
  // Audio packets in arrival order answer the steps without a gap, in order (src/client/latency.ts).
  const series: [number, number][] = [];
  let step = 0;
  for (const at of audioAt) {
    while (gaps.has(step)) step++;
    const sent = sentAt[step];
    if (sent !== undefined && !replaced.has(step)) series.push([at - (sentAt[0] ?? 0), at - sent]);
    step++;
  }
  const lags = series.map((s) => s[1]);
  const stalls = audioAt.slice(1).filter((t, i) => t - audioAt[i]! > METER_DEFAULTS.stallMs).length;
  const first = audioAt[0] !== undefined && sentAt[0] !== undefined ? audioAt[0] - sentAt[0] : null;
  return {
    lag: { ...percentiles(lags), ...growthOf(series, METER_DEFAULTS.growthMinMs) },
    stalls: { count: stalls },
    clientTimeouts: { count: 0 },
    firstAudioMs: first,
    client: { audioFrames: sentAt.length },
    server: { audioFrames: audioAt.length },
    missing: { count: Math.max(0, sentAt.length - audioAt.length - gaps.size) },
    text: { count: text },
    end: null,
  };
}

/** The server's replies that must not depend on timing: audio samples and text packets, in order. */
function packetReplies(msgs: readonly Uint8Array[]): { audio: string[]; text: string[] } {
  const audio: string[] = [];
  const text: string[] = [];
  for (const b of msgs) {
    for (const p of decodeMessageSafe(b).packets) {
      if (p.type === 'AUDIO_CHUNK') audio.push(Buffer.from(p.samples.buffer, p.samples.byteOffset, p.samples.byteLength).toString('hex'));
      else if (p.type === 'TEXT_PARTIAL' || p.type === 'TEXT_FINAL') text.push(p.text);
    }
  }
  return { audio, text };
}

export function packetVerdict(recorded: readonly Uint8Array[], replayed: readonly Uint8Array[]): Pick<WireVerdict, 'kind' | 'verdict'> {
  const a = packetReplies(recorded);
  const b = packetReplies(replayed);
  const firstDiff = (x: readonly string[], y: readonly string[]) => {
    for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) return i;
    return -1;
  };
  const t = firstDiff(a.text, b.text);
  if (t >= 0) return { kind: 'diverged', verdict: `diverged at text packet ${t} (${a.text.length} vs ${b.text.length} text packets)` };
  const au = firstDiff(a.audio, b.audio);
  if (au >= 0) return { kind: 'token-exact', verdict: `token-exact (${a.text.length} text packets equal; audio differs from reply ${au}, ${a.audio.length} vs ${b.audio.length} audio packets)` };
  return { kind: 'bit-exact', verdict: `bit-exact (${a.text.length} text packets and ${a.audio.length} audio packets identical)` };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

export interface PacketAgainst {
  readonly recorded: TimingFigures;
  readonly replayed: TimingFigures;
  readonly verdict: WireVerdict | null;
  readonly noVerdict: string | null;
  readonly messagesSent: number;
  readonly client: SessionResult;
  readonly complete: boolean;
}

/** The packet-protocol half of pacedAgainst (the reader is verified and on the packet wire). */
export async function packetAgainst(reader: SessionReader, url: string, expect: 'bit-exact' | 'token-exact' | undefined): Promise<PacketAgainst> {
  const m = reader.manifest;
  const recordedMsgs: TimedMessage[] = [];
  const frames: { t: number; pcm: Float32Array }[] = [];
  for await (const rec of reader.packets()) {
    recordedMsgs.push({ side: rec.direction === 0 ? 'client' : 'server', t: rec.timeMs, bytes: rec.bytes });
    if (rec.direction === 0) for (const p of decodeMessageSafe(rec.bytes).packets) if (p.type === 'AUDIO_CHUNK') frames.push({ t: rec.timeMs, pcm: p.samples });
  }
  const live: TimedMessage[] = [];
  const c = await connect(url, {
    seed: m.seed, sampling: m.sampling, pace: m.meta.pace === 'fast' ? 'fast' : 'realtime',
    onInbound: (b, t) => live.push({ side: 'server', t, bytes: Buffer.from(b) }),
    onOutbound: (b, t) => live.push({ side: 'client', t, bytes: Buffer.from(b) }),
  });
  const start = performance.now();
  const first = frames[0]?.t ?? 0;
  let sent = 0;
  for (const f of frames) {
    await sleep(start + (f.t - first) - performance.now());
    if (!c.isOpen) break;
    c.sendFrame(f.pcm);
    sent++;
  }
  const client = await c.end();
  const replayed = packetTiming(live);
  const ready: ReadyMessage = c.ready;
  let verdict: WireVerdict | null = null;
  let noVerdict: string | null = null;
  if (ready.model !== m.model.id || JSON.stringify(ready.weightsSha256) !== JSON.stringify(m.model.weights)) {
    noVerdict = `the server runs another model (recorded ${m.model.id}, server ${ready.model}${ready.model === m.model.id ? ', other weights' : ''}): timing only`;
  } else {
    const fp = fingerprintDiffs(m.platform, ready.fingerprint);
    const expected = expect ?? (fp.length ? 'token-exact' : 'bit-exact');
    const v = packetVerdict(recordedMsgs.filter((x) => x.side === 'server').map((x) => x.bytes), live.filter((x) => x.side === 'server').map((x) => x.bytes));
    verdict = { ...v, expected, fingerprintDiffs: fp, ok: satisfies(v.kind, expected) };
  }
  return {
    recorded: packetTiming(recordedMsgs), replayed: { ...replayed, end: { by: 'server', code: client.close.code, reason: client.close.reason } },
    verdict, noVerdict, messagesSent: sent, client, complete: client.ok && replayed.missing.count === 0,
  };
}
