// The dashboard's screens rendered by Ink (ink-testing-library) from fixed telemetry input:
// bars scale with the figures, budget misses show, a divergence appears, the overview fits
// 80×24, and the keys switch views, select sessions and pause.
import { render } from 'ink-testing-library';
import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { BenchScreen, benchReduce, EMPTY_BENCH } from '../../../harness/dashboard/bench-view.ts';
import { LiveApp, LiveScreen, type LiveScreenProps } from '../../../harness/dashboard/live-view.ts';
import { BAR_OFFSET } from '../../../harness/dashboard/panels.ts';
import { ReplayScreen } from '../../../harness/dashboard/replay-view.ts';
import type { SourceHandlers, TelemetrySource } from '../../../harness/dashboard/source.ts';
import { event, plainText, session, snapshot, stats } from './snapshots.ts';

const h = React.createElement;
const mounted: { unmount(): void }[] = [];
afterEach(() => {
  for (const m of mounted.splice(0)) m.unmount();
});

function screen(over: Partial<LiveScreenProps> = {}): string[] {
  const props: LiveScreenProps = {
    snap: snapshot(), status: { kind: 'live', url: 'http://127.0.0.1:8788' }, view: 'overview', selected: 0, paused: false, columns: 80, rows: 23, ...over,
  };
  const r = render(h(LiveScreen, props));
  mounted.push(r);
  return plainText(r.lastFrame()).split('\n');
}

const spanLine = (lines: string[], name: string) => lines.find((l) => l.startsWith(`${name} `)) ?? '';
const barOf = (line: string) => line.slice(BAR_OFFSET);
const count = (s: string, ch: string) => [...s].filter((c) => c === ch).length;

