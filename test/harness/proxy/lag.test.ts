// What the proxy measures from timing alone, checked against a real upstream with a known
// injected delay (moshi-upstream.ts): the lag it reports, its growth per minute, stalls and
// the silences after which Kyutai's client gives up (thresholds lowered by options, the growth's
// minimum span too: these sessions last seconds); and that by default a session that short has
// no growth figure, only the reason why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMoshi } from '../../../src/client/moshi.ts';
import { startProxy, type ConnectionReport, type MoshiProxy } from '../../../harness/proxy/index.ts';
import { testFrames } from '../../server/live/engine.ts';
import { startTestUpstream, type TestUpstream } from './moshi-upstream.ts';

let up: TestUpstream;
let proxy: MoshiProxy;
let plain: MoshiProxy;
const logs: string[] = [];
const GROWTH_MIN_MS = 2000;
const STALL_MS = 500;
const TIMEOUT_MS = 700;

beforeAll(async () => {
  up = await startTestUpstream();
  proxy = await startProxy({ upstream: up.url, meter: { stallMs: STALL_MS, clientTimeoutMs: TIMEOUT_MS, growthMinMs: GROWTH_MIN_MS }, log: (l) => logs.push(l) });
  plain = await startProxy({ upstream: up.url, log: (l) => logs.push(l) });
});
afterAll(async () => {
  await proxy?.close();
  await plain?.close();
  await up?.close();
});

async function through(query: Record<string, string | number>, frames: number, p = proxy): Promise<ConnectionReport> {
  const before = p.reports.length;
  const c = await connectMoshi(`${p.url}/api/chat`, { query });
  await c.run(testFrames(frames, 5));
  const deadline = performance.now() + 10_000;
  while (p.reports.length <= before) {
    if (performance.now() > deadline) throw new Error(`no report:\n${logs.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return p.reports[before]!;
}

describe('lag measured by the proxy', () => {
  it('a constant injected delay is the lag (never less; loopback and timers add a little), with no growth', async () => {
    const DELAY = 150;
    const f = (await through({ delay: DELAY }, 40)).figures;
    expect(f.lag.count).toBe(39);
    expect(f.lag.unmatched).toBe(0);
    expect(f.missing.count).toBe(0);
    // Each point names the server frame it measures (where the viewer draws it): every frame answered, in order.
    expect(f.lag.frames).toEqual(Array.from({ length: 39 }, (_, j) => j));
    // The upstream waits DELAY after it has a frame; the proxy saw the frame before the upstream did.
    expect(Math.min(...f.lag.series.map(([, lag]) => lag)), JSON.stringify(f.lag.series)).toBeGreaterThanOrEqual(DELAY);
    expect(f.lag.p50!).toBeLessThan(DELAY + 40);
    // No growth: the median of the last third is the median of the first (a spike from the machine's load moves neither).
    const thirds = [f.lag.series.slice(0, 13), f.lag.series.slice(-13)].map((part) => part.map(([, lag]) => lag).sort((a, b) => a - b)[6]!);
    expect(Math.abs(thirds[1]! - thirds[0]!)).toBeLessThan(20);
    expect(f.stalls.count).toBe(0);
    expect(f.clientTimeouts.count).toBe(0);
  }, 30_000);

  it('a delay growing by 5 ms per frame is reported as ~3750 ms per minute of growth, and its last frames as late', async () => {
    const GROWTH = 5; // ms per 80 ms frame = 3750 ms per minute
    const f = (await through({ delay: 20, growth: GROWTH }, 50)).figures;
    expect(f.lag.count).toBe(49);
    const expected = (GROWTH * 60_000) / 80;
    expect(f.lag.slopeMsPerMin!).toBeGreaterThan(expected * 0.8);
    expect(f.lag.slopeMsPerMin!).toBeLessThan(expected * 1.2);
    // The last frames are later than the first by the growth: late by the session's own baseline
    // (frame j's lag is >= 20 + 5(j+1) and the smallest is <= frame 0's, ~25 ms plus any delay the machine added).
    for (let j = 40; j < 49; j++) expect(f.late.frames).toContain(j);
  }, 30_000);

  it('by default a session shorter than 20 s has no growth figure: null, with the reason in the figures and the summary line', async () => {
    const r = await through({ delay: 20, growth: 5 }, 50, plain);
    const f = r.figures;
    expect(f.lag.count).toBe(49);
    const span = f.lag.series.at(-1)![0] - f.lag.series[0]![0];
    expect(span).toBeLessThan(20_000);
    expect(f.lag.slopeMsPerMin).toBeNull();
    expect(f.lag.slopeNullReason).toBe(`growth needs answered frames over >= 20 s; these span ${Math.round(span / 100) / 10} s (49 frames)`);
    const line = logs.find((l) => l.startsWith(`[proxy ${r.id}]`) && /lag p50/.test(l));
    expect(line).toContain(`growth - (${f.lag.slopeNullReason})`);
  }, 30_000);

  it('a pause in the server audio is one stall of its length, and one client-timeout silence when it is long enough', async () => {
    const PAUSE = 900;
    const f = (await through({ pauseAt: 15, pauseMs: PAUSE }, 35)).figures;
    expect(f.stalls.count).toBe(1);
    const [stall] = f.stalls.list;
    // From the last reply before the pause (frame 14's, ~80 ms before frame 15 arrived) to the held ones.
    expect(stall!.durationMs).toBeGreaterThanOrEqual(PAUSE);
    expect(stall!.durationMs).toBeLessThan(PAUSE + 80 + 150);
    expect(f.clientTimeouts.count).toBe(1);
    expect(f.clientTimeouts.list[0]!.silentMs).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(f.missing.count).toBe(0);
  }, 30_000);

  it('an upstream that handshakes and then says nothing: no audio, missing frames and the client-timeout event', async () => {
    const f = (await through({ silent: 1 }, 20)).figures;
    expect(f.handshakeMs).not.toBeNull();
    expect(f.firstAudioMs).toBeNull();
    expect(f.server.audioFrames).toBe(0);
    expect(f.missing.count).toBe(19);
    expect(f.clientTimeouts.count).toBeGreaterThanOrEqual(1);
    expect(f.clientTimeouts.list[0]!.atMs).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(logs.some((l) => /client-timeout silences [1-9]/.test(l))).toBe(true);
  }, 30_000);
});
