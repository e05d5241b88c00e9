// The A/B bench child: one suite of one side (base or head) kept loaded in its own process,
// OpenBLAS pinned by the parent, running ONE round when asked, so the parent can interleave
// the two sides round by round. `bench ab` copies this file and the calibration kernels
// (calibrate*.ts) of the head into the base's worktree, so both sides speak this protocol
// and time the same kernels; the suite itself is the side's own.
import { loadavg } from 'node:os';
import { Calibrator } from './calibrate.ts';
import { median } from './stats.ts';
import { SUITE_DEFS } from '../suites/index.ts';
import type { SuiteDef } from './suite-api.ts';

export type AbChildRequest =
  | { readonly kind: 'setup'; readonly suite: string; readonly config: string; readonly quick: boolean; readonly perRound?: number; readonly inject?: unknown } // one Inject or a list
  | { readonly kind: 'round'; readonly index: number }
  | { readonly kind: 'close' };

/** One round of one side: per figure name, the round's median (ms) and that over the round's fastest calibration run. */
export interface AbRoundValues {
  readonly [figure: string]: { readonly ms: number; readonly ratio: number; readonly minRatio: number };
}

export type AbChildReply =
  | { readonly kind: 'log'; readonly msg: string }
  | { readonly kind: 'ready'; readonly figures: readonly string[]; readonly describe: string }
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'round'; readonly index: number; readonly values: AbRoundValues; readonly load1: number }
  | { readonly kind: 'error'; readonly code: string; readonly message: string };

if (!process.send) {
  console.error('bench/lib/ab-child.ts is started by `solacelive bench ab` (fork with an IPC channel), not run directly.');
  process.exit(2);
}
const send = (m: AbChildReply) => process.send!(m);
// Exiting (not a bare signal death) runs the suite's exit hooks, which kill what it started: on
// the parent's SIGTERM, and once the channel closes (the child's own end, or the parent gone).
process.once('SIGTERM', () => process.exit(143));
process.once('disconnect', () => process.exit(process.exitCode ?? 0));
// Own copy of the CPU clock: the base's suite-api.ts may predate processCpuMs.
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

type Instance = Exclude<Awaited<ReturnType<SuiteDef['setup']>>, { readonly skipped: string }>;
let inst: Instance | null = null;
let calibrator: Calibrator | null = null;

async function setup(req: Extract<AbChildRequest, { kind: 'setup' }>): Promise<void> {
  const def = (SUITE_DEFS as Record<string, SuiteDef | undefined>)[req.suite];
  if (!def) {
    send({ kind: 'error', code: 'BENCH_ERR_AB_SUITE_MISSING', message: `this revision has no bench suite "${req.suite}" (it has: ${Object.keys(SUITE_DEFS).join(', ')})` });
    return;
  }
  if (req.inject) {
    const mod = await import('./inject.ts') as { applyInject?: (i: unknown) => void };
    if (!mod.applyInject) throw new Error('this revision cannot inject a slowdown (bench/lib/inject.ts has no applyInject)');
    for (const i of [req.inject].flat()) mod.applyInject(i);
  }
  const log = (msg: string) => send({ kind: 'log', msg });
  const made = await def.setup({ config: req.config as 'tiny' | 'real', rounds: 1, quick: req.quick, ...(req.perRound !== undefined ? { perRound: req.perRound } : {}), log });
  if ('skipped' in made) {
    send({ kind: 'skipped', reason: made.skipped });
    return;
  }
  inst = made;
  calibrator = new Calibrator();
  send({ kind: 'ready', figures: [...made.figures.map((f) => f.name), ...(made.cpuFigure ? [made.cpuFigure] : [])], describe: made.describe });
}

async function round(index: number): Promise<void> {
  const s = inst!;
  const cal = calibrator!;
  // As the bench child: a calibration point before the round and one at every tick.
  const points = [cal.measure()];
  let tickCpu = 0;
  const tick = () => {
    const c0 = cpuMs();
    points.push(cal.measure(1));
    tickCpu += cpuMs() - c0;
  };
  const c0 = cpuMs();
  const samples = await s.round(index, tick);
  const roundCpu = cpuMs() - c0 - tickCpu;
  const fastest = { matmul: Math.min(...points.map((p) => p.matmul)), memcpy: Math.min(...points.map((p) => p.memcpy)) };
  const values: Record<string, { ms: number; ratio: number; minRatio: number }> = {};
  for (const f of s.figures) {
    const xs = samples[f.name] ?? [];
    if (xs.length === 0) throw new Error(`round ${index}: figure ${f.name} has no samples`);
    const ms = median(xs);
    values[f.name] = { ms, ratio: ms / fastest[f.calibration], minRatio: Math.min(...xs) / fastest[f.calibration] };
  }
  if (s.cpuFigure) {
    const ms = roundCpu / Math.max(1, samples[s.figures[0]!.name]?.length ?? 0);
    values[s.cpuFigure] = { ms, ratio: ms / fastest.matmul, minRatio: ms / fastest.matmul };
  }
  send({ kind: 'round', index, values, load1: loadavg()[0]! });
}

process.on('message', (req: AbChildRequest) => {
  const done = req.kind === 'setup' ? setup(req) : req.kind === 'round' ? round(req.index) : inst ? inst.close().then(() => process.disconnect()) : Promise.resolve(process.disconnect());
  done.catch((err: Error & { code?: string }) => {
    send({ kind: 'error', code: err.code ?? 'BENCH_ERR_SUITE_FAILED', message: err.message });
    process.disconnect();
  });
});
