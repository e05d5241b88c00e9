// The progress dashboards off a terminal, as bench and replay use them: bench figures as
// lines when measured and a final table; replay lines, the divergence at once, a final line.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { attachBenchDashboard } from '../../../harness/dashboard/bench.ts';
import type { BenchFigure, ReplayProgress } from '../../../harness/dashboard/events.ts';
import { parseSummary } from '../../../harness/dashboard/plain.ts';
import { attachReplayDashboard } from '../../../harness/dashboard/replay.ts';

function sink() {
  const s = new PassThrough();
  let text = '';
  s.on('data', (d) => (text += d));
  return { stream: s as unknown as NodeJS.WriteStream, text: () => text };
}

describe('attachBenchDashboard (plain)', () => {
  it('prints each figure as it comes and the table at finish', async () => {
    const out = sink();
    const d = attachBenchDashboard({ interactive: false, stdout: out.stream });
    const fig: BenchFigure = { suite: 'step', name: 'step.total', span: 'step.total', samples: 300, p50: 21, p95: 30, p99: 41, rme: 0.8, cv: 6, budgetFraction: 0.5 };
    d.onProgress({ kind: 'suite-start', suite: 'step', tasks: ['step.total'] });
    d.onProgress({ kind: 'figure', figure: fig });
    expect(out.text().trim().split('\n').map((l) => parseSummary(l).word)).toEqual(['bench-suite', 'bench']);
    d.onProgress({ kind: 'suite-done', suite: 'step' });
    d.onProgress({ kind: 'done', figures: [fig], warnings: ['load average 2.5'] });
    await d.finish();
    const lines = out.text().trim().split('\n');
    expect(lines.at(-2)).toMatch(/^step\s+step\.total\s+300\s+21\s+30\s+41\s+0\.8\s+6\s+50\.0%$/);
    expect(lines.at(-1)).toBe('warning: load average 2.5');
  });
});

describe('attachReplayDashboard (plain)', () => {
  it('prints the divergence the moment it is reported and a final line, whatever the period', async () => {
    const out = sink();
    const d = attachReplayDashboard({ interactive: false, stdout: out.stream, periodMs: 60_000 });
    const base: ReplayProgress = { kind: 'replay', session: 's', stepsDone: 1, stepsTotal: 9, speed: 2, verdict: 'running', done: false };
    d.onProgress(base);
    d.onProgress({ ...base, stepsDone: 2 });
    d.onProgress({ ...base, stepsDone: 3, verdict: 'diverged', firstDivergence: { step: 2, detail: 'text: recorded 1, replayed 2' } });
    d.onProgress({ ...base, stepsDone: 4, verdict: 'diverged', firstDivergence: { step: 2, detail: 'text: recorded 1, replayed 2' } });
    d.onProgress({ ...base, stepsDone: 6, verdict: 'diverged', firstDivergence: { step: 2, detail: 'text: recorded 1, replayed 2' }, done: true });
    await d.finish();
    const lines = out.text().trim().split('\n').map(parseSummary);
    // The first line (period start), the divergence once, the final line.
    expect(lines.map((l) => l.word)).toEqual(['replay', 'replay-diverged', 'replay']);
    expect(lines[1]!.fields).toEqual({ session: 's', step: 2, detail: 'text: recorded 1, replayed 2' });
    expect(lines[2]!.fields).toMatchObject({ step: 6, verdict: 'diverged', first_divergence: 2, done: 'yes' });
  });
});
