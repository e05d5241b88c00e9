// Non-TTY output: summary lines read back into the figures they came from, the same input
// prints the same bytes, strings with spaces stay one field, and the tables have fixed columns.
import { describe, expect, it } from 'vitest';
import { benchFigureLine, benchTable, divergenceLine, liveSummary, liveTable, parseSummary, replaySummary } from '../../../harness/dashboard/plain.ts';
import { session, snapshot, stats } from './snapshots.ts';

describe('live summary line', () => {
  it('reads back into the snapshot\'s figures, in a fixed key order', () => {
    const snap = snapshot({
      t: 12_345, steps: 250, budgetMisses: 3, frames: { late: 4, missing: 5, dropped: 6 }, droppedPartials: 7, skippedDecodes: 8, errors: 9,
      queue: { inputFrames: 2, sendBytes: 7680 }, realTimeFactor: 1.5,
      budget: { window: 250, misses: 3, keepsUp: false, realTimeFactor: 1.5, engineRealTimeFactor: 0.412 },
      spans: { 'step.total': stats(31.25, 40.5, 77.75, 90), e2e: stats(60, 200, 400, 500) },
      sessions: [session('a'), session('b', { closedAt: 1, state: 'closed' })],
    });
    const line = liveSummary(snap);
    expect(line).toBe(liveSummary(snap));
    const { word, fields } = parseSummary(line);
    expect(word).toBe('dash');
    expect(Object.keys(fields)).toEqual(['t_s', 'engine', 'model', 'sessions', 'closed', 'steps', 'misses', 'late', 'missing', 'dropped_frames',
      'dropped_partials', 'skipped_decodes', 'errors', 'queue_frames', 'send_bytes', 'rtf', 'p50_ms', 'p95_ms', 'p99_ms', 'max_ms',
      'e2e_p99_ms', 'keeps_up', 'window_misses', 'engine_rtf', 'cost_ms', 'cost_basis', 'capacity', 'admitted', 'refused', 'accepting', 'workers_up']);
    expect(fields).toEqual({
      t_s: 12.345, engine: 'ok', model: 'tiny', sessions: 1, closed: 1, steps: 250, misses: 3, late: 4, missing: 5, dropped_frames: 6,
      dropped_partials: 7, skipped_decodes: 8, errors: 9, queue_frames: 2, send_bytes: 7680, rtf: 1.5, p50_ms: 31.25, p95_ms: 40.5, p99_ms: 77.75, max_ms: 90,
      e2e_p99_ms: 400, keeps_up: 'no', window_misses: 3, engine_rtf: 0.412,
      // An older server's snapshot: no admission, no workers.
      cost_ms: null, cost_basis: null, capacity: null, admitted: null, refused: null, accepting: null, workers_up: null,
    });
  });

  it('writes unknowns as "-" (null when read back)', () => {
    const { fields } = parseSummary(liveSummary(snapshot({ model: null, realTimeFactor: null, spans: {}, budget: undefined })));
    expect(fields).toMatchObject({ model: null, rtf: null, p99_ms: null, e2e_p99_ms: null, keeps_up: null });
  });
});

