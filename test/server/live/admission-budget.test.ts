// Admission by cost against the real engine, made deterministic by a test-only CPU burn per
// step (EngineHostOptions.testStepBurnMs): the server measures what a session costs from the
// worker's own CPU per step, admits the N sessions one worker holds at that cost, refuses the
// N+1th with SERVER_BUSY, the numbers and a retry hint, and close 1013, and the newcomer
// takes no step from the N. A real-time session that stays far behind its client (maxLagMs)
// is told FALLING_BEHIND and closed while another session goes on.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionResult } from '../../../src/client/client.ts';
import { connect } from '../../../src/client/connect.ts';
import { blasFromEnv } from '../../../src/engine/blas.ts';
import { EngineHost } from '../../../src/engine/host.ts';
import { EnginePool } from '../../../src/engine/pool.ts';
import { resolveModel } from '../../../src/engine/models.ts';
import type { FinishedStep } from '../../../src/engine/step-record.ts';
import { DEFAULT_HEADROOM, STEP_PERIOD_MS } from '../../../src/server/admission.ts';
import type { SessionHooks } from '../../../src/server/hooks.ts';
import type { ErrorMessage } from '../../../src/server/messages.ts';
import type { ServerOptions } from '../../../src/server/options.ts';
import { createServer, type SolaceServer } from '../../../src/server/server.ts';
import { MoshiPeer } from '../moshi/peer.ts';
import { Peer } from '../wire.ts';
import { testFrames, waitFor } from './engine.ts';

/** CPU time each step burns on top of the model's: the known part of the cost. */
const BURN_MS = 18;

let engine: EngineHost;
const servers: SolaceServer[] = [];
const peers: Peer[] = [];

