// GET /health says whether the server can take a session, not only whether its engine runs:
// 503 `full` (the reason naming cost, capacity and sessions) while admission would refuse the
// next session, 503 `degraded` while its live sessions are over the end-to-end budget now, and
// 200 `ok` again once there is room and no live session is behind; every figure stays in the body. While the
// live sessions fall behind, a new session is refused (SERVER_BUSY, retry hint, close 1013),
// saying so: they must not be pushed further.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../../src/client/connect.ts';
import { blasFromEnv } from '../../../src/engine/blas.ts';
import { EngineHost } from '../../../src/engine/host.ts';
import { EnginePool } from '../../../src/engine/pool.ts';
import { resolveModel } from '../../../src/engine/models.ts';
import { RETRY_AFTER_MS } from '../../../src/server/admission.ts';
import type { ErrorMessage } from '../../../src/server/messages.ts';
import type { ServerOptions } from '../../../src/server/options.ts';
import { createServer, type SolaceServer } from '../../../src/server/server.ts';
import { Peer } from '../wire.ts';
import { testFrames } from './engine.ts';

let engine: EngineHost;
const servers: SolaceServer[] = [];
const peers: Peer[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  engine = new EngineHost({ spec: resolveModel(undefined), blas: blasFromEnv(), cpuSampleMs: 200 });
  await engine.start();
  if (engine.state !== 'ok') throw new Error(`engine did not come up: ${engine.state} ${engine.reason ?? ''}`);
}, 60_000);
afterAll(async () => {
  await engine?.close();
});
afterEach(async () => {
  for (const p of peers.splice(0)) p.ws.terminate();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  for (const c of cleanups.splice(0)) await c();
});

type HealthBody = Record<string, unknown> & { status: string; reason: string | null; admission: { capacity: number; live: number; full: boolean; behind: boolean; refusing: string | null } };

async function serve(options: ServerOptions, on: EngineHost | EnginePool = engine) {
  const server = createServer({ port: 0, ...options }, on);
  servers.push(server);
  const { url } = await server.start();
  const health = async () => {
    const res = await fetch(`${url.replace(/^ws:/, 'http:')}/health`);
    return { code: res.status, body: (await res.json()) as HealthBody };
  };
  return { server, url, health };
}

/** Waits until /health answers `status`, polling. */
async function healthBecomes(health: () => Promise<{ code: number; body: HealthBody }>, status: string, ms: number) {
  const end = performance.now() + ms;
  let last = await health();
  while (last.body.status !== status && performance.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    last = await health();
  }
  expect(last.body.status, JSON.stringify(last.body)).toBe(status);
  return last;
}

/** The figures a load balancer's operator reads, whatever the status. */
const FIGURES = ['model', 'engine', 'sessions', 'admission', 'recentBudget', 'budgetMs', 'steps', 'budgetMisses', 'budget', 'keepsUp', 'realTimeFactor', 'spans', 'events', 'counters', 'eventLoopLagMs'];

