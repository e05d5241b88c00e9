// A Moshi-protocol session end to end: the real createServer and tiny engine over loopback,
// raw `ws` clients (and the Node Moshi client for the recording). The handshake order Kyutai's
// client relies on, one reply per stepped frame after the warm-up, the query setting seeds and
// sampling, the server's Origin/Host/token rules on /api/chat, pings inside the client's
// 10 s timeout, and a recorded session that verifies and replays as its fingerprints allow.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openSession } from '../../../harness/format/node.ts';
import { Recorder } from '../../../harness/recorder.ts';
import { fingerprintDiffs, replaySession } from '../../../harness/replayer.ts';
import { verifySession } from '../../../harness/verify.ts';
import { measureOggPage, OGG_MAX_PAGE_BYTES, readOggPageHeader } from '../../../src/audio/ogg/index.ts';
import { describeLibopus, parseOpusHead, type Libopus } from '../../../src/audio/opus/index.ts';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';
import { connectMoshi } from '../../../src/client/moshi.ts';
import type { FinishedStep } from '../../../src/engine/step-record.ts';
import type { EnginePort } from '../../../src/server/engine-port.ts';
import type { SessionHooks } from '../../../src/server/hooks.ts';
import type { ServerOptions } from '../../../src/server/options.ts';
import { createServer, type SolaceServer } from '../../../src/server/server.ts';
import { startEngine } from '../live/engine.ts';
import { ClientStream, decodeFrames, decodeReply, MoshiPeer, signal } from './peer.ts';

let engine: EnginePort;
let lib: Libopus;
const servers: SolaceServer[] = [];
const peers: MoshiPeer[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'solacelive-moshi-session-'));
const steps = new Map<string, { step: number; real: boolean; pcm: Float32Array; audio: boolean }[]>();
const hooks: SessionHooks = {
  onStepFinished: (id: string, f: FinishedStep) => {
    steps.set(id, [...(steps.get(id) ?? []), { step: f.step, real: !f.events.some((e) => e.kind === 'missing-frame'), pcm: f.inputPcm, audio: f.pcm !== null }]);
  },
};

beforeAll(async () => {
  [engine, lib] = await Promise.all([startEngine(), loadLibopusNode()]);
}, 120_000);
afterEach(async () => {
  for (const p of peers.splice(0)) p.ws.terminate();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});