beforeAll(async () => {
  engine = new EngineHost({ spec: resolveModel(undefined), blas: blasFromEnv(), testStepBurnMs: BURN_MS, cpuSampleMs: 200 });
  await engine.start();
  if (engine.state !== 'ok') throw new Error(`engine did not come up: ${engine.state} ${engine.reason ?? ''}`);
}, 60_000);
afterAll(async () => {
  await engine?.close();
});
afterEach(async () => {
  for (const p of peers.splice(0)) p.ws.terminate();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serve(options: ServerOptions, hooks: SessionHooks = {}) {
  const server = createServer({ port: 0, ...options }, engine, hooks);
  servers.push(server);
  return { server, url: (await server.start()).url };
}

/** Runs one fast session so the worker's CPU samples cover steps, then waits for the cost. */
async function measured(server: SolaceServer, url: string) {
  const c = await connect(url, { seed: 7, pace: 'fast' });
  expect((await c.run(testFrames(30))).ok).toBe(true);
  await waitFor(() => server.sessions.size === 0, 5000, 'the measuring session closed');
  // CPU per step, or the wall time per step where other processes stretch the steps beyond it.
  await waitFor(() => ['cpu', 'wall'].includes(server.health().admission?.basis ?? 'prior'), 10_000, 'a cost measured from the workers\' samples');
  return server.health().admission!;
}

describe('admission protects live sessions', () => {
  it('admits the N sessions the worker holds at the measured cost and refuses the N+1th (SERVER_BUSY, numbers, retry hint, 1013)', async () => {
    const { server, url } = await serve({ maxSessions: 50, maxLagMs: 60_000 });
    const a = await measured(server, url);
    // The burn is part of what was measured.
    expect(a.costMs!).toBeGreaterThanOrEqual(BURN_MS);
    expect(a).toMatchObject({ workers: 1, budgetMsPerWorker: DEFAULT_HEADROOM * STEP_PERIOD_MS, full: false });

    let peakEngineSessions = 0;
    const watch = setInterval(() => (peakEngineSessions = Math.max(peakEngineSessions, engine.sessionCount)), 10);
    const stepsBefore = engine.figures().steps;
    const frames = testFrames(75);
    // Sessions open one by one, each streaming 6 s in real time, until the server says busy.
    const runs: Promise<SessionResult>[] = [];
    let refused: unknown = null;
    while (refused === null && runs.length < 20) {
      const c = await connect(url, { seed: 100 + runs.length, pace: 'realtime' }).catch((e: unknown) => e);
      if (c instanceof Error) refused = c;
      else runs.push((c as Awaited<ReturnType<typeof connect>>).run(frames));
    }
    const n = runs.length;
    expect(refused).toMatchObject({ code: 'SERVER_BUSY' });
    // The wire of a refusal: the METADATA error with its retry hint, then close 1013.
    const late = new Peer(url);
    peers.push(late);
    await late.opened;
    late.send({ type: 'METADATA', data: { type: 'start', seed: 999 } as never });
    const close = await late.closeWithin(5000);
    // The same refusal on the Moshi wire: an error message (kind 0x05) naming the code, then 1013.
    const moshi = new MoshiPeer(`${url}/api/chat`);
    await moshi.opened;
    const moshiClose = await moshi.closeWithin(5000);
    const results = await Promise.all(runs);
    clearInterval(watch);

    expect(close.code).toBe(1013);
    expect(moshiClose.code).toBe(1013);
    expect(moshi.errors()).toEqual([expect.stringMatching(/^SERVER_BUSY: server busy: a session costs .* retry in \d+ s$/)]);
    const err = late.errors()[0] as ErrorMessage;
    expect(err).toMatchObject({ code: 'SERVER_BUSY', fatal: true });
    expect(err.retryAfterMs).toBeGreaterThan(0);
    // What a session costs, what the worker holds at that cost, what is left, when to retry.
    const m = /a session costs (\d+(?:\.\d)?) ms of engine (?:CPU|wall time) per step.*hold (\d+) sessions? and (\d+) are live \((\d+(?:\.\d)?) ms used, (\d+(?:\.\d)?) ms left\).*retry in (\d+) s/.exec(err.message);
    expect(m, err.message).not.toBeNull();
    const [cost, held, live] = [Number(m![1]), Number(m![2]), Number(m![3])];
    expect(cost).toBeGreaterThanOrEqual(BURN_MS);
    expect([held, live]).toEqual([n, n]);
    expect(n).toBe(Math.max(1, Math.floor((DEFAULT_HEADROOM * STEP_PERIOD_MS) / cost)));
    expect(Number(m![6]) * 1000).toBe(err.retryAfterMs);
    expect(server.health().admission!.refused.busy).toBe(3);
    expect(server.stats.counters.sessions_rejected).toBe(3);

    // The first N ran to their end with every frame answered; the newcomers never reached the
    // engine, so they took no step (and no time) from them.
    for (const r of results) {
      expect(r.errors).toEqual([]);
      expect(r.ended).toMatchObject({ steps: frames.length });
      expect(r.ok).toBe(true);
    }
    expect(peakEngineSessions).toBe(n);
    expect(engine.figures().steps - stepsBefore).toBe(n * frames.length);
  }, 120_000);
});

describe('a session that stays behind', () => {
  // Two workers with the model's own cost, no burn: the late session on one, the steady one on
  // the other, so the steady one's steps wait for none of the backlog's.
  let plain: EnginePool;
  beforeAll(async () => {
    plain = new EnginePool({ spec: resolveModel(undefined), blas: blasFromEnv(), engines: 2 });
    await plain.start();
    if (plain.state !== 'ok') throw new Error(`engine pool did not come up: ${plain.state} ${plain.reason ?? ''}`);
  }, 60_000);
  afterAll(async () => {
    await plain?.close();
  });

  it('is told FALLING_BEHIND and closed (1013, recorded as an event) once its frames wait maxLagMs for maxLagMs, while another session goes on', async () => {
    const records = new Map<string, FinishedStep[]>();
    // Admission by maxSessions alone: this is about a session behind its client, not about cost.
    const server = createServer({
      port: 0, maxSessions: 50, maxLagMs: 1000, admission: 'max-sessions', maxQueuedFrames: 300, inputBurst: 300,
    }, plain, { onStepFinished: (id, r) => records.set(id, [...(records.get(id) ?? []), r]) });
    servers.push(server);
    const { url } = await server.start();

    const behind = new Peer(url);
    peers.push(behind);
    await behind.opened;
    behind.send({ type: 'METADATA', data: { type: 'start', seed: 2 } as never });
    await behind.until((p) => p.metadata().some((m) => m.type === 'ready'), 10_000, 'ready');
    const id = (behind.metadata().find((m) => m.type === 'ready') as { session: string }).session;

    const steady = await connect(url, { seed: 1, pace: 'realtime' });
    const frames = testFrames(100);
    const run = steady.run(frames);
    await waitFor(() => [...records.keys()].some((k) => k !== id && records.get(k)!.length >= 5), 10_000, 'the steady session stepping');
    const steadyId = [...records.keys()].find((k) => k !== id)!;
    expect(plain.workerOf(steadyId)).not.toBe(plain.workerOf(id));

    // 19 s of audio at once (a stalled link delivering its backlog): frame k waits for the k
    // steps before it, so with steps of s ms every frame from 1000/s on waits over 1 s, for
    // (240 − 1000/s)·s ms ≥ 1.4 s at s ≥ 10 ms.
    const backlog = testFrames(240, 3).map((samples) => ({ type: 'AUDIO_CHUNK' as const, samples }));
    // In messages of 8 frames: a WebSocket message holds at most 16 packets (maxMessageBytes).
    for (let i = 0; i < backlog.length; i += 8) behind.send(...backlog.slice(i, i + 8));
    const close = await behind.closeWithin(60_000);

    expect(close.code).toBe(1013);
    const err = behind.errors().find((e) => e.code === 'FALLING_BEHIND');
    expect(err?.message).toMatch(/waited \d+ ms for the engine, and every frame for \d+ ms waited over 1000 ms/);
    // Recorded as an event of the step it ended on; the steps before it for 1 s were all behind.
    await waitFor(() => (records.get(id) ?? []).some((r) => r.events.some((e) => e.kind === 'error' && e.message.startsWith('FALLING_BEHIND'))), 5000, 'the event recorded');
    const mine = records.get(id)!;
    const last = mine.findIndex((r) => r.events.some((e) => e.kind === 'error'));
    const behindSteps = mine.slice(0, last + 1).filter((r) => r.doneAt >= mine[last]!.doneAt - 1000);
    for (const r of behindSteps) expect(r.spans['queue.wait']).toBeGreaterThanOrEqual(1000);

    const r = await run;
    expect(r.errors).toEqual([]);
    expect(r.close).toEqual({ code: 1000, reason: 'session ended' });
    expect(r.ended).toMatchObject({ steps: frames.length });
    expect(r.ok).toBe(true);
    expect(server.stats.events.error).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
