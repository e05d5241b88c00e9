// Two engine worker processes behind one server (serve --engines 2): concurrent sessions
// land on different workers and keep both busy, a worker killed mid-session loses only its
// own session while the other serves on, and sessions from either worker replay bit-exactly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../../src/client/connect.ts';
import { blasFromEnv } from '../../../src/engine/blas.ts';
import { resolveModel } from '../../../src/engine/models.ts';
import { EnginePool } from '../../../src/engine/pool.ts';
import { createServer, type SolaceServer } from '../../../src/server/server.ts';
import type { WorkerFigures } from '../../../src/engine/host.ts';
import { openSession } from '../../../harness/format/node.ts';
import { Recorder } from '../../../harness/recorder.ts';
import { replaySession } from '../../../harness/replayer.ts';
import { testFrames, waitFor } from './engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'solacelive-pool-'));
let pool: EnginePool;
let server: SolaceServer | undefined;

beforeAll(async () => {
  // The killed worker waits 5 s before it comes back: long enough to see a session open
  // on the survivor meanwhile, whatever this machine's load.
  pool = new EnginePool({ spec: resolveModel(process.env.SOLACELIVE_TEST_MODEL, () => undefined), blas: blasFromEnv(), engines: 2, restartDelayMs: 5000 });
  const info = await pool.start();
  if (!info || pool.state !== 'ok') throw new Error(`pool did not come up: ${pool.state}: ${pool.reason}`);
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Health = { status: string; engine: { state: string; reason: string | null; restarts: number; workers: (WorkerFigures & { index: number })[] } };
const health = async (url: string) => {
  const r = await fetch(url.replace('ws:', 'http:') + '/health');
  return { code: r.status, body: (await r.json()) as Health };
};
const POOL_ADMISSION = { admission: 'max-sessions', maxSessions: 8 } as const;
/**
 * The pool serves: the engine's state on /health (its HTTP status also reads admission and the
 * live sessions' end-to-end budget, which a loaded machine can fail; see health-capacity.test.ts).
 */
const serving = (h: { code: number; body: Health }) => {
  expect(h.body.engine.state).toBe('ok');
  expect(h.code).toBe(h.body.status === 'ok' ? 200 : 503);
  expect(['ok', 'degraded']).toContain(h.body.status);
};
const cpuMs = () => Promise.all(pool.hosts.map(async (h) => (await h.stats()).cpuUs / 1000));

describe('engine pool (two workers)', () => {
  it('puts two concurrent sessions on different workers, keeps both busy, lists both on /health, and each session replays bit-exactly', async () => {
    const paths = new Map<string, string>();
    const recorder = new Recorder({ dir: join(dir, 'rec'), mode: 'all', engineInfo: () => pool.info, onClosed: (id, path) => paths.set(id, path) });
    // The pool is under test, not admission: a fixed bound, so a loaded machine's measured cost
    // or late live sessions (which refuse newcomers) do not refuse the sessions this test places.
    server = createServer({ port: 0, ...POOL_ADMISSION }, pool, recorder);
    const { url } = await server.start();
    const cpu0 = await cpuMs();
    const [a, b] = await Promise.all([connect(url, { seed: 1, pace: 'realtime' }), connect(url, { seed: 2, pace: 'realtime' })]);
    const wa = pool.workerOf(a.session)!;
    const wb = pool.workerOf(b.session)!;
    expect([wa, wb].sort()).toEqual([0, 1]);
    const during = await health(url);
    serving(during);
    expect(during.body.engine.workers.map((w) => [w.index, w.state, w.sessions])).toEqual([[0, 'ok', 1], [1, 'ok', 1]]);
    // The dashboard's snapshot carries the same per-worker figures.
    expect(server.telemetry.snapshot().engine.workers?.map((w) => [w.pid, w.sessions])).toEqual(during.body.engine.workers.map((w) => [w.pid, 1]));
    const [ra, rb] = await Promise.all([a.run(testFrames(40, 1)), b.run(testFrames(40, 2))]);
    const cpu1 = await cpuMs();
    expect(ra.ok && rb.ok).toBe(true);
    await server.stop();
    server = undefined;

    // Both processes computed: two like sessions give each worker about half the CPU the
    // pair spent (a worker idle while the other did both sessions would show ~0). Shares,
    // not step times: on a loaded machine a step's wall time includes waiting for a core.
    const spent = cpu1.map((c, i) => c - cpu0[i]!);
    const sum = spent[0]! + spent[1]!;
    expect(sum).toBeGreaterThan(0);
    for (const w of [0, 1]) expect(spent[w]! / sum, `worker ${w}'s share of the CPU (${spent.map((x) => x.toFixed(0)).join(', ')} ms)`).toBeGreaterThan(0.3);

    const h = during.body.engine.workers;
    expect(new Set(h.map((w) => w.pid)).size).toBe(2);
    for (const w of h) {
      expect(w.pid).toBeGreaterThan(0);
      expect(w).toMatchObject({ state: 'ok', reason: null, restarts: 0 });
      for (const k of ['steps', 'stepP99Ms', 'cpu', 'cpuMs'] as const) expect(w).toHaveProperty(k);
    }
    const after = pool.workers;
    for (const w of after) {
      expect(w.steps).toBeGreaterThanOrEqual(40);
      expect(w.stepP99Ms).toBeGreaterThan(0);
    }

    for (const [id, w] of [[a.session, wa], [b.session, wb]] as const) {
      const path = paths.get(id)!;
      const m = (await openSession(path)).manifest;
      // The manifest records the platform of the worker the session ran on.
      expect(m.platform).toEqual(pool.hosts[w]!.info!.fingerprint);
      // Replayed on one engine process pinned as recorded (the replay path), not the pool.
      const r = await replaySession(path);
      expect(r.stepsReplayed).toBe(40);
      const allowed = r.fingerprintDiffs.length === 0 ? ['bit-exact'] : ['bit-exact', 'token-exact'];
      expect(allowed, `session on worker ${w}`).toContain(r.verdict);
    }
  }, 180_000);

  it('kill -9 of one worker: its session is told (ENGINE_RESTARTED, 1013), the other runs to its end, a new session lands on the survivor, and later ones use both again', async () => {
    server = createServer({ port: 0, ...POOL_ADMISSION }, pool);
    const { url } = await server.start();
    const restarts0 = pool.restartCount;
    const [a, b] = await Promise.all([connect(url, { seed: 3, pace: 'realtime' }), connect(url, { seed: 4, pace: 'realtime' })]);
    const victim = pool.workerOf(a.session)!;
    const survivor = pool.workerOf(b.session)!;
    expect(victim).not.toBe(survivor);
    const streamingA = a.stream(testFrames(100, 3));
    const runB = b.run(testFrames(100, 4));
    await waitFor(() => pool.workers[victim]!.steps >= 10, 30_000, '10 steps on the victim');
    const pid = pool.workers[victim]!.pid!;
    process.kill(pid, 'SIGKILL');

    const closed = await Promise.race([a.closed, new Promise<never>((_, no) => setTimeout(() => no(new Error('session not closed within 10 s')), 10_000))]);
    expect(closed.code).toBe(1013);
    expect(a.result().errors.at(-1)).toMatchObject({ code: 'ENGINE_RESTARTED', fatal: true });
    await streamingA;

    // While the victim restarts: the server still serves (200), says which worker is down, and opens new sessions on the survivor.
    const down = await health(url);
    expect(down.body.engine.workers[victim]!.state).toBe('restarting');
    serving(down);
    expect(down.body.engine.reason).toMatch(new RegExp(`worker ${victim} restarting`));
    const metrics = await (await fetch(url.replace('ws:', 'http:') + '/metrics')).text();
    expect(metrics).toMatch(/^solacelive_engine_up 1$/m);
    expect(metrics).toMatch(/^solacelive_engine_workers 2$/m);
    expect(metrics).toMatch(/^solacelive_engine_workers_up 1$/m);
    const c = await connect(url, { seed: 5, pace: 'fast' });
    expect(pool.workerOf(c.session)).toBe(survivor);
    expect(pool.workers[victim]!.state).not.toBe('ok');
    const rc = await c.run(testFrames(10, 5));
    expect(rc.ok).toBe(true);

    const rb = await runB;
    expect(rb.ok).toBe(true);
    expect(rb.ended?.steps).toBe(100);
    expect(rb.errors).toEqual([]);

    await waitFor(() => pool.workers[victim]!.state === 'ok', 60_000, 'the killed worker to restart');
    expect(pool.workers[victim]!.pid).not.toBe(pid);
    expect(pool.restartCount).toBe(restarts0 + 1);
    const back = await health(url);
    serving(back);
    expect(back.body.engine.reason).toBeNull();
    expect(back.body.engine.workers[victim]!.restarts).toBe(1);

    const [d, e] = await Promise.all([connect(url, { seed: 6, pace: 'fast' }), connect(url, { seed: 7, pace: 'fast' })]);
    expect([pool.workerOf(d.session), pool.workerOf(e.session)].sort()).toEqual([0, 1]);
    const [rd, re] = await Promise.all([d.run(testFrames(10, 6)), e.run(testFrames(10, 7))]);
    expect(rd.ok && re.ok).toBe(true);

    // Every worker down: now the server cannot serve, and /health says so with a 503.
    for (const w of pool.workers) process.kill(w.pid!, 'SIGKILL');
    await waitFor(() => pool.state !== 'ok', 10_000, 'the pool to see both workers gone');
    const none = await health(url);
    expect(none.code).toBe(503);
    expect(none.body.status).toBe('restarting');
    await waitFor(() => pool.workers.every((w) => w.state === 'ok'), 60_000, 'both workers to restart');
  }, 180_000);
});
