// Replays and diffs kept apart: a `sessions diff A B` saved into A is not A's replay verdict.
// The pure rules (newestResults, summarizeResult) and what the list and the API make of a
// session folder holding both.
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Comparison } from '../../../harness/compare.ts';
import { latestResults, listSessions, newestResults, saveReplayResult, summarizeResult, type ReplayResult } from '../../../harness/view/index.ts';

const FIXTURE = new URL('../../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;

const same: Comparison = { kind: 'bit-exact', verdict: 'bit-exact', steps: 25, firstPcmDiff: null, divergedAt: null, diffs: [], before: [], at: null, after: [] };
const diverged: Comparison = { ...same, kind: 'diverged', verdict: 'diverged at step 1', divergedAt: 1 };

const replay = (at: string, over: Partial<ReplayResult> = {}): ReplayResult => ({
  kind: 'replay', at, verdict: 'bit-exact', expected: 'bit-exact', ok: true, fingerprintDiffs: [], comparison: same, labels: ['recorded', 'replayed'], stepsReplayed: 25, ...over,
});
const diff = (at: string, over: Partial<ReplayResult> = {}): ReplayResult => ({
  kind: 'diff', at, verdict: 'diverged at step 1', expected: 'bit-exact', ok: false, fingerprintDiffs: [], comparison: diverged,
  labels: ['a.session', 'seed7.session'], stepsReplayed: 25, setupDiffs: ['seed: 42 vs 7'], ...over,
});

describe('newestResults', () => {
  it('picks the newest replay and the newest diff separately, skipping what is not a result', () => {
    const r1 = replay('2026-01-01T00:00:00.000Z');
    const d1 = diff('2026-01-02T00:00:00.000Z');
    const r2 = replay('2026-01-03T00:00:00.000Z', { kind: 'paced' });
    const d2 = diff('2026-01-04T00:00:00.000Z');
    expect(newestResults([r1, d1])).toEqual({ replay: r1, diff: d1 });
    expect(newestResults([r1, d1, r2, d2, null, { verdict: 'x' }, 'junk'])).toEqual({ replay: r2, diff: d2 });
    expect(newestResults([d1])).toEqual({ replay: null, diff: d1 });
    expect(newestResults([])).toEqual({ replay: null, diff: null });
  });
});

describe('summarizeResult', () => {
  it('says a diff of differently recorded sessions expected its divergence, naming what differs', () => {
    const s = summarizeResult(diff('2026-01-02T00:00:00.000Z'));
    expect(s).toMatchObject({ kind: 'diff', verdict: 'diverged at step 1', outcome: 'divergence expected', against: 'seed7.session', recordedDifferently: 'seed' });
    expect(summarizeResult(diff('t', { setupDiffs: ['seed: 1 vs 2', 'sampling: {"a":1} vs {"a":2}'] })).recordedDifferently).toBe('seed, sampling');
    expect(s.expectation).toContain('seed: 42 vs 7');
    expect(s.expectation).not.toContain('NOT met');
  });

  it('holds a diff of identically recorded sessions to its expectation', () => {
    expect(summarizeResult(diff('t', { setupDiffs: [] }))).toMatchObject({ outcome: 'not met', against: 'seed7.session' });
    expect(summarizeResult(diff('t', { setupDiffs: undefined, ok: true, verdict: 'bit-exact', comparison: same }))).toMatchObject({ outcome: 'met' });
  });

  it('says what a replay expected and why', () => {
    const s = summarizeResult(replay('t', { expected: 'token-exact', verdict: 'token-exact', fingerprintDiffs: ['cpuModel: recorded A, here B'] }));
    expect(s).toMatchObject({ outcome: 'met', verdict: 'token-exact' });
    expect(s.expectation).toContain('expected token-exact');
    expect(s.expectation).toContain('platform differs');
  });
});

describe('a session folder holding a replay and a newer diff', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'view-results-'));
    await mkdir(join(root, 'sessions'));
    const a = join(root, 'sessions', 'a.session');
    await cp(FIXTURE, a, { recursive: true });
    await saveReplayResult(a, replay('2026-01-01T00:00:00.000Z'));
    await saveReplayResult(a, diff('2026-01-02T00:00:00.000Z'));
    // A torn newer replay file: skipped, the older one stands.
    await writeFile(join(a, 'replays', '20260103T000000Z-replay.json'), '{"kind":"replay","verd');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('lists the replay as the last replay and the diff apart', async () => {
    const [e] = await listSessions(join(root, 'sessions'));
    expect(e!.replay).toMatchObject({ kind: 'replay', verdict: 'bit-exact', outcome: 'met' });
    expect(e!.diff).toMatchObject({ kind: 'diff', verdict: 'diverged at step 1', outcome: 'divergence expected', against: 'seed7.session' });
  });

  it('summarises at most the given number of steps of a session, and says so', async () => {
    const [e] = await listSessions(join(root, 'sessions'), 10);
    expect(e).toMatchObject({ steps: 10, error: { code: 'VIEW_ERR_TOO_LARGE' } });
    const [whole] = await listSessions(join(root, 'sessions'));
    expect(whole).toMatchObject({ steps: 25, error: null });
  });

  it('reads them apart for the API', async () => {
    const r = await latestResults(join(root, 'sessions', 'a.session'));
    expect(r.replay?.at).toBe('2026-01-01T00:00:00.000Z');
    expect(r.diff?.at).toBe('2026-01-02T00:00:00.000Z');
  });
});
