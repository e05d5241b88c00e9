// `solacelive bench --suite server`: the suite spawns `solacelive serve` on loopback, finds
// its capacity with the load test and runs its rounds at that capacity; the results carry
// the server figures, with ms-per-session the budget over the capacity it names. The real
// config is skipped, saying why.
import { describe, expect, it } from 'vitest';
import { runBench } from '../../bench/lib/runner.ts';
import { BUDGET_MS } from '../../src/telemetry/index.ts';

describe('bench suite server', () => {
  it('serves on loopback, finds a capacity, and reports lag, lag-late, first audio, handshake and ms-per-session per round', async () => {
    const logs: string[] = [];
    const r = await runBench({ suites: ['server'], config: 'tiny', rounds: 3, quick: true, perRound: 2, log: (m) => logs.push(m) });
    const s = r.suites[0]!;
    expect(s.status, logs.join('\n')).toBe('ok');
    expect(s.figures.map((f) => f.id)).toEqual(['server/lag', 'server/lag-late', 'server/first-audio', 'server/handshake', 'server/ms-per-session']);
    const m = /^capacity (\d+) /.exec(s.notes[0] ?? '');
    expect(m, s.notes.join('\n')).not.toBeNull();
    const capacity = Number(m![1]);
    expect(logs.some((l) => /capacity search: +1 clients: lag p50/.test(l))).toBe(true);
    const perSession = s.figures.find((f) => f.name === 'ms-per-session')!;
    expect(perSession.p50).toBeCloseTo(BUDGET_MS / Math.max(capacity, 0.5), 6);
    const lag = s.figures.find((f) => f.name === 'lag')!;
    // Each round: max(1, capacity) clients × 2 s of 80 ms frames, less the warm-up frame.
    expect(lag.samples).toBeGreaterThanOrEqual(3 * Math.max(1, capacity) * (Math.round(2000 / 80) - 1));
    expect(lag.ratios).toHaveLength(3);
  }, 240_000);

  it('skips the real config, saying why', async () => {
    const r = await runBench({ suites: ['server'], config: 'real', rounds: 3 });
    expect(r.suites[0]).toMatchObject({ status: 'skipped' });
    expect(r.suites[0]!.reason).toMatch(/tiny model/);
  }, 60_000);
});
