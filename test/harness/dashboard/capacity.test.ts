// The live view's capacity figures against a real server (two real engine workers, the
// measured-cost admission, GET /telemetry over HTTP): each worker's state, sessions, CPU and
// step p99, and admission's cost per step, capacity, admitted and refused counts and why it
// refuses, as the server reports them in /health; the plain (non-TTY) table says the same.
import { availableParallelism } from 'node:os';
import { render } from 'ink-testing-library';
import React from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admissionLines, workerRow } from '../../../harness/dashboard/capacity.ts';
import { ms } from '../../../harness/dashboard/format.ts';
import { LiveScreen } from '../../../harness/dashboard/live-view.ts';
import { liveSummary, liveTable, parseSummary } from '../../../harness/dashboard/plain.ts';
import { sseSource } from '../../../harness/dashboard/source.ts';
import { connect } from '../../../src/client/connect.ts';
import { blasFromEnv } from '../../../src/engine/blas.ts';
import type { WorkerFigures } from '../../../src/engine/host.ts';
import { resolveModel } from '../../../src/engine/models.ts';
import { EnginePool } from '../../../src/engine/pool.ts';
import { createServer, type SolaceServer } from '../../../src/server/server.ts';
import type { TelemetryAdmission, TelemetrySnapshot } from '../../../src/server/telemetry-stream.ts';
import { testFrames } from '../../server/live/engine.ts';
import { plainText } from './snapshots.ts';

let pool: EnginePool;
let server: SolaceServer;
let url: string;
let http: string;

beforeAll(async () => {
  pool = new EnginePool({ spec: resolveModel(undefined), blas: blasFromEnv(), engines: 2, cpuSampleMs: 200 });
  await pool.start();
  if (pool.state !== 'ok') throw new Error(`engine pool did not come up: ${pool.state} ${pool.reason ?? ''}`);
  // Two sessions at most, so a third is refused whatever a session costs here.
  server = createServer({ port: 0, maxSessions: 2 }, pool);
  ({ url } = await server.start());
  http = url.replace(/^ws:/, 'http:');
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await pool?.close();
});

/** The next /telemetry snapshot over HTTP that satisfies `pred`. */
function snapshotWhere(pred: (s: TelemetrySnapshot) => boolean, ms: number): Promise<TelemetrySnapshot> {
  return new Promise((resolve, reject) => {
    let last: TelemetrySnapshot | null = null;
    const t = setTimeout(() => {
      stop();
      reject(new Error(`no such snapshot within ${ms} ms; last: ${JSON.stringify(last?.admission)} ${JSON.stringify(last?.engine)}`));
    }, ms);
    const stop = sseSource({ url: http, hz: 10 })({
      onSnapshot: (s) => {
        last = s;
        if (!pred(s)) return;
        clearTimeout(t);
        stop();
        resolve(s);
      },
      onStatus: () => undefined,
    });
  });
}

type Health = { engine: { workers: WorkerFigures[] }; admission: TelemetryAdmission };

describe('the live view\'s capacity, from a real server', () => {
  it('shows each worker (state, sessions, CPU, step p99) and admission (cost, capacity, admitted/refused, why refusing) as /health reports them', async () => {
    // One real-time session per worker (least loaded at open), long enough for the cost to be measured.
    const clients = await Promise.all([1, 2].map((seed) => connect(url, { seed, pace: 'realtime' })));
    const runs = clients.map((c) => c.run(testFrames(60)));
    // A third is refused: the server is full.
    const refused = await connect(url, { seed: 3, pace: 'realtime' }).then(() => null, (e: Error & { code?: string }) => e);
    expect(refused?.code).toBe('SERVER_FULL');

    const snap = await snapshotWhere((s) => s.admission?.basis !== 'prior' && (s.engine.workers ?? []).every((w) => w.sessions === 1 && w.cpu !== null && w.stepP99Ms !== null), 15_000);
    const health = (await (await fetch(`${http}/health`)).json()) as Health;
    const a = snap.admission!;
    // The feed reports what /health reports.
    expect(a).toMatchObject({ mode: 'cost', live: 2, capacity: 2, maxSessions: 2, admitted: 2, refused: { busy: 0, full: 1 }, full: true });
    expect(health.admission).toMatchObject({ live: 2, capacity: 2, admitted: 2, refused: { busy: 0, full: 1 } });
    expect(snap.engine.workers!.map((w) => [w.state, w.pid, w.sessions])).toEqual(health.engine.workers.map((w) => [w.state, w.pid, w.sessions]));

    const r = render(React.createElement(LiveScreen, { snap, status: { kind: 'live', url: http }, view: 'capacity', selected: 0, paused: false, columns: 80, rows: 23 }));
    const lines = plainText(r.lastFrame()).split('\n');
    r.unmount();
    const text = lines.join('\n');
    expect(lines.length).toBeLessThanOrEqual(23);
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    // The header says the server would refuse.
    expect(lines[0]).toContain('REFUSING');
    // Admission: cost per step (with where it comes from), capacity, live, admitted and refused.
    expect(text).toContain('Admission by measured cost');
    expect(text).toContain(`cost per step ${ms(a.costMs)} ms (${a.basis === 'cpu' ? 'CPU' : 'wall time'} over the last ${a.measuredSteps} steps`);
    expect(text).toMatch(/capacity 2 = 2 workers × \d+ \(64 ms of each worker's 80 ms, at most 2\) · live 2/);
    expect(text).toContain('admitted 2 · refused 1 (busy 0, full 1)');
    // Why it refuses, in the server's words.
    expect(text.replace(/\n\s*/g, ' ')).toContain('REFUSING new sessions: server full: 2 of 2 sessions in use');
    // Each worker: state, pid, sessions, CPU and its own step p99.
    expect(lines.some((l) => /^worker\s+state\s+pid\s+sessions\s+cpu\s+step p99\s+steps\s+restarts$/.test(l))).toBe(true);
    snap.engine.workers!.forEach((w, i) => {
      // A process cannot use more CPU per second than the machine has cores (the rate once came out at 101 cores).
      expect(w.cpu!, `worker ${i} cpu`).toBeLessThanOrEqual(availableParallelism());
      const row = lines.find((l) => l.startsWith(`#${i} `))!;
      expect(row).toBe(workerRow(w, i));
      expect(row).toMatch(new RegExp(`^#${i}\\s+ok\\s+${w.pid}\\s+1\\s+${Math.round(w.cpu! * 100)}%\\s+${ms(w.stepP99Ms).replace('.', '\\.')} ms\\s+${w.steps}\\s+0$`));
    });

    // Off a terminal: the summary line and the final table carry the same figures.
    expect(parseSummary(liveSummary(snap)).fields).toMatchObject({ cost_ms: a.costMs, cost_basis: a.basis, capacity: 2, admitted: 2, refused: 1, accepting: 'no', workers_up: 2 });
    const table = liveTable(snap).split('\n');
    const flat = (t: string) => t.replace(/\s+/g, ' ');
    for (const l of admissionLines(a, snap.budgetMs)) expect(flat(table.join(' '))).toContain(flat(l));
    expect(flat(table.join(' '))).toContain('REFUSING new sessions: server full: 2 of 2 sessions in use');
    snap.engine.workers!.forEach((w, i) => expect(table).toContain(workerRow(w, i)));

    for (const x of await Promise.all(runs)) expect(x.ok).toBe(true);
  }, 90_000);
});
