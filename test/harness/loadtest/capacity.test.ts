// The capacity search against a real server with the engine pool (two workers), each step
// made to cost a known CPU time on top of the model's (test-only burn), so the server's own
// admission holds exactly one session per worker (a cost over 32 ms: 64 ms of step time per
// worker per 80 ms fits one) on any machine. The lag budget is set far above what the
// machine's load can do to a 2 s session, so admission is the only limit: the capacity the
// load test finds must be the admission capacity /health reports, the level above it must
// show the server's refusals (SERVER_BUSY) as refusals, and at the capacity each client's lag
// must bound its own session's e2e from above (the client sees the server's frame-in →
// reply-out plus the wire).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';
import { MOSHI_CLIENT_SHAPE, OggOpusEncoder } from '../../../src/audio/opus/index.ts';
import { blasFromEnv } from '../../../src/engine/blas.ts';
import { resolveModel } from '../../../src/engine/models.ts';
import { EnginePool } from '../../../src/engine/pool.ts';
import { MOSHI_WARMUP_FRAMES } from '../../../src/client/moshi.ts';
import type { SolaceServer } from '../../../src/server/server.ts';
import { DEFAULT_INPUT, findCapacity, levelLine, parseTarget, runLevel, wavInput, type LevelResult } from '../../../harness/loadtest/index.ts';
import { e2eOf, serveWithFigures, type ServedSession } from './server-figures.ts';

const BURN_MS = 34;
let pool: EnginePool;
let server: SolaceServer;
let url: string;
let sessions: Map<string, ServedSession>;

beforeAll(async () => {
  pool = new EnginePool({ engines: 2, spec: resolveModel(undefined), blas: blasFromEnv(), testStepBurnMs: BURN_MS, cpuSampleMs: 200 });
  await pool.start();
  if (pool.state !== 'ok') throw new Error(`engine pool did not come up: ${pool.state} ${pool.reason ?? ''}`);
  // Sessions far behind real time are not closed (maxLagMs): the load of the machine is not under test.
  ({ server, url, sessions } = await serveWithFigures(pool, { maxSessions: 32, maxLagMs: 120_000 }));
}, 90_000);
afterAll(async () => {
  await server?.stop();
  await pool?.close();
});

describe('loadtest --find-capacity against serve with the engine pool', () => {
  it('finds the admission capacity /health reports; above it the refusals are SERVER_BUSY; at it each client\'s lag bounds its session\'s e2e', async () => {
    const lib = await loadLibopusNode();
    const levels: LevelResult[] = [];
    const c = await findCapacity(async (n) => {
      const before = new Set(sessions.keys());
      const l = await runLevel({
        target: parseTarget(url, 'moshi'), clients: n, durationS: 2, rampS: 0.5, inputs: [wavInput(DEFAULT_INPUT)], budgetMs: 30_000,
        lib, connectTimeoutMs: 20_000, record: null, runId: 'cap', meter: { stallMs: 30_000 },
      });
      levels.push(l);
      // This level's server sessions, by the seed each client sent (client i: seed i + 1).
      (l as { served?: ServedSession[] }).served = [...sessions.entries()].filter(([id]) => !before.has(id)).map(([, s]) => s);
      return l;
    }, { maxClients: 8, timeLimitS: 600, levelS: 40, pauseMs: 1000 });

    const admission = server.health().admission!;
    const tried = levels.map((l) => `${l.clients}: ${l.pass ? 'pass' : l.why.join('; ')}`).join('\n');
    // Charged by CPU on a quiet machine, by wall time when other processes stretch the steps:
    // either way at least the burn, over 32 ms, so one session per worker.
    expect(admission.costMs!, tried).toBeGreaterThanOrEqual(BURN_MS);
    expect(admission.workers).toBe(2);
    expect(admission.capacity).toBe(2);
    expect(c.capacity, tried).toBe(admission.capacity);
    expect(c.firstFail).toBe(admission.capacity + 1);
    // Each level read the server's own /health beside its clients: the capacity it found is the one the server reports.
    const own = levels.map((l) => ('figures' in l.server ? l.server.figures : null));
    expect(own.every((f) => f !== null), levels.map((l) => JSON.stringify(l.server)).join('\n')).toBe(true);
    const atCap = own[levels.findIndex((l) => l.clients === admission.capacity && l.pass)]!;
    expect(atCap.admissionCapacity).toBe(c.capacity);
    expect(atCap.sessionCostMs!).toBeGreaterThanOrEqual(BURN_MS);
    expect(atCap.workerCpu).toHaveLength(2);
    // Both workers served, and their model work (step.total; the burn runs after it) fits inside the end-to-end time.
    expect(atCap.workerStepP99Ms.every((p) => p !== null && p > 0 && p <= atCap.e2eP99Ms!), JSON.stringify(atCap)).toBe(true);
    expect(atCap.e2eP99Ms!).toBeGreaterThanOrEqual(atCap.stepTotalP99Ms!);
    expect(levelLine(levels.find((l) => l.clients === admission.capacity && l.pass)!)).toMatch(new RegExp(`server /health: session cost [\\d.]+ ms/step, admission capacity ${c.capacity}, worker cpu [\\d.]+/[\\d.]+`));

    const above = levels.find((l) => l.clients === admission.capacity + 1)!;
    expect(above.figures.refused).toEqual({ SERVER_BUSY: 1 });
    expect(above.figures.failed).toEqual({});
    expect(above.why.join('; ')).toMatch(/1 refused \(1 SERVER_BUSY\)/);

    const at = levels.filter((l) => l.clients === admission.capacity && l.pass).at(-1)!;
    const served = (at as { served?: ServedSession[] }).served!;
    expect(served.length).toBe(admission.capacity);
    const preSkip = Math.ceil(new OggOpusEncoder({ lib: await loadLibopusNode(), shape: MOSHI_CLIENT_SHAPE, serial: 1 }).preSkip / 2);
    for (const r of at.reports) {
      const s = served.find((x) => x.seed === r.index + 1)!;
      // The whole input went out: its EOS page completes one more, padded, frame (the pre-skip shifts the last samples), stepped and answered too.
      const frames = Math.ceil((r.framesSent * 1920 + preSkip) / 1920);
      const e2e = e2eOf(s, MOSHI_WARMUP_FRAMES, frames);
      const lag = r.figures!.lag;
      // Every client frame after the warm-up was answered and stepped: the same frames on both sides.
      expect(lag.count).toBe(frames - MOSHI_WARMUP_FRAMES);
      expect(e2e.count).toBeGreaterThanOrEqual(lag.count);
      expect(lag.p50!).toBeGreaterThanOrEqual(e2e.p50! - 1);
      expect(lag.p99!).toBeGreaterThanOrEqual(e2e.p99! - 1);
    }
  }, 240_000);
});
