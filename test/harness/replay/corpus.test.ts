// replayCorpus on real engine workers: sessions run on two workers at once (two processes,
// both busy together), each session's verdict equals what a lone replaySession gives, a
// damaged session is a per-session error while the others finish, and the corpus view
// (Ink) draws the real progress: sessions done, a row per worker, verdict counts.
import { cpSync, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import React from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorpusScreen } from '../../../harness/dashboard/replay-corpus-view.ts';
import { corpusSessions, replayCorpus, type CorpusProgress, type CorpusSummary } from '../../../harness/replay/corpus.ts';
import { replaySession, type ReplayReport } from '../../../harness/replayer.ts';
import { plainText } from '../dashboard/snapshots.ts';

const fixture = new URL('../../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'solacelive-corpus-'));
const seen: CorpusProgress[] = [];
let summary: CorpusSummary;
let lone: ReplayReport;

beforeAll(async () => {
  // Two good sessions per worker: their runs overlap even when one worker's model loads later.
  for (const n of ['a', 'b', 'c', 'd']) cpSync(fixture, join(dir, `${n}.session`), { recursive: true });
  cpSync(fixture, join(dir, 'b2-damaged.session'), { recursive: true });
  const fd = openSync(join(dir, 'b2-damaged.session', 'steps.jsonl'), 'r+');
  writeSync(fd, Buffer.from('#'), 0, 1, 200);
  closeSync(fd);
  summary = await replayCorpus(await corpusSessions([dir]), { jobs: 2, onProgress: (p) => seen.push(p) });
  lone = await replaySession(fixture);
}, 240_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('replayCorpus', () => {
  it('lists the folder\'s sessions in name order', async () => {
    expect((await corpusSessions([dir])).map((s) => s.slice(dir.length + 1))).toEqual(['a.session', 'b.session', 'b2-damaged.session', 'c.session', 'd.session']);
  });

  it('replays on two worker processes at once, each session with the verdict a lone replay gives', () => {
    const good = summary.entries.filter((e) => e.report);
    expect(good).toHaveLength(4);
    for (const e of good) {
      expect(e.report!.comparison.kind).toBe(lone.comparison.kind);
      expect(e.report!.stepsReplayed).toBe(lone.stepsReplayed);
      expect(e.expect).toBe(lone.expected);
    }
    expect(new Set(good.map((e) => e.worker))).toEqual(new Set([0, 1]));
    const pids = new Set(good.map((e) => e.pid));
    expect(pids.size).toBe(2);
    expect(pids.has(null)).toBe(false);
    // Both workers had a session in hand with steps done at the same moment.
    expect(seen.some((p) => p.running.every((s) => s !== null) && p.steps.every((s) => s.done > 0))).toBe(true);
  });

  it('reports the damaged session as its own error and finishes the others', () => {
    const bad = summary.entries.find((e) => e.session.endsWith('b2-damaged.session'))!;
    expect(bad.ok).toBe(false);
    expect(bad.report).toBeNull();
    expect(bad.error!.code).toMatch(/^SESSION_ERR_/);
    expect(summary.ok).toBe(false);
    expect(summary.counts[lone.comparison.kind]).toBe(4);
    expect(summary.counts[bad.error!.code]).toBe(1);
    expect(summary.audioMs).toBe(4 * lone.stepsReplayed * 80);
    expect(seen.at(-1)).toMatchObject({ finished: true, done: 5, sessions: 5, failed: 1 });
  });

  it('draws the corpus progress on the dashboard: sessions done, each worker\'s session and steps, verdict counts', () => {
    const mid = seen.find((p) => p.running.every((s) => s !== null) && p.steps.every((s) => s.done > 0))!;
    const r = render(React.createElement(CorpusScreen, { progress: mid, columns: 100 }));
    const f = plainText(r.lastFrame());
    expect(f).toContain(`${mid.done}/5`);
    for (let i = 0; i < 2; i++) expect(f).toMatch(new RegExp(`worker ${i}\\s+${mid.steps[i]!.done}/${mid.steps[i]!.total} steps`));
    r.rerender(React.createElement(CorpusScreen, { progress: seen.at(-1)!, columns: 100 }));
    const end = plainText(r.lastFrame());
    expect(end).toContain('5/5');
    expect(end).toContain(`4 ${lone.comparison.kind}`);
    expect(end).toContain('1 not met');
    r.unmount();
  });
});
