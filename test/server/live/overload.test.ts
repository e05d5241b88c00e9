// Overload is visible (issue 16): with more real-time clients than the engine holds, /health,
// the /telemetry snapshot and the recorded sessions' summaries all report budget misses and
// "falls behind", because the budget counts frame in → reply out (e2e) and not the model's
// work alone; with one client on an engine that keeps up, none of them does. The overload is
// made by a test-only sleep in each model step (slow-steps.ts), so it holds on any machine:
// three sessions that each need ≥ 45 ms of engine time per 80 ms frame (135 ms of work per
// 80 ms) cannot all keep up, while one step alone still fits the budget on a loaded machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../../src/client/connect.ts';
import { blasFromEnv } from '../../../src/engine/blas.ts';
import { EngineHost } from '../../../src/engine/host.ts';
import { resolveModel } from '../../../src/engine/models.ts';
import { createServer, type SolaceServer } from '../../../src/server/server.ts';
import { summarize, type BudgetVerdict } from '../../../src/telemetry/window.ts';
import { openSession } from '../../../harness/format/node.ts';
import type { ReadStep } from '../../../harness/format/steps.ts';
import { Recorder } from '../../../harness/recorder.ts';
import { sessionStats } from '../../../harness/view/stats.ts';
import { testFrames } from './engine.ts';

const SLEEP_MS = 45;
const FRAMES = 25;
const dir = mkdtempSync(join(tmpdir(), 'solacelive-overload-'));
const engines: EngineHost[] = [];
const servers: SolaceServer[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all(engines.map((e) => e.close()));
  rmSync(dir, { recursive: true, force: true });
});

type Health = { budgetMisses: number; engineMisses: number; keepsUp: boolean | null; realTimeFactor: number | null; budget: BudgetVerdict; steps: number };

/** A server on its own engine (each step slowed by `sleepMs` when given) that records every session; `clients` real-time clients stream FRAMES frames each. */
async function run(name: string, clients: number, sleepMs: number | null) {
  const engine = new EngineHost({
    spec: resolveModel(process.env.SOLACELIVE_TEST_MODEL, () => undefined),
    blas: blasFromEnv(),
    ...(sleepMs === null ? {} : { testPreload: new URL(`./slow-steps.ts?ms=${sleepMs}`, import.meta.url).href }),
  });
  engines.push(engine);
  const info = await engine.start();
  if (!info || engine.state !== 'ok') throw new Error(`engine did not come up: ${engine.state}: ${engine.reason}`);
  const paths: string[] = [];
  const recorder = new Recorder({ dir: join(dir, name), mode: 'all', engineInfo: () => engine.info, onClosed: (_id, path) => paths.push(path) });
  // Overload on purpose: admission by the session bound alone, or it would refuse what this test needs.
  const server = createServer({ port: 0, maxSessions: clients, admission: 'max-sessions' }, engine, recorder);
  servers.push(server);
  const { url } = await server.start();
  const conns = await Promise.all(Array.from({ length: clients }, (_, i) => connect(url, { seed: i + 1, pace: 'realtime' })));
  const results = await Promise.all(conns.map((c, i) => c.run(testFrames(FRAMES, i + 1))));
  for (const r of results) expect(r.ok, 'every client got every reply').toBe(true);
  const health = (await (await fetch(`${url.replace('ws:', 'http:')}/health`)).json()) as Health;
  const metrics = await (await fetch(`${url.replace('ws:', 'http:')}/metrics`)).text();
  const snap = server.telemetry.snapshot();
  await server.stop();
  const recorded = await Promise.all(paths.map(async (p) => {
    const steps: ReadStep[] = [];
    for await (const s of (await openSession(p)).steps()) steps.push(s);
    return { steps, stats: sessionStats(steps) };
  }));
  expect(recorded).toHaveLength(clients);
  return { health, metrics, snap, recorded, results };
}

