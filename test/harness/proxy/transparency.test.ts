// The proxy in front of a real SolaceLive server (createServer + the tiny engine child, the
// server `solacelive serve` runs) on either protocol, over loopback: on Moshi, a client gets the same
// messages through the proxy as directly (same seeds, deterministic tiny model), the proxy
// forwards each message byte for byte in order, and its recording opens in the session reader
// with the decoded audio of both sides and the figures. On serve's packet protocol the proxy
// forwards and records as unchanged; its figures are Moshi's and stay empty there.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../../src/client/connect.ts';
import { connectMoshi, moshiQuery, type MoshiResult } from '../../../src/client/moshi.ts';
import { MOSHI_KINDS } from '../../../src/protocol/moshi/index.ts';
import { openSession } from '../../../harness/format/node.ts';
import { verifySession } from '../../../harness/verify.ts';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';
import { MOSHI_CLIENT_SHAPE, OggOpusEncoder } from '../../../src/audio/opus/index.ts';
import { PROXY_FILE, proxyMetaOf } from '../../../harness/format/index.ts';
import { startProxy, type ConnectionReport, type MoshiProxy } from '../../../harness/proxy/index.ts';
import type { ProxyFile } from '../../../harness/proxy/recording.ts';
import { testFrames } from '../../server/live/engine.ts';
import { startServedProxy, type ServedProxy } from './served-proxy.ts';
import { CliProcesses } from '../../cli-process.ts';

const cli = new CliProcesses();

const FRAMES = 20;
const dir = mkdtempSync(join(tmpdir(), 'solacelive-proxy-'));
let served: ServedProxy;
let proxy: MoshiProxy;
let upstream = '';
const logs: string[] = [];

