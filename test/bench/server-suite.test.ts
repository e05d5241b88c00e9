// `solacelive bench --suite server`: the suite spawns `solacelive serve` on loopback, finds
// its capacity with the load test and runs its rounds at that capacity; the results carry
// the server figures, with ms-per-session the budget over the capacity it names. The real
// config is skipped, saying why. Layouts (--server-engines, --haproxy) run side by side, their
// figures named per layout, with each server's own /health figures in the notes. A test that
// times out aborts its run (the test's signal): the suite's process and its serves end with it.
import { describe, expect, it, onTestFailed } from 'vitest';
import { parseServerLayouts } from '../../bench/command.ts';
import { runBench } from '../../bench/lib/runner.ts';
import type { SuiteRun } from '../../bench/lib/results.ts';
import { UsageError } from '../../src/cli/args.ts';
import { BUDGET_MS } from '../../src/telemetry/index.ts';

describe('bench suite server', () => {
  it('serves on loopback, finds a capacity, and reports lag, lag-late, first audio, handshake and ms-per-session per round', async ({ signal }) => {
    const logs: string[] = [];
    // A failure (a timeout too) shows how far the suite got.
    onTestFailed(() => console.error(`bench log so far:\n${logs.join('\n')}`));
    const r = await runBench({ suites: ['server'], config: 'tiny', rounds: 3, quick: true, perRound: 2, signal, log: (m) => logs.push(m) });
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

  it('--server-engines 1,2: each layout its own serve --engines E, figures named per layout, the server\'s /health (E workers) beside every level', async ({ signal }) => {
    const logs: string[] = [];
    // A failure (a timeout too) shows how far the suite got.
    onTestFailed(() => console.error(`bench log so far:\n${logs.join('\n')}`));
    const r = await runBench({ suites: ['server'], config: 'tiny', rounds: 3, quick: true, perRound: 2, server: { engines: [1, 2] }, signal, log: (m) => logs.push(m) });
    const s = r.suites[0]!;
    expect(s.status, logs.join('\n')).toBe('ok');
    const names = ['lag', 'lag-late', 'first-audio', 'handshake', 'ms-per-session'];
    expect(s.figures.map((f) => f.id)).toEqual(['engines-1', 'engines-2'].flatMap((l) => names.map((n) => `server/${l}/${n}`)));
    for (const engines of [1, 2]) {
      const capacity = layoutCapacity(s, `engines-${engines}`);
      expect(s.notes.find((n) => n.startsWith(`engines-${engines}: capacity`))).toContain(`solacelive serve --engines ${engines}`);
      expect(s.figures.find((f) => f.id === `server/engines-${engines}/ms-per-session`)!.p50).toBeCloseTo(BUDGET_MS / Math.max(capacity, 0.5), 6);
      expect(s.figures.find((f) => f.id === `server/engines-${engines}/lag`)!.ratios).toHaveLength(3);
      // Every level of the search carries the server's own figures, one worker CPU per engine worker.
      const levels = s.notes.filter((n) => new RegExp(`^engines-${engines}: +\\d+ clients: `).test(n));
      expect(levels.length).toBeGreaterThan(0);
      for (const l of levels) {
        const m = /server \/health: session cost \S+ ms\/step, admission capacity \d+, worker cpu (\S+), worker step p99 \S+ ms, e2e p99 \S+ ms/.exec(l);
        expect(m, l).not.toBeNull();
        expect(m![1]!.split('/')).toHaveLength(engines);
        if (process.platform === 'linux') expect(l).toMatch(/serve process cpu \(server thread\) \d+\.\d\d$/);
      }
    }
  }, 420_000);

  it('--haproxy: two serve processes behind the shipped HAProxy cfg, each server\'s /health and the sessions HAProxy gave each', async ({ signal }) => {
    const logs: string[] = [];
    // A failure (a timeout too) shows how far the suite got.
    onTestFailed(() => console.error(`bench log so far:\n${logs.join('\n')}`));
    const r = await runBench({ suites: ['server'], config: 'tiny', rounds: 3, quick: true, perRound: 2, server: { haproxy: true }, signal, log: (m) => logs.push(m) });
    const s = r.suites[0]!;
    expect(s.status, logs.join('\n')).toBe('ok');
    expect(s.figures.map((f) => f.id)).toContain('server/haproxy-engines-1/ms-per-session');
    layoutCapacity(s, 'haproxy-engines-1');
    expect(s.notes.find((n) => n.startsWith('haproxy-engines-1: capacity'))).toContain('2 × solacelive serve --engines 1 behind HAProxy');
    const levels = s.notes.filter((n) => /^haproxy-engines-1: +\d+ clients: /.test(n));
    expect(levels.length).toBeGreaterThan(0);
    for (const l of levels) {
      const clients = Number(/^haproxy-engines-1: +(\d+) clients/.exec(l)![1]);
      const spread = /HAProxy gave the servers s1 (\d+), s2 (\d+) session\(s\)/.exec(l);
      expect(spread, l).not.toBeNull();
      // Every client that connected went to one of the two servers (refused ones too: HAProxy forwarded them).
      expect(Number(spread![1]) + Number(spread![2])).toBe(clients);
      expect(l).toMatch(/s1 server \/health: session cost .*; s2 server \/health: session cost /);
    }
  }, 420_000);

  it('--server-engines and --haproxy: usage errors name what is wrong', () => {
    expect(parseServerLayouts(undefined, false, ['server'])).toBeNull();
    expect(parseServerLayouts('1,2', false, ['server'])).toEqual({ engines: [1, 2], haproxy: false });
    expect(parseServerLayouts(undefined, true, ['step', 'server'])).toEqual({ haproxy: true });
    expect(() => parseServerLayouts('1,2', false, ['step'])).toThrow(UsageError);
    expect(() => parseServerLayouts('1,2', false, ['step'])).toThrow(/--server-engines goes with the server suite/);
    expect(() => parseServerLayouts('0,x', false, ['server'])).toThrow(/--server-engines must be engine counts 1\.\.16.*"0,x"/);
    expect(() => parseServerLayouts('2,2', false, ['server'])).toThrow(/names a count twice/);
  });

  it('skips the real config, saying why', async ({ signal }) => {
    const r = await runBench({ suites: ['server'], config: 'real', rounds: 3, signal });
    expect(r.suites[0]).toMatchObject({ status: 'skipped' });
    expect(r.suites[0]!.reason).toMatch(/tiny model/);
  }, 60_000);
});

/** The capacity a layout's note names (and that it names one). */
function layoutCapacity(s: SuiteRun, layout: string): number {
  const m = new RegExp(`^${layout}: capacity (\\d+) `).exec(s.notes.find((n) => n.startsWith(`${layout}: capacity`)) ?? '');
  expect(m, s.notes.join('\n')).not.toBeNull();
  return Number(m![1]);
}