describe('replay and bench lines', () => {
  it('keep a session path and a divergence detail with spaces as one quoted field', () => {
    const p = { kind: 'replay', session: '/tmp/my sessions/a.session', stepsDone: 18, stepsTotal: 25, speed: 3.25, verdict: 'diverged', done: false, firstDivergence: { step: 17, detail: 'text: recorded 42, replayed 43' } } as const;
    expect(parseSummary(replaySummary(p)).fields).toEqual({ session: '/tmp/my sessions/a.session', step: 18, of: 25, speed: 3.25, verdict: 'diverged', first_divergence: 17, done: 'no' });
    expect(parseSummary(divergenceLine(p)!)).toEqual({ word: 'replay-diverged', fields: { session: '/tmp/my sessions/a.session', step: 17, detail: 'text: recorded 42, replayed 43' } });
    expect(divergenceLine({ ...p, firstDivergence: undefined } as never)).toBeNull();
  });

  it('bench figure lines read back; the bench table has one row per figure and the warnings', () => {
    const f = { suite: 'step', name: 'step.total', span: 'step.total', samples: 200, p50: 20.5, p95: 40, p99: 60.125, rme: 1.2, cv: 8.5, budgetFraction: 0.752 } as const;
    expect(parseSummary(benchFigureLine(f)).fields).toEqual({ suite: 'step', name: 'step.total', samples: 200, p50_ms: 20.5, p95_ms: 40, p99_ms: 60.125, rme_pct: 1.2, cv_pct: 8.5, budget_fraction: 0.752 });
    const t = benchTable([f, { ...f, name: 'encode', span: undefined, budgetFraction: undefined }], ['noisy machine']).split('\n');
    expect(t).toHaveLength(4);
    expect(t[0]).toMatch(/^suite\s+name\s+samples\s+p50 ms\s+p95 ms\s+p99 ms\s+rme%\s+cv%\s+p99\/budget$/);
    expect(t[1]).toMatch(/^step\s+step\.total\s+200\s+20\.5\s+40\s+60\.125\s+1\.2\s+8\.5\s+75\.2%$/);
    expect(t[2]).toMatch(/ -$/);
    expect(t[3]).toBe('warning: noisy machine');
  });
});

describe('final table', () => {
  it('has a row per span with samples and a row per session, columns aligned, and says what window each covers', () => {
    const snap = snapshot({ steps: 5320, sessions: [session('aaaaaaaa-1111-2222-3333-444444444444', { steps: 77, budgetMisses: 2 })] });
    const all = liveTable(snap).split('\n');
    // Capacity first (an older server's snapshot has none to show), then the spans.
    expect(all.slice(0, 2)).toEqual(['Admission: not reported by this server (older than admission in /telemetry)', 'engine workers (0)']);
    const lines = all.slice(2);
    expect(lines[0]).toBe('server-wide: spans over the last 1000 of 5320 steps (budget 80 ms), in ms');
    const spanRows = lines.slice(2, lines.findIndex((l) => l.startsWith('budget (e2e)')));
    expect(spanRows.map((l) => l.split(/\s+/)[0])).toEqual(['net.recv', 'queue.wait', 'mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode', 'net.send', 'step.total', 'e2e']);
    expect(new Set(spanRows.map((l) => l.length)).size).toBe(1);
    expect(spanRows.at(-2)).toMatch(/^step\.total\s+100\s+30\s+36\s+44\s+44\s+55\.0%$/);
    expect(spanRows.at(-1)).toMatch(/^e2e\s+100\s+32\s+39\s+48\s+48\s+60\.0%$/);
    const verdict = lines.indexOf('budget (e2e): keeps up over the last 120 steps, misses 0 (0.0%),');
    expect(verdict).toBeGreaterThan(0);
    expect(lines[verdict + 1]).toBe('  rtf 0.42 (engine 0.40)');
    expect(lines).toContain('sessions (each its own: e2e of last ≤250 steps, counts since open)');
    const head = lines.findIndex((l) => l.startsWith('id '));
    // A session's p50 and p99 are its e2e's (what the budget counts).
    expect(lines[head + 1]!.split(/\s+/).slice(0, 5)).toEqual(['aaaaaaaa', 'streaming', '77', '32', '55']);
    expect(lines.join('\n')).toMatch(/^since start: steps 5320, misses 0 \(0\.0%\) over 80 ms e2e/m);
  });

  it('fits 80 columns, or the width it is given, with long ids and large counts', () => {
    const snap = snapshot({
      steps: 1_234_567, budgetMisses: 98_765, frames: { late: 12_345, missing: 23_456, dropped: 34_567 }, droppedPartials: 45_678, skippedDecodes: 56_789, errors: 67_890,
      sessions: Array.from({ length: 3 }, (_, i) => session(`${i}`.repeat(8) + '-1111-2222-3333-444444444444', { state: 'streaming', steps: 999_999, budgetMisses: 99_999, late: 99_999 })),
    });
    for (const columns of [80, 60]) {
      for (const l of liveTable(snap, columns).split('\n')) expect(l.length, `${columns}: ${l}`).toBeLessThanOrEqual(columns);
    }
    // Room for them: whole session ids.
    expect(liveTable(snap, 120)).toContain('00000000-1111-2222-3333-444444444444');
  });
});