beforeAll(async () => {
  // Same seed, same messages only if the server stepped the same frames: a frame held up past
  // missingFrameMs (400 ms; a loaded machine does it) would be stepped as silence in one run only.
  served = await startServedProxy({ missingFrameMs: 30_000 }, { record: dir, log: (l) => logs.push(l) });
  ({ proxy, upstream } = served);
}, 120_000);
afterAll(async () => {
  await served?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly result: MoshiResult;
  readonly inbound: Uint8Array[];
  readonly outbound: Uint8Array[];
}

async function session(url: string, seed: number): Promise<Run> {
  const inbound: Uint8Array[] = [];
  const outbound: Uint8Array[] = [];
  const c = await connectMoshi(url, { query: moshiQuery({ seed }), onInbound: (b) => inbound.push(Buffer.from(b)), onOutbound: (b) => outbound.push(Buffer.from(b)) });
  const result = await c.run(testFrames(FRAMES, 3));
  return { result, inbound, outbound };
}

/** What must not depend on timing: every message but pings, and metadata (it names the server's session). */
const stable = (msgs: Uint8Array[]) => msgs.filter((m) => m[0] !== MOSHI_KINDS.ping && m[0] !== MOSHI_KINDS.metadata).map((m) => Buffer.from(m).toString('hex'));

async function nextReport(before: number): Promise<ConnectionReport> {
  const deadline = performance.now() + 20_000;
  while (proxy.reports.length <= before) {
    if (performance.now() > deadline) throw new Error(`no connection report; log:\n${logs.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return proxy.reports[before]!;
}

describe('proxy transparency', () => {
  it('a session through the proxy gives the client the same messages as a direct one, forwarded byte for byte, recorded readably', async () => {
    const direct = await session(upstream, 77);
    const before = proxy.reports.length;
    const via = await session(`${proxy.url}/api/chat`, 77);
    const report = await nextReport(before);

    expect(direct.result.ok, JSON.stringify({ ...direct.result, audio: direct.result.audio.length, latency: undefined })).toBe(true);
    expect(via.result.ok, JSON.stringify({ ...via.result, audio: via.result.audio.length, latency: undefined })).toBe(true);
    expect(stable(via.inbound)).toEqual(stable(direct.inbound));
    expect(via.inbound.filter((m) => m[0] === MOSHI_KINDS.metadata)).toHaveLength(direct.inbound.filter((m) => m[0] === MOSHI_KINDS.metadata).length);

    // The recording: exactly what each side sent, in order, and the close by the client.
    expect(report.recording).toEqual({ status: 'complete', error: null });
    const r = await openSession(report.path!, { strict: true });
    expect(r.manifest.status).toBe('complete');
    const meta = proxyMetaOf(r.manifest)!;
    expect(meta.upstream).toBe(upstream);
    expect(meta.query).toMatchObject({ text_seed: '77', audio_seed: '77' });
    expect(r.manifest.model.id).toBe(`upstream:${upstream}`);
    expect(r.manifest.seed).toBe(77);
    const packets = [];
    for await (const p of r.packets()) packets.push(p);
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    expect(packets.filter((p) => p.direction === 0).map((p) => hex(p.bytes))).toEqual(via.outbound.map(hex));
    expect(packets.filter((p) => p.direction === 1).map((p) => hex(p.bytes))).toEqual(via.inbound.map(hex));

    const f = report.figures;
    // The client's end-of-stream page ends the session on the server, which closes normally.
    expect(f.end).toMatchObject({ by: 'server', code: 1000 });
    expect(via.result.close.code).toBe(1000);
    // The client's FRAMES frames and the padded tail its EOS page completes (the encoder's pre-skip shifts its last samples into one more frame).
    const preSkip = Math.ceil(new OggOpusEncoder({ lib: await loadLibopusNode(), shape: MOSHI_CLIENT_SHAPE, serial: 1 }).preSkip / 2);
    const sent = Math.ceil((FRAMES * 1920 + preSkip) / 1920);
    expect(f.client.audioFrames).toBe(sent);
    expect(f.server.audioFrames).toBe(via.result.audioFrames);
    expect(f.lag.count).toBe(Math.min(sent - 1, via.result.audioFrames));
    expect(f.lag.p50).toBeGreaterThan(0);
    expect(f.handshakeMs).toBeGreaterThan(0);
    expect(f.firstAudioMs).toBeGreaterThan(f.handshakeMs!);
    const file = JSON.parse(readFileSync(join(report.path!, PROXY_FILE), 'utf8')) as ProxyFile;
    expect(file.figures.lag.series).toHaveLength(f.lag.count);
    // input.wav is the client's audio as its encoder saw it: the frames the client sent, decoded.
    expect(r.manifest.counts.steps).toBeGreaterThanOrEqual(FRAMES);
    expect(logs.some((l) => l.includes('lag p50'))).toBe(true);
    // input.wav is the client's audio cut as a SolaceLive server cuts it: re-decoding packets.bin with that rule gives the same frames.
    const v = await verifySession(r, { libopus: loadLibopusNode });
    expect(v.damage).toEqual([]);
    expect(v.checked.join('\n')).toMatch(/input\.wav/);

    // No model in the session: `solacelive replay` says so instead of trying.
    const run = await cli.run(['replay', report.path!], 60_000);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/REPLAY_ERR_PROXIED/);
    expect(run.stderr).toMatch(/cannot be replayed offline/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 120_000);

  it("serve's packet protocol through the proxy: forwarded unchanged (same reply as direct), recorded exactly; the Moshi figures stay empty", async () => {
    const packetProxy = await startProxy({ upstream: `${upstream.replace(/\/api\/chat$/, '')}/`, record: dir, log: (l) => logs.push(l) });
    try {
      const run = async (url: string) => {
        const inbound: Uint8Array[] = [];
        const c = await connect(url, { pace: 'fast', seed: 9, onInbound: (b) => inbound.push(Buffer.from(b)) });
        return { result: await c.run(testFrames(12, 6)), inbound };
      };
      const direct = await run(`${upstream.replace(/\/api\/chat$/, '')}/`);
      const via = await run(`${packetProxy.url}/`);
      expect(direct.result.ok).toBe(true);
      expect(via.result.ok).toBe(true);
      expect(Buffer.from(via.result.audio.buffer).equals(Buffer.from(direct.result.audio.buffer))).toBe(true);
      const deadline = performance.now() + 10_000;
      while (packetProxy.reports.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const report = packetProxy.reports[0]!;
      const r = await openSession(report.path!, { strict: true });
      const down = [];
      for await (const p of r.packets()) if (p.direction === 1) down.push(Buffer.from(p.bytes).toString('hex'));
      expect(down).toEqual(via.inbound.map((b) => Buffer.from(b).toString('hex')));
      expect(report.figures.lag.count).toBe(0);
      expect(report.figures.end?.code).toBe(1000);
    } finally {
      await packetProxy.close();
    }
  }, 120_000);
});