describe('overload is visible', () => {
  it('more real-time clients than the engine holds: /health, /telemetry and the recordings report misses and "falls behind"', async () => {
    const { health, metrics, snap, recorded } = await run('over', 3, SLEEP_MS);
    expect(metrics).toMatch(/^solacelive_keeps_up 0$/m);
    expect(metrics).toMatch(new RegExp(`^solacelive_budget_misses_total ${health.budgetMisses}$`, 'm'));
    expect(metrics).toMatch(/^solacelive_span_ms\{span="e2e",quantile="0\.99"\} \d/m);
    expect(health.steps).toBe(3 * FRAMES);
    expect(health.budgetMisses).toBeGreaterThan(0);
    expect(health.keepsUp).toBe(false);
    expect(health.budget).toMatchObject({ keepsUp: false });
    expect(health.budget.misses).toBeGreaterThan(0);
    // End to end, replies fall behind the frame period; the engine's own figure is apart.
    expect(health.realTimeFactor!).toBeGreaterThan(1);
    expect(health.budget.realTimeFactor!).toBeGreaterThan(health.budget.engineRealTimeFactor!);
    // More misses end to end than the model's work alone would show: the queueing is counted. (A
    // machine so loaded that every step misses on the engine alone leaves no room to show it:
    // a full-suite run beside a CPU burner had 75 of 75 with the sleep at 60 ms.)
    expect(health.budgetMisses).toBeGreaterThanOrEqual(health.engineMisses);
    if (health.engineMisses < health.steps) expect(health.budgetMisses).toBeGreaterThan(health.engineMisses);

    expect(snap.budgetMisses).toBe(health.budgetMisses);
    expect(snap.budget?.keepsUp).toBe(false);
    expect(snap.spans.e2e!.p99).toBeGreaterThan(80);
    expect(snap.e2es!.some((x) => x > 80)).toBe(true);
    for (const s of snap.sessions) {
      expect(s.budgetMisses, `session ${s.id}`).toBeGreaterThan(0);
      expect(s.keepsUp, `session ${s.id}`).toBe(false);
    }

    // The recordings carry the measured e2e, and their summary says the same.
    let misses = 0;
    for (const { steps, stats } of recorded) {
      expect(steps.every((s) => typeof s.spans.e2e === 'number')).toBe(true);
      expect(stats.budgetMisses).toBeGreaterThan(0);
      expect(stats.keepsUp).toBe(false);
      expect(stats.realTimeFactor!).toBeGreaterThan(1);
      misses += stats.budgetMisses;
    }
    expect(misses).toBe(health.budgetMisses);
  }, 180_000);

  it('one real-time client: the server reports no miss its client did not see, and none while the client got every reply in time', async () => {
    // Whether one tiny session keeps up is the machine's doing (a loaded shared CPU does not);
    // what the server must never do is report a better or worse budget than its client saw.
    // Each reply's e2e (frame arrived → reply written) lies inside the client's own frame
    // sent → audio back, so every order statistic of the server's e2e is at most the client's.
    const { health, snap, recorded, results } = await run('few', 1, null);
    expect(health.steps).toBe(FRAMES);
    const client = results[0]!.latency;
    const answered = recorded[0]!.steps.filter((s) => s.pcmHash !== null && !s.events.some((e) => e.kind === 'missing-frame'));
    expect(client.count).toBe(answered.length);
    const e2e = summarize(answered.map((s) => s.spans.e2e!));
    for (const q of ['p50', 'p95', 'p99', 'max'] as const) expect(e2e[q], `${q}: server e2e vs client latency`).toBeLessThanOrEqual(client[q]);
    // The three views agree with each other.
    expect(snap.budgetMisses).toBe(health.budgetMisses);
    expect(recorded[0]!.stats.budgetMisses).toBe(health.budgetMisses);
    expect(snap.budget?.keepsUp).toBe(health.keepsUp);
    expect(recorded[0]!.stats.keepsUp).toBe(health.keepsUp);
    expect(snap.sessions[0]!.keepsUp).toBe(health.keepsUp);
    // A client that got every reply within the budget (and warm-up steps, which send no
    // audio, within it too): no misses anywhere, "keeps up". On a machine too loaded for one
    // tiny session the client saw the misses, and the domination above is what holds.
    const warmup = recorded[0]!.steps.filter((s) => s.pcmHash === null);
    if (client.max <= 80 && warmup.every((s) => s.spans.e2e! <= 80)) {
      expect(health.budgetMisses).toBe(0);
      expect(health.keepsUp).toBe(true);
    }
  }, 120_000);
});
