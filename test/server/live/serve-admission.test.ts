// A `solacelive serve` with no capacity flags (only --port 0, so it cannot collide with another
// server) admits exactly the sessions its measured cost gives, refuses the next one with
// SERVER_BUSY (message, retry hint, close 1013) on a real socket, and the admitted ones keep the
// end-to-end budget. The per-step cost is made known on any machine by the engine's test-only CPU
// burn (testStepBurnMs), set in the forked workers by a preload (step-burn.ts); the expected
// number is derived from what the server itself reports, never from this machine.
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionResult } from '../../../src/client/client.ts';
import { connect } from '../../../src/client/connect.ts';
import { DEFAULT_HEADROOM, STEP_PERIOD_MS, type AdmissionState } from '../../../src/server/admission.ts';
import type { ErrorMessage } from '../../../src/server/messages.ts';
import { SERVER_DEFAULTS } from '../../../src/server/options.ts';
import type { SessionFigures } from '../../../src/server/telemetry-stream.ts';
import { sseSource } from '../../../harness/dashboard/source.ts';
import { CliProcesses } from '../../cli-process.ts';
import { Peer } from '../wire.ts';
import { testFrames } from './engine.ts';

/** CPU each step burns on top of the model's: with the tiny model's own, a few sessions per worker. */
const BURN_MS = 12;
const cli = new CliProcesses();
let url: string;
let http: string;

beforeAll(async () => {
  const preload = new URL(`./step-burn.ts?ms=${BURN_MS}`, import.meta.url).href;
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`.trim() };
  ({ url } = await cli.serve(['--port', '0'], 90_000, true, env));
  http = url.replace(/^ws:/, 'http:');
}, 120_000);
afterAll(() => cli.killAll());

type Health = { status: string; engine: { workers: { state: string }[] }; admission: AdmissionState & { mode: string } };
const health = async () => (await (await fetch(`${http}/health`)).json()) as Health;

/**
 * Each session's latest figures from /telemetry (the live view's feed), kept as they come:
 * the feed lists only the last few closed sessions, so a session's figures are read while it runs.
 */
function watchSessions(): { figures: Map<string, SessionFigures>; stop: () => void } {
  const figures = new Map<string, SessionFigures>();
  const stop = sseSource({ url: http, hz: 5 })({
    onSnapshot: (s) => {
      for (const x of s.sessions) figures.set(x.id, x);
    },
    onStatus: () => undefined,
  });
  return { figures, stop };
}

describe('flag-less serve: admission by the measured cost, end to end', () => {
  it('admits the capacity its measured cost gives, refuses the next with SERVER_BUSY (retry hint, 1013), and the admitted keep their budget', async () => {
    const first = await health();
    // Defaults: admission by cost, one engine worker per core, the safety cap far above.
    expect(first.admission).toMatchObject({ mode: 'cost', maxSessions: SERVER_DEFAULTS.maxSessions });
    expect(first.engine.workers).toHaveLength(availableParallelism());

    // The first steps are the measurement: one real-time session per worker.
    const warm = await Promise.all(first.engine.workers.map((_, i) => connect(url, { seed: 50 + i, pace: 'realtime' })));
    for (const r of await Promise.all(warm.map((c) => c.run(testFrames(30))))) expect(r.ok).toBe(true);
    let measured = await health();
    const end = performance.now() + 10_000;
    while (measured.admission.basis === 'prior' && performance.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      measured = await health();
    }
    expect(['cpu', 'wall']).toContain(measured.admission.basis);
    // The burn is part of what was measured.
    expect(measured.admission.costMs!).toBeGreaterThanOrEqual(BURN_MS);

    // Real-time sessions open one by one, each streaming 10 s, until the server says no. At
    // least 100 steps each, so "keeps up" (e2e p99 <= 80 ms) means what it does everywhere: at
    // most 1 % of the steps late, not none.
    const watch = watchSessions();
    const frames = testFrames(125);
    const runs: Promise<SessionResult>[] = [];
    const ids: string[] = [];
    let refused: (Error & { code?: string }) | null = null;
    while (refused === null && runs.length < 2 * SERVER_DEFAULTS.maxSessions) {
      const c = await connect(url, { seed: 100 + runs.length, pace: 'realtime' }).catch((e: Error) => e);
      if (c instanceof Error) refused = c;
      else {
        ids.push(c.session);
        runs.push(c.run(frames));
      }
    }
    const n = runs.length;
    expect(refused?.code, refused?.message).toBe('SERVER_BUSY');
    // The same refusal on the wire: a METADATA error with its retry hint, then close 1013.
    const late = new Peer(url);
    await late.opened;
    late.send({ type: 'METADATA', data: { type: 'start', seed: 999 } as never });
    const close = await late.closeWithin(5000);
    expect(close.code).toBe(1013);
    const err = late.errors()[0] as ErrorMessage;
    expect(err).toMatchObject({ code: 'SERVER_BUSY', fatal: true });
    expect(err.retryAfterMs).toBeGreaterThan(0);
    const atRefusal = (await health()).admission;
    const results = await Promise.all(runs);

    // What the server said: a session's cost, the workers, what they hold and what is live.
    const m = /a session costs (\d+(?:\.\d)?) ms of engine (?:CPU|wall time) per step.*; (\d+) engine workers? × (\d+(?:\.\d)?) ms per 80 ms step .*hold (\d+) sessions? and (\d+) are live.*retry in (\d+) s$/.exec(refused!.message);
    expect(m, refused!.message).not.toBeNull();
    const [cost, workers, perWorker, held, live, retryS] = m!.slice(1).map(Number) as [number, number, number, number, number, number];
    expect(workers).toBe(availableParallelism());
    expect(perWorker).toBe(DEFAULT_HEADROOM * STEP_PERIOD_MS);
    expect(Number(retryS) * 1000).toBe(err.retryAfterMs);
    // Exactly the capacity that cost gives: workers × floor(budget per worker / cost).
    const capacity = Math.min(SERVER_DEFAULTS.maxSessions, workers * Math.max(1, Math.floor(perWorker / cost)));
    expect(held).toBe(capacity);
    expect([n, live]).toEqual([capacity, capacity]);
    expect(atRefusal).toMatchObject({ live: n, refused: { busy: 2, full: 0 } });

    // The admitted ones ran to their end, every frame answered, within the end-to-end budget.
    for (const r of results) {
      expect(r.errors).toEqual([]);
      expect(r.ended).toMatchObject({ steps: frames.length });
      expect(r.ok).toBe(true);
    }
    // The last snapshots (5 a second) see each session closed, with its figures to the end.
    await new Promise((r) => setTimeout(r, 600));
    watch.stop();
    for (const id of ids) {
      const s = watch.figures.get(id);
      expect(s, `session ${id} in the telemetry`).toBeDefined();
      expect(s!.e2e?.count, id).toBe(frames.length);
      expect(s!.keepsUp, `session ${id} of ${n} at ${cost} ms per step (${measured.admission.basis}): e2e ${JSON.stringify(s!.e2e)}, misses ${s!.budgetMisses}`).toBe(true);
    }
  }, 180_000);
});
