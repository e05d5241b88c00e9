// `solacelive replay --paced --against URL` with a real `solacelive serve` (Moshi protocol on
// /api/chat) and a session recorded through the real proxy in front of it: the proxied
// session, refused by the offline and the local paced replay, is sent to the server again at
// the recorded pace; the timing is measured as the proxy measures it, beside the recorded
// figures; with the recorded seed the server's replies are compared with the recorded ones
// and, both servers being the same SolaceLive on this machine, are bit-exact. A session whose
// client asked no seed is still replayed with the seed the server announced in its metadata.
// A session SolaceLive recorded on its packet protocol replays against serve's packet endpoint.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMoshi, moshiQuery } from '../../../src/client/moshi.ts';
import { MOSHI_CLIENT_SHAPE, OggOpusEncoder } from '../../../src/audio/opus/index.ts';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';
import { startProxy, type MoshiProxy } from '../../../harness/proxy/index.ts';
import { openSession } from '../../../harness/format/node.ts';
import { pacedAgainst, wireVerdict } from '../../../harness/replay/against.ts';
import { packetVerdict } from '../../../harness/replay/against-packets.ts';
import { CliProcesses } from '../../cli-process.ts';
import { testFrames } from '../../server/live/engine.ts';

const cli = new CliProcesses();
const dir = mkdtempSync(join(tmpdir(), 'solacelive-against-'));
const FRAMES = 20;
let chat = '';
let proxy: MoshiProxy;

