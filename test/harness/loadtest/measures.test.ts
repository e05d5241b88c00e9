// What each load-test client measures, against a real Moshi server on loopback whose delay,
// growth, silence, close and refusal the test chooses (test/harness/proxy/moshi-upstream.ts):
// the lag it reports is the injected delay (never less; the difference from an undelayed
// server measured side by side), its growth per minute, a stall, a
// server that closes mid-session as a disconnect with its code, an HTTP refusal counted as
// a refusal (not a failure), and the level verdict naming each.
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';
import type { Libopus } from '../../../src/audio/opus/index.ts';
import { DEFAULT_INPUT, parseTarget, runLevel, wavInput, type LevelOptions, type LevelResult } from '../../../harness/loadtest/index.ts';
import { startTestUpstream, type TestUpstream } from '../proxy/moshi-upstream.ts';

let up: TestUpstream;
let lib: Libopus;
const dirs: string[] = [];

beforeAll(async () => {
  up = await startTestUpstream();
  lib = await loadLibopusNode();
});
afterAll(async () => {
  await up?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function level(path: string, clients: number, more: Partial<LevelOptions> = {}): Promise<LevelResult> {
  return runLevel({
    target: parseTarget(`ws://127.0.0.1:${up.port}${path}`, 'moshi'), clients, durationS: 3, rampS: 0.2, inputs: [wavInput(DEFAULT_INPUT)], budgetMs: 80,
    lib, connectTimeoutMs: 5000, record: null, runId: 'test', ...more,
  });
}

describe('load-test clients measure as the proxy does', () => {
  it('a constant injected delay is every client\'s lag (never less) and what separates it from an undelayed server; over the budget the level fails naming the lag', async () => {
    const DELAY = 150;
    // Side by side, so the machine's load weighs on both alike: the delay is the difference.
    const [l, plain] = await Promise.all([level(`/api/chat?delay=${DELAY}`, 2), level('/api/chat', 2)]);
    expect(l.reports.map((r) => r.status)).toEqual(['done', 'done']);
    for (const r of l.reports) {
      const f = r.figures!;
      // 3 s = 38 frames; the first is the warm-up the server answers with nothing.
      expect(f.lag.count).toBe(r.framesSent - 1);
      expect(Math.min(...f.lag.series.map(([, lag]) => lag))).toBeGreaterThanOrEqual(DELAY);
      expect(f.missing.count).toBe(0);
      expect(r.disconnected).toBe(false);
    }
    expect(l.figures.lag.p50! - plain.figures.lag.p50!).toBeGreaterThan(DELAY - 40);
    expect(l.figures.lag.p50! - plain.figures.lag.p50!).toBeLessThan(DELAY + 40);
    expect(l.pass).toBe(false);
    expect(l.why.join('; ')).toMatch(/2 client\(s\) with lag p99 over 80 ms/);
    // The same delay under a budget above it passes.
    const ok = await level(`/api/chat?delay=${DELAY}`, 1, { budgetMs: 5000 });
    expect(ok.why).toEqual([]);
    expect(ok.pass).toBe(true);
  }, 60_000);

  it('a delay growing by 5 ms per frame is ~3750 ms per minute of growth', async () => {
    // A 4 s session: the growth's minimum span (20 s by default) lowered as the other thresholds are.
    const l = await level('/api/chat?delay=20&growth=5', 1, { budgetMs: 5000, durationS: 4, meter: { growthMinMs: 2000 } });
    const expected = (5 * 60_000) / 80;
    const slope = l.reports[0]!.figures!.lag.slopeMsPerMin!;
    expect(slope).toBeGreaterThan(expected * 0.8);
    expect(slope).toBeLessThan(expected * 1.2);
    expect(l.figures.growth.max).toBe(slope);
  }, 30_000);

  it('a server that holds its replies for 2.5 s is a stall; one that closes mid-session (1011) is a disconnect by the server with its code', async () => {
    // A 1 s stall threshold: a loaded machine's own hiccups (a few hundred ms) are not what is measured here.
    const stalled = await level('/api/chat?pauseAt=10&pauseMs=2500', 1, { budgetMs: 10_000, durationS: 4, meter: { stallMs: 1000 } });
    expect(stalled.figures.stalls).toBe(1);
    expect(stalled.reports[0]!.figures!.stalls.list[0]!.durationMs).toBeGreaterThanOrEqual(2500);
    expect(stalled.why.join('; ')).toMatch(/1 stall/);
    const closed = await level('/api/chat?closeAt=10&closeCode=1011', 1, { budgetMs: 5000 });
    const r = closed.reports[0]!;
    expect(r.disconnected).toBe(true);
    expect(r.figures!.end).toMatchObject({ by: 'server', code: 1011 });
    expect(r.framesSent).toBeLessThan(38);
    expect(closed.figures.disconnectCodes).toEqual({ 'server 1011': 1 });
    expect(closed.why.join('; ')).toMatch(/1 disconnect\(s\) \(1 server 1011\)/);
  }, 60_000);

  it('an HTTP 503 is a refusal, counted by its code apart from failures', async () => {
    const l = await level('/refuse/503', 2);
    expect(l.reports.map((r) => r.status)).toEqual(['refused', 'refused']);
    expect(l.figures.refused).toEqual({ CLIENT_ERR_HTTP_503: 2 });
    expect(l.figures.failed).toEqual({});
    expect(l.why.join('; ')).toMatch(/2 refused \(2 CLIENT_ERR_HTTP_503\)/);
  }, 30_000);

  it('--record: each connection is a session folder in the proxy\'s format, with its figures', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loadtest-rec-'));
    dirs.push(dir);
    const l = await level('/api/chat?delay=30', 2, { record: dir, budgetMs: 5000, durationS: 2 });
    const folders = readdirSync(dir).sort();
    expect(folders).toEqual(['test-n2-c1.session', 'test-n2-c2.session']);
    for (const [i, f] of folders.entries()) {
      for (const file of ['manifest.json', 'packets.bin', 'input.wav', 'output.wav', 'proxy.json']) expect(existsSync(join(dir, f, file)), `${f}/${file}`).toBe(true);
      const proxy = JSON.parse(readFileSync(join(dir, f, 'proxy.json'), 'utf8'));
      expect(proxy.format).toBe('solacelive.proxy');
      expect(proxy.figures.lag.count).toBe(l.reports[i]!.figures!.lag.count);
      const manifest = JSON.parse(readFileSync(join(dir, f, 'manifest.json'), 'utf8'));
      expect(manifest.meta.wire).toBe('moshi');
      expect(manifest.meta.loadtest).toMatchObject({ client: i, level: 2 });
      expect(l.reports[i]!.recording).toMatchObject({ status: 'complete' });
    }
  }, 30_000);
});