afterAll(async () => {
  await engine?.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function serve(options: ServerOptions = {}, h: SessionHooks = hooks): Promise<string> {
  const server = createServer({ port: 0, ...options }, engine, h);
  servers.push(server);
  return `${(await server.start()).url}/api/chat`;
}

function peer(url: string, headers: Record<string, string> = {}): MoshiPeer {
  const p = new MoshiPeer(url, headers);
  peers.push(p);
  return p;
}

describe('a Moshi session on /api/chat', () => {
  it('sends metadata, then the handshake, then the OpusHead and OpusTags pages, before anything else', async () => {
    const p = peer(await serve());
    await p.started();
    expect(p.kinds().slice(0, 3)).toEqual(['metadata', 'handshake', 'audio']);
    const meta = p.received[0]!.message as { kind: 'metadata'; json: Record<string, unknown> };
    // Kyutai's client reads these ServerInfo fields; ours ride along under `solacelive`.
    for (const k of ['text_temperature', 'text_topk', 'audio_temperature', 'audio_topk', 'pad_mult', 'repetition_penalty_context', 'repetition_penalty', 'lm_model_file', 'instance_name', 'build_info']) {
      expect(meta.json, k).toHaveProperty(k);
    }
    expect(p.ready()).toMatchObject({ type: 'ready', model: engine.info!.model });
    // The header message: OpusHead as a BOS page, sequence 0, one segment; OpusTags at sequence 1.
    const head = p.audio()[0]!;
    const page = (at: number) => readOggPageHeader(head, at, measureOggPage(head, at, head.length - at, at, OGG_MAX_PAGE_BYTES).need, at);
    const h0 = page(0);
    expect([h0.bos, h0.sequence, h0.segments]).toEqual([true, 0, 1]);
    expect(parseOpusHead(head.subarray(28, 28 + head[27]!)).channels).toBe(1);
    const h1 = page(h0.pageBytes);
    expect([h1.bos, h1.sequence]).toEqual([false, 1]);
    expect(h0.pageBytes + h1.pageBytes).toBe(head.length);
  });

  it('answers every frame with one audio message after the warm-up: reply audio = frames − warm-up steps', async () => {
    const p = peer(await serve());
    await p.started();
    const id = String(p.ready()!.session);
    const stream = new ClientStream(lib);
    const pages = [...stream.headers(), ...stream.frames(signal(12, 3))];
    const frames = decodeFrames(lib, pages);
    p.sendAudio(pages);
    await p.until(() => (steps.get(id) ?? []).filter((s) => s.real).length >= frames.length, 30_000, 'all frames stepped');
    const real = steps.get(id)!.slice(0, frames.length);
    expect(real.every((s) => s.real)).toBe(true);
    real.forEach((s, k) => expect(s.pcm).toEqual(frames[k]));
    // The warm-up is the first steps, and only those, without audio (derived from the engine, not pinned).
    const warmup = real.findIndex((s) => s.audio);
    expect(warmup).toBeGreaterThanOrEqual(0);
    expect(real.slice(warmup).every((s) => s.audio)).toBe(true);
    await p.until((x) => x.replySteps() >= frames.length - warmup, 30_000, 'the replies');
    // Silence steps may follow (real-time pace) once the client is quiet: count the replies to the client's frames.
    const replies = p.audio().slice(0, 1 + frames.length - warmup);
    expect(decodeReply(lib, replies)).toBe((frames.length - warmup) * 1920);
    expect(p.errors()).toEqual([]);
  });

  it('keeps audio sent before the handshake: those frames are stepped and answered', async () => {
    const url = await serve();
    const p = peer(url);
    const stream = new ClientStream(lib);
    const pages = [...stream.headers(), ...stream.frames(signal(6, 4))];
    const frames = decodeFrames(lib, pages);
    await p.opened;
    p.sendAudio(pages); // no waiting for 0x00: a client may start its microphone early
    await p.started();
    const id = String(p.ready()!.session);
    await p.until(() => (steps.get(id) ?? []).filter((s) => s.real).length >= frames.length, 30_000, `${frames.length} frames stepped`);
    const real = steps.get(id)!.filter((s) => s.real);
    expect(real).toHaveLength(frames.length);
    real.forEach((s, k) => expect(s.pcm).toEqual(frames[k]));
    expect(p.errors()).toEqual([]);
  });

  it('takes seeds and sampling from the query; a missing seed is drawn', async () => {
    const url = await serve();
    const p = peer(`${url}?text_temperature=0.5&text_topk=10&audio_temperature=0.6&audio_topk=20&text_seed=77&audio_seed=88&pad_mult=1`);
    await p.started();
    expect(p.ready()).toMatchObject({
      seed: 77, audioSeed: 88, sampling: { textTemperature: 0.5, textTopK: 10, audioTemperature: 0.6, audioTopK: 20 }, ignoredParams: ['pad_mult'],
    });
    const q = peer(url);
    await q.started();
    expect(Number.isInteger(q.ready()!.seed)).toBe(true);
  });

  it('refuses a bad query with a 0x05 error naming the parameter, then close 1008', async () => {
    const p = peer(`${await serve()}?text_topk=ten`);
    const close = await p.closeWithin(10_000);
    expect(close.code).toBe(1008);
    expect(p.errors()).toEqual([expect.stringMatching(/^BAD_HANDSHAKE: .*text_topk must be a number, got "ten"/)]);
    expect(p.kinds()).not.toContain('handshake');
  });
});

describe('the server\'s rules on /api/chat', () => {
  it('lets a page on another loopback port connect and refuses another origin or Host (HTTP 403)', async () => {
    const url = await serve();
    const ok = peer(url, { origin: 'http://localhost:5173' });
    await ok.started();
    await expect(peer(url, { origin: 'http://evil.example' }).opened).rejects.toThrow('HTTP 403');
    // A loopback server answers only to loopback names (DNS rebinding).
    await expect(peer(url, { host: 'evil.example' }).opened).rejects.toThrow('HTTP 403');
  });

  it('takes the token as ?worker_auth_id= (the only place Kyutai\'s client can put it)', async () => {
    const token = 'moshi-test-token-0123';
    const url = await serve({ token });
    await expect(peer(url).opened).rejects.toThrow('HTTP 401');
    await expect(peer(`${url}?worker_auth_id=wrong-token-0123`).opened).rejects.toThrow('HTTP 401');
    const ok = peer(`${url}?worker_auth_id=${token}`);
    await ok.started();
    // The token is not a session option, and is kept out of the ignored list.
    expect(ok.ready()!.ignoredParams).toEqual([]);
  });

  it('pings an idle connection every heartbeatMs, so Kyutai\'s client (10 s without a message) never times out', async () => {
    const heartbeatMs = 200;
    const p = peer(await serve({ heartbeatMs, deadPeerMs: 60_000 }));
    await p.started();
    const from = p.received.length;
    await p.until((x) => x.received.slice(from).filter((r) => r.message.kind === 'ping').length >= 8, 20_000, '8 pings');
    const pings = p.received.slice(from).filter((r) => r.message.kind === 'ping').map((r) => r.at);
    const gaps = pings.slice(1).map((t, i) => t - pings[i]!).sort((a, b) => a - b);
    // The median interval is the configured one (a timer can be late under load, never much early).
    const median = gaps[gaps.length >> 1]!;
    expect(median).toBeGreaterThanOrEqual(heartbeatMs - 25);
    expect(median).toBeLessThan(heartbeatMs + 150);
    expect(p.closeInfo).toBeNull();
  });
});

describe('recording a Moshi session', () => {
  it('records it (never its token) so that it verifies (input.wav re-decoded from packets.bin) and replays as the fingerprints allow', async () => {
    const dir = join(tmp, 'rec');
    const recorder = new Recorder({ dir, mode: 'all', engineInfo: () => engine.info });
    const token = 'recorded-session-token-42';
    const url = await serve({ token }, recorder);
    const c = await connectMoshi(url, { query: { text_seed: 21, audio_seed: 22, worker_auth_id: token } });
    const r = await c.run(signal(10, 9));
    expect(r.errors).toEqual([]);
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    await recorder.closeAll();
    const [folder] = readdirSync(dir);
    const path = join(dir, folder!);
    const reader = await openSession(path, { strict: true });
    const m = reader.manifest;
    expect(m.meta).toMatchObject({ wire: 'moshi', wireInfo: { query: { text_seed: '21', audio_seed: '22' }, opus: describeLibopus(lib.identity) } });
    expect([m.seed, m.audioSeed]).toEqual([21, 22]);
    // The token came in the query; a recording is shared, the token is not.
    expect(readFileSync(join(path, 'manifest.json'), 'utf8')).not.toContain(token);
    const v = await verifySession(reader, { libopus: loadLibopusNode });
    expect(v.damage).toEqual([]);
    const steps = (await reader.scan()).wholeSteps;
    expect(v.checked).toContain(`input.wav: ${steps} of ${steps} frames match the client's audio in packets.bin`);
    expect(v.checked.some((x) => x.includes("setup fields match the metadata message's 'solacelive' ready"))).toBe(true);
    const rep = await replaySession(path, { engine });
    const expected = fingerprintDiffs(m.platform, engine.info!.fingerprint).length === 0 ? 'bit-exact' : 'token-exact';
    expect(rep.verdict).toBe(expected);
  });
});