/** One conversation through the proxy; resolves with its recorded session folder. */
async function recordThroughProxy(query: Record<string, string | number>): Promise<string> {
  const before = proxy.reports.length;
  const c = await connectMoshi(`${proxy.url}/api/chat`, { query });
  const r = await c.run(testFrames(FRAMES, 4));
  expect(r.ok).toBe(true);
  const deadline = performance.now() + 20_000;
  while (proxy.reports.length <= before && performance.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  const report = proxy.reports[before]!;
  expect(report.recording?.status).toBe('complete');
  return report.path!;
}

beforeAll(async () => {
  const served = await cli.serve(['--port', '0', '--engines', '1'], 60_000, true);
  chat = `${served.url}/api/chat`;
  proxy = await startProxy({ upstream: chat, record: join(dir, 'rec') });
}, 90_000);
afterAll(async () => {
  await proxy?.close();
  cli.killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('replay --paced --against URL', () => {
  it('replays a proxied session against serve: timing beside the recorded, and with the seed the verdict', async () => {
    const session = await recordThroughProxy(moshiQuery({ seed: 4242 }));
    // Without --against the proxied session is refused, pointing at --against.
    const refused = await cli.run(['replay', session, '--paced', '--no-save'], 60_000);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/REPLAY_ERR_PROXIED.*--paced --against URL/s);

    const r = await cli.run(['replay', session, '--paced', '--against', chat, '--json'], 120_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const j = JSON.parse(r.stdout) as Awaited<ReturnType<typeof pacedAgainst>>;
    expect(j.recordedAt).toBe('proxy');
    expect(j.query).toMatchObject({ text_seed: '4242', audio_seed: '4242' });
    expect(j.complete).toBe(true);
    // Measured both times: every frame after the warm-up answered (the padded tail the client's EOS
    // page completes too: the encoder's pre-skip shifts its last samples into one more frame), the
    // lag percentiles; no growth over 1.6 s (the meter's 20 s minimum span), the reason instead.
    const preSkip = Math.ceil(new OggOpusEncoder({ lib: await loadLibopusNode(), shape: MOSHI_CLIENT_SHAPE, serial: 1 }).preSkip / 2);
    const sent = Math.ceil((FRAMES * 1920 + preSkip) / 1920);
    for (const f of [j.recorded, j.replayed]) {
      expect(f.client.audioFrames).toBe(sent);
      expect(f.lag.count).toBe(sent - 1);
      expect(f.lag.p50).toBeGreaterThan(0);
      expect(f.lag.p99).toBeGreaterThanOrEqual(f.lag.p50!);
      expect(f.lag.slopeMsPerMin).toBeNull();
      expect(f.lag).toMatchObject({ slopeNullReason: expect.stringMatching(/over >= 20 s; these span 1\.\d s/) });
      expect(f.stalls.count).toBeGreaterThanOrEqual(0);
      expect(f.missing.count).toBe(0);
    }
    expect(j.replayed.server.audioFrames).toBe(j.recorded.server.audioFrames);
    // The same serve on the same machine: its fingerprint matches, so bit-exact is due.
    expect(j.verdict).toMatchObject({ kind: 'bit-exact', expected: 'bit-exact', ok: true, fingerprintDiffs: [] });
    expect(j.ok).toBe(true);

    const text = await cli.run(['replay', session, '--paced', '--against', chat], 120_000);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^lag p50 +[\d.]+ ms +[\d.]+ ms$/m);
    expect(text.stdout).toMatch(/^timing +recorded \(proxy\) +replayed$/m);
    expect(text.stdout).toMatch(/^lag p99 +[\d.]+ ms +[\d.]+ ms$/m);
    // 1.6 s of frames: under the meter's 20 s minimum span, so no growth either side.
    expect(text.stdout).toMatch(/^growth +- +-$/m);
    expect(text.stdout).toMatch(/^stalls +\d+ +\d+$/m);
    expect(text.stdout).toMatch(/^verdict {2}bit-exact /m);
    expect(text.stdout).toMatch(/^expected bit-exact \(platform fingerprint matches\): OK$/m);
  }, 300_000);

  it('uses the seed the server announced when the client asked none; replies of another seed are not bit-exact', async () => {
    const seeded = await recordThroughProxy(moshiQuery({ seed: 4242 }));
    const session = await recordThroughProxy({});
    const r = await pacedAgainst(session, chat);
    expect(r.query.text_seed).toMatch(/^\d+$/);
    expect(r.query.text_seed).not.toBe('4242');
    expect(r.verdict).toMatchObject({ kind: 'bit-exact', ok: true });
    // The comparison can fail: the two recordings' replies (two seeds) are not bit-exact.
    const server = async (path: string) => {
      const out: Uint8Array[] = [];
      for await (const p of (await openSession(path)).packets()) if (p.direction === 1) out.push(p.bytes);
      return out;
    };
    expect(wireVerdict(await server(seeded), await server(session)).kind).not.toBe('bit-exact');
  }, 200_000);

  it('replays a session SolaceLive recorded on its packet protocol against serve\'s packet endpoint: timing by step and the verdict', async () => {
    const session = join(dir, 'packets.session');
    const wav = new URL('../../../fixtures/audio/hello.wav', import.meta.url).pathname;
    const rec = await cli.run(['record', '--in', wav, '--out', session, '--seconds', '2', '--seed', '5'], 120_000);
    expect(rec.code, rec.stderr).toBe(0);
    const r = await pacedAgainst(session, chat.replace(/\/api\/chat$/, '/'));
    expect(r.protocol).toBe('solacelive');
    expect(r.complete).toBe(true);
    expect(r.messagesSent).toBe(25);
    for (const f of [r.recorded, r.replayed]) {
      expect(f.client.audioFrames).toBe(25);
      expect(f.lag.count).toBeGreaterThan(20);
      expect(f.lag.p50).toBeGreaterThan(0);
      expect(f.missing.count).toBe(0);
    }
    // Recorded by another server process on this machine with the same engine set-up: bit-exact is due.
    expect(r.verdict).toMatchObject({ kind: 'bit-exact', expected: 'bit-exact', ok: true });
    // The comparison can fail: the recorded replies without their last ones are not bit-exact.
    const server: Uint8Array[] = [];
    for await (const p of (await openSession(session)).packets()) if (p.direction === 1) server.push(p.bytes);
    expect(packetVerdict(server, server.slice(0, -3)).kind).not.toBe('bit-exact');
  }, 200_000);
});
