// A load-test process's event loop only stamps and sends: decoding, measuring and recording
// run in the measuring worker (harness/proxy/measurer.ts), so a client's arrival stamps never
// wait for other clients' (or its own) decoding and the lag it reports is the server's.
// Checked against a server that answers at once (prompt-upstream.ts, in its own thread) and a
// quiet reference client alone in another thread, side by side: what a crowd of clients in
// one process measures beyond the quiet one is their own stamping delay.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAME_SAMPLES } from '../../../src/audio/frames.ts';
import { MOSHI_SERVER_SHAPE, OggOpusEncoder, type Libopus } from '../../../src/audio/opus/index.ts';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';
import { encodeMoshi } from '../../../src/protocol/moshi/index.ts';
import { DEFAULT_INPUT, parseTarget, runLevel, wavInput, type LevelOptions, type LevelResult } from '../../../harness/loadtest/index.ts';
import { MoshiMeter } from '../../../harness/measure/index.ts';
import { startPromptUpstream, type PromptUpstream } from './prompt-upstream.ts';
import { quietClientLag } from './quiet-client.ts';

let up: PromptUpstream;
let lib: Libopus;
let url: string;

beforeAll(async () => {
  up = await startPromptUpstream();
  lib = await loadLibopusNode();
  url = `ws://127.0.0.1:${up.port}/api/chat`;
});
afterAll(async () => {
  await up?.close();
});

/** `clients` in this process; `burst`: the server answers them in bursts (prompt-upstream.ts). */
function crowd(clients: number, durationS: number, more: Partial<LevelOptions> = {}, burst = 0): Promise<LevelResult> {
  return runLevel({
    target: parseTarget(burst ? `${url}?burst=${burst}` : url, 'moshi'), clients, durationS, rampS: 0, inputs: [wavInput(DEFAULT_INPUT)], budgetMs: 1000,
    lib, connectTimeoutMs: 10_000, record: null, runId: 'stamping', serverHealth: false, ...more,
  });
}

describe('arrival stamps do not wait for measuring', () => {
  const BURN_MS = 20;
  it(`measuring slowed to ${BURN_MS} ms a message (as slow as the traffic): two clients in one process report the lag a quiet client does, and every message is still measured`, async () => {
    const [l, quiet] = await Promise.all([crowd(2, 2, { testMeasureBurnMs: BURN_MS }), quietClientLag(url, 2)]);
    expect(l.reports.map((r) => r.status)).toEqual(['done', 'done']);
    // Measuring on the loop makes each stamp wait for the messages measured before it: tens to hundreds of ms here.
    expect(l.figures.lag.p50! - quiet.p50!, JSON.stringify({ crowd: l.figures.lag, quiet })).toBeLessThan(BURN_MS / 5);
    for (const r of l.reports) {
      const f = r.figures!;
      expect(f.lag.count).toBe(r.framesSent - 1);
      expect(f.client.messages).toBeGreaterThan(2 * r.framesSent);
      expect(f.events).toEqual([]);
    }
  }, 90_000);

  const N = 16;
  it(`${N} clients in one process, their server's replies in bursts (all sessions stepped together): the median reply's stamp waits less than measuring half a burst costs`, async () => {
    const cost = burstMeasuringMs(lib, N);
    const l = await crowd(N, 4, {}, N);
    expect(l.figures.connected).toBe(N);
    // Each text holds its send time: beyond the client's smallest (stamp - send), a stamp waited.
    const waits = l.reports.flatMap((r) => {
      const d = r.figures!.text.pieces.map((p) => p.atMs - Number(p.text));
      const least = Math.min(...d);
      return d.map((x) => x - least);
    });
    expect(waits.length).toBeGreaterThan(N * 30);
    // Measured on the loop, the median reply (random place in its burst) waits for at least the measuring of the N/2 before it.
    expect(median(waits), JSON.stringify({ costMs: cost, p50: median(waits), p90: quantile(waits, 0.9) })).toBeLessThan(cost / 2);
  }, 90_000);
});

