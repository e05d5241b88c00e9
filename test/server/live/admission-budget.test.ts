// Admission by cost against the real engine, made deterministic by a test-only CPU burn per
// step (EngineHostOptions.testStepBurnMs): the server measures what a session costs from the
// worker's own CPU samples, admits the N sessions one worker holds at that cost, refuses the
// N+1th with SERVER_BUSY, the numbers and a retry hint, and close 1013, and the newcomer
// takes no step from the N. A real-time session far behind its client (maxLagMs) is told
// FALLING_BEHIND and closed while a session on the same worker goes on.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../../src/client/connect.ts';
import { blasFromEnv } from '../../../src/engine/blas.ts';
import { EngineHost } from '../../../src/engine/host.ts';
import { resolveModel } from '../../../src/engine/models.ts';
import type { FinishedStep } from '../../../src/engine/step-record.ts';
import { DEFAULT_HEADROOM, STEP_PERIOD_MS } from '../../../src/server/admission.ts';
import type { SessionHooks } from '../../../src/server/hooks.ts';
import type { ErrorMessage } from '../../../src/server/messages.ts';
import type { ServerOptions } from '../../../src/server/options.ts';
import { createServer, type SolaceServer } from '../../../src/server/server.ts';
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
  await waitFor(() => server.health().admission?.basis === 'cpu', 10_000, 'a cost measured from CPU samples');
  return server.health().admission!;
}

const started = (server: SolaceServer) => [...server.sessions.values()].filter((s) => s.started && s.state === 'streaming').length;

describe('admission protects live sessions', () => {
  it('admits the N sessions the worker holds at the measured cost and refuses the N+1th (SERVER_BUSY, numbers, retry hint, 1013)', async () => {
    const { server, url } = await serve({ maxSessions: 50, maxLagMs: 60_000 });
    const a = await measured(server, url);
    // The burn is part of what was measured; the capacity follows from the cost.
    expect(a.costMs!).toBeGreaterThanOrEqual(BURN_MS);
    const n = Math.max(1, Math.floor((DEFAULT_HEADROOM * STEP_PERIOD_MS) / a.costMs!));
    expect(a).toMatchObject({ workers: 1, capacity: n, budgetMsPerWorker: DEFAULT_HEADROOM * STEP_PERIOD_MS, full: false });

    let peakEngineSessions = 0;
    const watch = setInterval(() => (peakEngineSessions = Math.max(peakEngineSessions, engine.sessionCount)), 10);
    const stepsBefore = engine.figures().steps;
    const frames = testFrames(30);
    const clients = await Promise.all(Array.from({ length: n }, (_, i) => connect(url, { seed: 100 + i, pace: 'realtime' })));
    const runs = clients.map((c) => c.run(frames));
    await waitFor(() => started(server) === n, 10_000, `${n} sessions streaming`);

    const late = new Peer(url);
    peers.push(late);
    await late.opened;
    late.send({ type: 'METADATA', data: { type: 'start', seed: 999 } as never });
    const close = await late.closeWithin(5000);
    const results = await Promise.all(runs);
    clearInterval(watch);

    expect(close.code).toBe(1013);
    const err = late.errors()[0] as ErrorMessage;
    expect(err).toMatchObject({ code: 'SERVER_BUSY', fatal: true });
    expect(err.retryAfterMs).toBeGreaterThan(0);
    const cost = server.health().admission!;
    // What it costs, what is held and what is left, when to retry.
    expect(err.message).toMatch(/a session costs \d+(\.\d)? ms of engine CPU per step/);
    expect(err.message).toContain(`hold ${n} session${n === 1 ? '' : 's'} and ${n} are live`);
    expect(err.message).toMatch(/ms left/);
    expect(err.message).toContain(`retry in ${err.retryAfterMs! / 1000} s`);
    expect(cost.refused.busy).toBe(1);
    expect(server.stats.counters.sessions_rejected).toBe(1);

    // The first N ran to their end with every frame answered; the newcomer never reached the
    // engine, so it took no step (and no time) from them.
    for (const r of results) {
      expect(r.ok).toBe(true);
      expect(r.ended).toMatchObject({ steps: frames.length });
      expect(r.errors).toEqual([]);
    }
    expect(peakEngineSessions).toBe(n);
    expect(engine.figures().steps - stepsBefore).toBe(n * frames.length);
  }, 90_000);

  it('closes a real-time session that is more than maxLagMs behind (FALLING_BEHIND, 1013, recorded) while another on the same worker goes on', async () => {
    const records = new Map<string, FinishedStep[]>();
    // Admission by maxSessions alone: this is about a session behind its client, not about cost.
    const { server, url } = await serve({ maxSessions: 50, maxLagMs: 400, admission: 'max-sessions' }, {
      onStepFinished: (id, r) => records.set(id, [...(records.get(id) ?? []), r]),
    });
    const steady = await connect(url, { seed: 1, pace: 'realtime' });
    const frames = testFrames(40);
    const run = steady.run(frames);

    // A client 3.2 s behind at once (a stalled link delivering its backlog): the last of its
    // frames wait 40 × the step cost (≥ 40 × 18 ms) for the engine, well past 400 ms.
    const behind = new Peer(url);
    peers.push(behind);
    await behind.opened;
    behind.send({ type: 'METADATA', data: { type: 'start', seed: 2 } as never });
    await behind.until((p) => p.metadata().some((m) => m.type === 'ready'), 10_000, 'ready');
    const id = (behind.metadata().find((m) => m.type === 'ready') as { session: string }).session;
    const backlog = testFrames(40, 3).map((samples) => ({ type: 'AUDIO_CHUNK' as const, samples }));
    // In messages of 8 frames: a WebSocket message holds at most 16 packets (maxMessageBytes).
    for (let i = 0; i < backlog.length; i += 8) behind.send(...backlog.slice(i, i + 8));
    const close = await behind.closeWithin(20_000);

    expect(close.code).toBe(1013);
    const err = behind.errors().find((e) => e.code === 'FALLING_BEHIND');
    expect(err?.message).toMatch(/waited \d+ ms for the engine \(limit 400 ms\)/);
    // Recorded as an event of the step it ended on.
    await waitFor(() => (records.get(id) ?? []).some((r) => r.events.some((e) => e.kind === 'error' && e.message.startsWith('FALLING_BEHIND'))), 5000, 'the event recorded');
    const last = records.get(id)!.find((r) => r.events.some((e) => e.kind === 'error'))!;
    expect(last.spans['queue.wait']).toBeGreaterThanOrEqual(400);

    const r = await run;
    expect(r.ok).toBe(true);
    expect(r.ended).toMatchObject({ steps: frames.length });
    expect(r.errors).toEqual([]);
    expect(server.stats.events.error).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