describe('live overview', () => {
  it('scales the span bars to their figures: twice the latency, twice the cells', () => {
    const snap = snapshot();
    const lines = screen({ snap: { ...snap, spans: { ...snap.spans, 'lm.temporal': stats(10, 20, 30), 'lm.depformer': stats(20, 40, 60) } } });
    const a = barOf(spanLine(lines, 'lm.temporal'));
    const b = barOf(spanLine(lines, 'lm.depformer'));
    const cells = (bar: string) => [count(bar, '█'), count(bar, '█') + count(bar, '▓'), count(bar, '█') + count(bar, '▓') + count(bar, '░')];
    // 80 columns: the bar has 80 - BAR_OFFSET - 1 cells over 0..100 ms (budget 80 ms × 1.25).
    const width = 80 - BAR_OFFSET - 1;
    const at = (msValue: number) => Math.round((msValue / 100) * width);
    expect(cells(a)).toEqual([at(10), at(20), at(30)]);
    expect(cells(b)).toEqual([at(20), at(40), at(60)]);
    expect(cells(b)[2]).toBeGreaterThan(cells(a)[2]! * 1.9);
    // The budget line sits at 80% of the bar where the bar does not reach it.
    expect(a.indexOf('│')).toBe(at(80));
    expect(spanLine(lines, 'lm.temporal')).toMatch(/^lm\.temporal\s+10\.0\s+20\.0\s+30\.0\s+30\.0 /);
  });

  it('shows budget misses, late and missing frames, dropped partials, skipped decodes and the events', () => {
    const snap = snapshot({
      steps: 200, budgetMisses: 7, frames: { late: 3, missing: 2, dropped: 1 }, droppedPartials: 4, skippedDecodes: 5, errors: 1,
      spans: { ...snapshot().spans, 'step.total': stats(60, 90, 3600, 3700) },
      events: [event(12_300, 'dropped-partial', 'partial text dropped (token 17)'), event(12_500, 'skipped-decode', 'decode skipped: backpressure')],
    });
    const text = screen({ snap }).join('\n');
    expect(text).toContain('misses 7 (3.5%)');
    expect(text).toContain('frames late 3 missing 2 dropped 1');
    expect(text).toContain('partials dropped 4');
    expect(text).toContain('decodes skipped 5');
    expect(text).toContain('errors 1');
    expect(text).toContain('12.3s aaaaaaaa dropped-partial step 5: partial text dropped (token 17)');
    // The slow step.total runs off the scale: an overflow mark, not a squashed chart.
    expect(barOf(spanLine(text.split('\n'), 'step.total')).trimEnd().endsWith('»')).toBe(true);
  });

  it('lists the sessions with their own figures and the engine state', () => {
    const snap = snapshot({
      engine: { state: 'restarting', reason: 'engine process exited (SIGKILL)', restarts: 1 },
      sessions: [session('aaaaaaaa-1', { steps: 321, budgetMisses: 9, late: 4, stepTotal: stats(20, 25, 30, 35), e2e: stats(31.5, 40, 77.7, 90) }), session('bbbbbbbb-2', { state: 'closed', closedAt: 5000, closeReason: '1000 session ended' })],
    });
    const lines = screen({ snap });
    expect(lines[0]).toContain('engine restarting');
    expect(lines).toContain('engine restarting: engine process exited (SIGKILL)');
    const none = screen({ snap: snapshot({ model: null, engine: { state: 'none', reason: 'no weights in ~/.cache/x', restarts: 0 } }) });
    expect(none[0]).toContain('engine degraded');
    expect(none).toContain('engine degraded: no weights in ~/.cache/x');
    const row = lines.find((l) => l.includes('aaaaaaaa'))!;
    // A session's p50, p99 and max are its e2e's, what the budget counts.
    expect(row).toMatch(/^› aaaaaaaa streaming\s+321\s+31\.5\s+77\.7\s+90\.0\s+9\s+4 /);
    expect(lines.some((l) => /^ {2}bbbbbbbb closed/.test(l))).toBe(true);
  });

  it('fits 80×24 (23 rows drawn) with many sessions and events, and follows a narrower terminal', () => {
    const snap = snapshot({
      sessions: Array.from({ length: 9 }, (_, i) => session(`${i}`.repeat(8))),
      events: Array.from({ length: 50 }, (_, i) => event(i * 100, 'late-frame', `frame ${i} 3 ms late`)),
    });
    for (const view of ['overview', 'sessions', 'events', 'capacity'] as const) {
      const lines = screen({ snap, view });
      expect(lines.length, view).toBeLessThanOrEqual(23);
      for (const l of lines) expect(l.length, `${view}: ${l}`).toBeLessThanOrEqual(80);
    }
    const narrow = screen({ snap, columns: 60, rows: 19 });
    expect(narrow.length).toBeLessThanOrEqual(19);
    for (const l of narrow) expect(l.length).toBeLessThanOrEqual(60);
    expect(spanLine(narrow, 'step.total')).not.toBe('');
  });

  it('says what window its figures cover: server-wide spans over the last N steps, counts since start, sessions their own', () => {
    const lines = screen({ snap: snapshot({ steps: 5320, window: 1000, sessionWindow: 250 }) });
    expect(lines).toContain('KEEPS UP · spans over the last 1000 of 5320 steps (ms), counts since start');
    const young = screen({ snap: snapshot({ steps: 120, window: 1000 }) });
    expect(young).toContain('KEEPS UP · spans over all 120 steps (ms), counts since start');
    const title = lines.find((l) => l.startsWith('Sessions '))!;
    expect(title).toBe('Sessions 1/1 · each its own: e2e of last ≤250 steps, counts since open');
    const sel = screen({ view: 'sessions', snap: snapshot({ sessions: [session('aaaaaaaa-1', { stepTotal: { ...stats(30, 40, 50), window: 120 }, e2e: { ...stats(35, 45, 90), window: 120 }, budgetMisses: 2, keepsUp: false })] }) });
    expect(sel.some((l) => l.startsWith('e2e, its last 120 steps: p50 35.0  p95 45.0  p99 90.0  max 90.0  misses 2'))).toBe(true);
    expect(sel.some((l) => l.startsWith('step.total, its last 120 steps: p50 30.0  p95 40.0  p99 50.0  max 50.0'))).toBe(true);
    expect(sel.some((l) => /^state streaming .* falls behind$/.test(l))).toBe(true);
  });

  it('says "falls behind" first when the window\'s e2e is over budget though step.total fits, and the rtf is end to end', () => {
    const snap = snapshot({
      steps: 400, budgetMisses: 350, realTimeFactor: 14.2,
      budget: { window: 400, misses: 350, keepsUp: false, realTimeFactor: 14.2, engineRealTimeFactor: 0.31 },
      spans: { ...snapshot().spans, 'step.total': stats(24, 26, 30), e2e: stats(900, 1100, 1160, 1200) },
    });
    const lines = screen({ snap });
    expect(lines[2]).toBe('FALLS BEHIND · spans over all 400 steps (ms), counts since start');
    expect(lines.join('\n')).toContain('window rtf 14.20 (engine 0.31)');
    expect(lines.join('\n')).not.toMatch(/× real time/);
    // The e2e bar runs off the scale; step.total's stays under the budget line.
    expect(barOf(spanLine(lines, 'e2e')).trimEnd().endsWith('»')).toBe(true);
    expect(barOf(spanLine(lines, 'step.total'))).toContain('│');
  });

  it('labels the bar axis apart from the number columns: units on the axis, nothing run into "max"', () => {
    const lines = screen();
    const head = lines.find((l) => l.startsWith('span '))!;
    // The number columns end at "max"; the axis starts with the bars and says its unit.
    expect(head.slice(0, BAR_OFFSET).trimEnd()).toMatch(/ max$/);
    expect(head.slice(BAR_OFFSET)).toMatch(/^ {10,}80 ms│ +100$/);
    // The budget label ends on the budget line the bars draw.
    const bar = barOf(spanLine(lines, 'lm.temporal'));
    expect(head.slice(BAR_OFFSET).indexOf('│')).toBe(bar.indexOf('│'));
  });

  it('shows every per-session count in its detail at 80 columns, none cut off', () => {
    const lines = screen({ view: 'sessions', snap: snapshot({ sessions: [session('aaaaaaaa-1', { late: 1, missing: 2, droppedFrames: 3, droppedPartials: 4, skippedDecodes: 5, errors: 6 })] }) });
    const text = lines.join('\n');
    for (const part of ['late 1', 'missing 2', 'dropped 3', 'partials dropped 4', 'decodes skipped 5', 'errors 6']) expect(text).toContain(part);
    expect(text).not.toContain('…');
  });

  it('says when the server is down and that it retries', () => {
    const lines = screen({ snap: null, status: { kind: 'down', url: 'http://127.0.0.1:9', reason: 'connection refused: no server is listening there', retryInMs: 2000 } });
    expect(lines.join(' ').replace(/\s+/g, ' ')).toContain('No telemetry from http://127.0.0.1:9: connection refused: no server is listening there. Retrying every 2 s; q quits.');
  });
});