const quantile = (xs: readonly number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;
const median = (xs: readonly number[]): number => quantile(xs, 0.5);

/** What measuring one burst costs on this machine: each of `n` connections' text and 80 ms of audio through its MoshiMeter. */
function burstMeasuringMs(lib: Libopus, n: number): number {
  const FRAMES = 25;
  const enc = new OggOpusEncoder({ lib, shape: MOSHI_SERVER_SHAPE, serial: 1 });
  const pages = Array.from({ length: FRAMES }, (_, f) => enc.push(Float32Array.from({ length: FRAME_SAMPLES }, (_, i) => 0.2 * Math.sin((f * FRAME_SAMPLES + i) / 20))));
  const head = pages.flat().filter((_, i) => i < 2).map((p) => encodeMoshi({ kind: 'audio', data: p }));
  const audio = pages.flat().slice(2).map((p) => encodeMoshi({ kind: 'audio', data: p }));
  const once = (): number => {
    const meters = Array.from({ length: n }, () => new MoshiMeter(lib));
    for (const m of meters) for (const h of head) m.message('server', h, true, 0);
    const t0 = performance.now();
    for (let f = 0; f + 1 < audio.length / 2; f++) {
      for (const m of meters) {
        m.message('server', encodeMoshi({ kind: 'text', text: String(f) }), true, f * 80);
        m.message('server', audio[2 * f]!, true, f * 80);
        m.message('server', audio[2 * f + 1]!, true, f * 80);
      }
    }
    return (performance.now() - t0) / (audio.length / 2 - 1);
  };
  once(); // warm: the loop's cost is the steady one
  return once();
}

describe("the load test's measuring worker is bounded as the proxy's", () => {
  it('a worker more than maxMeasureBacklog messages behind: that client\'s measuring stops, its figures, the console and the level\'s verdict say so; the client streams on', async () => {
    const logs: string[] = [];
    const l = await crowd(1, 2, { testMeasureBurnMs: 50, maxMeasureBacklog: 10, log: (x) => logs.push(x) });
    const r = l.reports[0]!;
    expect(r.status).toBe('done');
    expect(r.framesSent).toBe(25);
    expect(r.figures!.events.filter((e) => e.kind === 'measure-backlog').map((e) => e.message)).toEqual([expect.stringMatching(/more than 10 messages behind/)]);
    expect(l.figures.unmeasured).toEqual({ backlog: 1, workerFailed: 0 });
    expect(l.pass).toBe(false);
    expect(l.why.join('; ')).toMatch(/1 client\(s\) not measured to the end: the load test's measuring worker fell behind/);
    expect(logs.some((x) => x.startsWith('[client 1]') && /measuring stopped/.test(x))).toBe(true);
  }, 60_000);

  it('a worker that dies: logged, the client streams on and its report says measuring failed, so does its recording; the next level is measured again', async () => {
    const logs: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'solacelive-loadtest-worker-'));
    try {
      const l = await crowd(1, 2, { testMeasureCrashAt: 5, log: (x) => logs.push(x), record: dir });
      const r = l.reports[0]!;
      expect(r.status).toBe('done');
      expect(r.framesSent).toBe(25);
      expect(r.figures!.events.some((e) => e.kind === 'measure-worker-failed' && /test crash/.test(e.message))).toBe(true);
      expect(r.recording).toMatchObject({ status: 'failed', error: expect.stringMatching(/^PROXY_ERR_MEASURE_WORKER: /) });
      expect(l.figures.unmeasured).toEqual({ backlog: 0, workerFailed: 1 });
      expect(l.why.join('; ')).toMatch(/1 client\(s\) not measured to the end: the load test's measuring worker failed/);
      expect(logs.some((x) => /measuring worker failed/.test(x) && /test crash/.test(x))).toBe(true);
      const again = await crowd(1, 2, { record: dir, runId: 'again' });
      expect(again.figures.unmeasured).toEqual({ backlog: 0, workerFailed: 0 });
      expect(again.reports[0]!.recording?.status).toBe('complete');
      expect(again.reports[0]!.figures!.lag.count).toBe(24);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