describe('/health and the next session', () => {
  it('answers 503 "full" while admission would refuse the next session, and 200 "ok" once one ends', async () => {
    // Two sessions at most: full at two, whatever this machine measures a session to cost.
    const { url, health } = await serve({ maxSessions: 2 });
    expect((await health()).code).toBe(200);
    const clients = await Promise.all([1, 2].map((seed) => connect(url, { seed, pace: 'realtime' })));
    const runs = clients.map((c) => c.run(testFrames(40)));
    const full = await healthBecomes(health, 'full', 5000);
    expect(full.code).toBe(503);
    // Full at two (the bound), or at fewer if this machine measures a session at more than half a worker.
    const cap = full.body.admission.capacity;
    expect(cap).toBeLessThanOrEqual(2);
    expect(full.body.admission).toMatchObject({ live: 2, full: true });
    expect(full.body.reason).toMatch(new RegExp(`^full: server (full: 2 of 2 sessions in use|busy: a session costs [\\d.]+ ms .*hold ${cap} sessions? and 2 are live).*\\. Session cost (not measured yet \\(prior\\)|[\\d.]+ ms per step \\((cpu|wall)\\)), capacity ${cap} \\(1 worker, at most 2\\), sessions 2 live`));
    for (const k of FIGURES) expect(full.body, k).toHaveProperty(k);
    const metrics = () => fetch(`${url.replace(/^ws:/, 'http:')}/metrics`).then((r) => r.text());
    expect(await metrics()).toMatch(/^solacelive_admission_refusing 1$/m);
    // The live sessions go on to their end; then there is room again.
    for (const r of await Promise.all(runs)) expect(r.ok).toBe(true);
    const ok = await healthBecomes(health, 'ok', 5000);
    expect(ok.code).toBe(200);
    expect(ok.body.reason).toBeNull();
    expect(await metrics()).toMatch(/^solacelive_admission_refusing 0$/m);
  }, 60_000);

  it('answers 503 "degraded" and refuses new sessions (SERVER_BUSY, retry hint, 1013) while the live sessions fall behind, and 200 once none is live and behind', async () => {
    // A session whose client delivers 19 s of audio at once (a stalled link catching up): its
    // frames wait for the steps before them, far over the budget on any machine, while two
    // workers hold at least two sessions at any cost, so the cost leaves room for another.
    // Its lag bound is set out of the way.
    const pool = new EnginePool({ spec: resolveModel(undefined), blas: blasFromEnv(), engines: 2, cpuSampleMs: 200 });
    await pool.start();
    cleanups.push(() => pool.close());
    const { url, health } = await serve({ maxLagMs: 60_000, maxQueuedFrames: 300, inputBurst: 300 }, pool);
    const behind = new Peer(url);
    peers.push(behind);
    await behind.opened;
    behind.send({ type: 'METADATA', data: { type: 'start', seed: 2 } as never });
    await behind.until((p) => p.metadata().some((m) => m.type === 'ready'), 10_000, 'ready');
    const backlog = testFrames(240, 3).map((samples) => ({ type: 'AUDIO_CHUNK' as const, samples }));
    for (let i = 0; i < backlog.length; i += 8) behind.send(...backlog.slice(i, i + 8));
    const degraded = await healthBecomes(health, 'degraded', 10_000);
    expect(degraded.code).toBe(503);
    expect(degraded.body.reason).toMatch(new RegExp(`^live sessions falling behind: end-to-end p99 \\d+(\\.\\d)? ms over the last \\d+ steps \\(\\d+ over the 80 ms budget, [\\d.]+ s\\) with 1 live; new sessions are refused until they keep up$`));
    expect(degraded.body.admission).toMatchObject({ live: 1, behind: true, full: true });
    expect(degraded.body.admission.capacity).toBeGreaterThanOrEqual(2);
    for (const k of FIGURES) expect(degraded.body, k).toHaveProperty(k);

    // A newcomer now is refused, with why and when to retry.
    const late = new Peer(url);
    peers.push(late);
    await late.opened;
    late.send({ type: 'METADATA', data: { type: 'start', seed: 9 } as never });
    const close = await late.closeWithin(5000);
    expect(close.code).toBe(1013);
    const err = late.errors()[0] as ErrorMessage;
    expect(err).toMatchObject({ code: 'SERVER_BUSY', fatal: true, retryAfterMs: RETRY_AFTER_MS });
    expect(err.message).toMatch(/^server busy: the 1 live session is falling behind: end-to-end p99 [\d.]+ ms over the last \d+ steps \(\d+ over the 80 ms budget, [\d.]+ s; (at [\d.]+ ms per step \d+ fit|no cost measured yet, \d+ fit by the prior)\); a new one would push them further; retry in \d+ s$/);

    // Once the late session is gone, nothing live is behind: healthy again at once, though the
    // steps of its last seconds are still in the window (a server is judged on its live sessions).
    behind.ws.close();
    await behind.closeWithin(5000);
    const ok = await healthBecomes(health, 'ok', 10_000);
    expect(ok.code).toBe(200);
    expect(ok.body.admission).toMatchObject({ live: 0, behind: false, full: false });
  }, 90_000);
});