describe('keys', () => {
  function fixedSource(): { source: TelemetrySource; push: (s: ReturnType<typeof snapshot>) => void } {
    let handlers: SourceHandlers | null = null;
    return {
      source: (hs) => {
        handlers = hs;
        hs.onStatus({ kind: 'live', url: 'fixed' });
        return () => undefined;
      },
      push: (s) => handlers!.onSnapshot(s),
    };
  }
  const tick = () => new Promise((r) => setTimeout(r, 60));

  it('tab switches views, arrows select a session, p pauses the display, q quits', async () => {
    const src = fixedSource();
    let quit = false;
    const r = render(h(LiveApp, { source: src.source, size: { columns: 80, rows: 24 }, onQuit: () => (quit = true) }));
    mounted.push(r);
    await tick();
    src.push(snapshot({ steps: 10, sessions: [session('aaaaaaaa-1'), session('bbbbbbbb-2')] }));
    await tick();
    expect(plainText(r.lastFrame())).toContain('[overview]');
    r.stdin.write('\t');
    await tick();
    let f = plainText(r.lastFrame());
    expect(f).toContain('[sessions]');
    expect(f).toContain('Session aaaaaaaa-1');
    r.stdin.write('\u001B[B');
    await tick();
    f = plainText(r.lastFrame());
    expect(f).toContain('Session bbbbbbbb-2');
    expect(f).toMatch(/^› bbbbbbbb/m);
    r.stdin.write('\t');
    await tick();
    expect(plainText(r.lastFrame())).toContain('[events]');
    r.stdin.write('\t');
    await tick();
    expect(plainText(r.lastFrame())).toContain('[capacity]');
    r.stdin.write('\t');
    await tick();
    r.stdin.write('p');
    await tick();
    src.push(snapshot({ steps: 999, sessions: [session('aaaaaaaa-1'), session('bbbbbbbb-2')] }));
    await tick();
    f = plainText(r.lastFrame());
    expect(f).toContain('PAUSED');
    expect(f).toContain('steps 10 ');
    r.stdin.write('p');
    await tick();
    f = plainText(r.lastFrame());
    expect(f).not.toContain('PAUSED');
    expect(f).toContain('steps 999 ');
    r.stdin.write('q');
    await tick();
    expect(quit).toBe(true);
  });
});

