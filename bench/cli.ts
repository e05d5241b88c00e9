// The commands bench/ adds to `solacelive` (bin/solacelive.mjs merges this table with
// src/cli.ts's and harness/cli/commands.ts's). Imported only when the command runs.
import type { CommandEntry } from '../src/cli.ts';

export const BENCH_COMMANDS: Readonly<Record<string, CommandEntry>> = {
  loadtest: { summary: 'real-time load test of a Moshi server: N clients, lag p50/p95/p99, growth, stalls, refusals; --find-capacity', load: () => import('./suites/server.ts') },
  bench: { summary: 'run the benchmark suites (per-span p50/p95/p99 vs the 80 ms budget), or gate results against a baseline: bench gate', load: () => import('./command.ts') },
};
