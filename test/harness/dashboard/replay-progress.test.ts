// Replay progress for `replay --dashboard`: the replayer reports every step of the fixture
// session through the real engine, ending with the verdict; a divergence is reported on the
// step it happens (real Comparator, recorded vs altered views); the CLI's plain output reads back.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Comparator, type StepView } from '../../../harness/compare.ts';
import type { ReplayProgress } from '../../../harness/dashboard/events.ts';
import { parseSummary } from '../../../harness/dashboard/plain.ts';
import { replayProgress, replaySession } from '../../../harness/replayer.ts';

const root = new URL('../../../', import.meta.url).pathname;
const fixture = join(root, 'fixtures/sessions/hello-2s.session');

describe('replay progress', () => {
  it('comes after every step with steps done, speed and, at the end, the verdict of the report', async () => {
    const seen: ReplayProgress[] = [];
    const report = await replaySession(fixture, { onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.stepsDone)).toEqual([...Array.from({ length: report.stepsReplayed }, (_, i) => i + 1), report.stepsReplayed]);
    expect(seen.every((p) => p.stepsTotal === report.wholeSteps && p.session === fixture)).toBe(true);
    expect(seen.slice(0, -1).every((p) => p.verdict === 'running' && !p.done)).toBe(true);
    expect(seen.at(-1)).toMatchObject({ done: true, verdict: report.comparison.kind });
    expect(seen.at(-1)!.speed).toBeGreaterThan(0);
  }, 120_000);

  it('reports the first divergence on the step it happens, with what differs', () => {
    const view = (step: number, text: number): StepView => ({ step, inputCodes: [1, 2], text, audioCodes: [3, 4], pcmHash: `h${step}` });
    const cmp = new Comparator(3);
    const progress: ReplayProgress[] = [];
    for (let k = 0; k < 6; k++) {
      const replayed = k === 4 ? { ...view(k, 99), audioCodes: [3, 5] } : view(k, k);
      cmp.add(view(k, k), replayed);
      progress.push(replayProgress('s', cmp.result(), k + 1, 10, 100, false));
    }
    expect(progress.slice(0, 4).every((p) => p.verdict === 'running' && p.firstDivergence === undefined)).toBe(true);
    expect(progress[4]).toMatchObject({ verdict: 'diverged', stepsDone: 5, firstDivergence: { step: 4 } });
    expect(progress[4]!.firstDivergence!.detail).toBe('text: recorded 4, replayed 99\naudioCodes[1]: recorded 4, replayed 5');
    expect(progress[5]!.firstDivergence!.step).toBe(4);
  });

  it('solacelive replay --dashboard off a terminal prints replay key=value lines, then the report', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin/solacelive.mjs'), 'replay', fixture, '--dashboard', '--no-save'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const progress = lines.filter((l) => l.startsWith('replay ')).map((l) => parseSummary(l).fields);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.at(-1)).toMatchObject({ session: fixture, step: 25, of: 25, done: 'yes' });
    expect(lines.some((l) => l.startsWith('verdict: '))).toBe(true);
    // What the fingerprints allow on this machine (the fixture was recorded on another one):
    // bit-exact only when they match; token-exact or better otherwise.
    const expected = /^expected (bit-exact|token-exact) /m.exec(r.stdout)?.[1];
    expect(expected, r.stdout).toBeDefined();
    if (expected === 'bit-exact') expect(progress.at(-1)!.verdict).toBe('bit-exact');
    else expect(['bit-exact', 'token-exact']).toContain(progress.at(-1)!.verdict);
  }, 120_000);
});