describe('redraws', () => {
  it('skip snapshots that differ only in their clock within the same second', async () => {
    let handlers: SourceHandlers | null = null;
    const r = render(h(LiveApp, { source: (hs) => ((handlers = hs), () => undefined), size: { columns: 80, rows: 24 } }));
    mounted.push(r);
    const tick = () => new Promise((res) => setTimeout(res, 60));
    await tick();
    const base = snapshot({ t: 10_000, seq: 1 });
    handlers!.onSnapshot(base);
    await tick();
    const after = r.frames.length;
    handlers!.onSnapshot({ ...base, seq: 2, t: 10_400, eventLoopLagMs: { p50: 5, p99: 9, max: 12 } });
    await tick();
    expect(r.frames.length).toBe(after);
    handlers!.onSnapshot({ ...base, seq: 3, t: 11_000 });
    await tick();
    expect(r.frames.length).toBeGreaterThan(after);
    const n = r.frames.length;
    handlers!.onSnapshot({ ...base, seq: 4, t: 11_100, steps: 121 });
    await tick();
    expect(r.frames.length).toBeGreaterThan(n);
    expect(plainText(r.lastFrame())).toContain('steps 121 ');
  });
});

describe('replay view', () => {
  it('shows progress and speed, then the first divergence as soon as it is reported', () => {
    const base = { kind: 'replay', session: '/tmp/a.session', stepsTotal: 100, done: false } as const;
    const r = render(h(ReplayScreen, { progress: { ...base, stepsDone: 25, speed: 3.5, verdict: 'running' }, columns: 80 }));
    mounted.push(r);
    let f = plainText(r.lastFrame());
    expect(f).toMatch(/steps\s+25\/100 .* 25%/);
    expect(f).toContain('speed 3.50× real time');
    expect(f).toContain('verdict running');
    expect(f).toContain('no divergence so far');
    r.rerender(h(ReplayScreen, { progress: { ...base, stepsDone: 18, speed: 3.1, verdict: 'diverged', firstDivergence: { step: 17, detail: 'text: recorded 42, replayed 43\naudioCodes[3]: recorded 7, replayed 9' } }, columns: 80 }));
    f = plainText(r.lastFrame());
    expect(f).toContain('verdict diverged at step 17');
    expect(f).toContain('first divergence at step 17:');
    expect(f).toContain('text: recorded 42, replayed 43');
    expect(f).toContain('audioCodes[3]: recorded 7, replayed 9');
  });
});

describe('bench view', () => {
  it('shows suites and figures, with budget bars for latency figures only', () => {
    let s = benchReduce(EMPTY_BENCH, { kind: 'suite-start', suite: 'step', tasks: ['step.total', 'codec'] });
    s = benchReduce(s, { kind: 'figure', figure: { suite: 'step', name: 'step.total', span: 'step.total', samples: 200, p50: 20, p95: 40, p99: 60, rme: 1.2, cv: 8.5, budgetFraction: 0.75, floorRatio: 7.67 } });
    s = benchReduce(s, { kind: 'figure', figure: { suite: 'codec', name: 'encode 1 packet', samples: 1000, p50: 0.01, p95: 0.02, p99: 0.03, rme: 0.5, cv: 3 } });
    const r = render(h(BenchScreen, { state: s, columns: 80, rows: 20 }));
    mounted.push(r);
    const lines = plainText(r.lastFrame()).split('\n');
    expect(lines[0]).toContain('0/1 suites done');
    expect(lines[0]).toContain('running step');
    // The axis: the budget label ends over the budget line of the bars, nothing runs into "cv%".
    const head = lines.find((l) => l.startsWith('suite/task (ms)'))!;
    expect(head).toMatch(/ cv% +×flr {3,}80 ms│$/);
    const lat = lines.find((l) => l.startsWith('step/step.total'))!;
    // p50 over the floor measured in the same run; a figure without a floor says so.
    expect(lat).toMatch(/20\.0\s+40\.0\s+60\.0\s+1\.2\s+8\.5\s+7\.7×/);
    expect(count(lat, '█')).toBeGreaterThan(0);
    const budgetAt = lat.indexOf('│');
    expect(budgetAt).toBeGreaterThan(0);
    expect(head.indexOf('│')).toBe(budgetAt);
    const other = lines.find((l) => l.startsWith('codec/encode'))!;
    expect(other).toMatch(/3\.0\s+-\s*$/);
    expect(count(other, '█') + count(other, '│')).toBe(0);
    s = benchReduce(benchReduce(s, { kind: 'suite-done', suite: 'step' }), { kind: 'done', figures: [], warnings: ['load average 3.1 on 2 cores'] });
    r.rerender(h(BenchScreen, { state: s, columns: 80, rows: 20 }));
    const f = plainText(r.lastFrame());
    expect(f).toContain('1/1 suites done');
    expect(f).toContain('finished');
    expect(f).toContain('warning: load average 3.1 on 2 cores');
    expect(f).toContain('codec/encode 1 packet');
  });
});
