// The bench child: runs one suite in its own process, with OpenBLAS pinned by the parent
// as the engine worker pins it, alternating a calibration point and a round of the suite.
// Talks to the runner over the IPC channel (see runner.ts for the messages).
import { loadavg } from 'node:os';
import { platformFingerprint } from '../../src/models/platform.ts';
import { Calibrator } from './calibrate.ts';
import { buildCalibration, buildFigure } from './figures.ts';
import { BandwidthMeter, buildBandwidth, buildFloor, buildShare } from './floors.ts';
import { applyInject } from './inject.ts';
import { SUITE_DEFS } from '../suites/index.ts';
import type { ChildReply, ChildRequest } from './runner.ts';
import type { SuiteRun } from './results.ts';
import { processCpuMs } from './suite-api.ts';

if (!process.send) {
  console.error('bench/lib/suite-child.ts is started by the bench runner (fork with an IPC channel), not run directly.');
  process.exit(2);
}
const send = (m: ChildReply) => process.send!(m);
// Exiting (not a bare signal death) runs the suites' exit hooks, which kill what they started
// (serves, HAProxy): on SIGTERM from the runner, and when the runner is gone (the channel closes).
process.once('SIGTERM', () => process.exit(143));
process.once('disconnect', () => process.exit(process.exitCode ?? 1));
/** Sends the last reply and exits once it is out: a handle a suite left open must not keep the process. */
const last = (m: ChildReply, code: number) => process.send!(m, undefined, {}, () => process.exit(code));
const cpuMs = processCpuMs;

async function run(req: ChildRequest): Promise<void> {
  const t0 = performance.now();
  const def = SUITE_DEFS[req.suite];
  if (req.inject) applyInject(req.inject);
  const log = (msg: string) => send({ kind: 'log', msg });
  const ctx = { config: req.config, rounds: req.rounds, quick: req.quick, perRound: req.perRound, ...(req.server ? { server: req.server } : {}), log };
  const inst = await def.setup(ctx);
  const platform = platformFingerprint();
  if ('skipped' in inst) {
    const run: SuiteRun = { suite: def.name, status: 'skipped', reason: inst.skipped, describe: def.describe, figures: [], calibration: [], notes: [], seconds: (performance.now() - t0) / 1000 };
    last({ kind: 'done', run, platform }, 0);
    return;
  }
  send({ kind: 'start', tasks: inst.figures.map((f) => f.name), describe: inst.describe });
  const calibrator = new Calibrator();
  const cal = { matmul: [] as number[], memcpy: [] as number[] };
  const raw = new Map<string, number[][]>(inst.figures.map((f) => [f.name, []]));
  // Floors the suite times itself (a copy of the same bytes, the direct path): samples per round.
  const floorKeys = [...new Set(inst.figures.flatMap((f) => (f.floor && f.floor.kind !== 'weights' ? [f.floor.sample] : [])))];
  const floorRaw = new Map<string, number[]>(floorKeys.map((k) => [k, []]));
  // Weight floors need the memory bandwidth: measured at setup and before every round, as the calibration.
  const meter = inst.figures.some((f) => f.floor?.kind === 'weights') ? new BandwidthMeter() : null;
  const bwSetup = meter ? [meter.measure(), meter.measure()] : [];
  const bwRounds: number[] = [];
  const cpuRounds: number[][] = [];
  for (let r = 0; r < req.rounds; r++) {
    if (meter) bwRounds.push(meter.measure());
    // The round's calibration: one point before it, then one at every tick inside it.
    const points = [calibrator.measure()];
    let tickCpu = 0;
    const tick = () => {
      const c0 = cpuMs();
      points.push(calibrator.measure(1));
      tickCpu += cpuMs() - c0;
    };
    const c0 = cpuMs();
    const samples = await inst.round(r, tick);
    const roundCpu = cpuMs() - c0 - tickCpu;
    cal.matmul.push(Math.min(...points.map((p) => p.matmul)));
    cal.memcpy.push(Math.min(...points.map((p) => p.memcpy)));
    for (const f of inst.figures) raw.get(f.name)!.push(samples[f.name] ?? []);
    for (const k of floorKeys) floorRaw.get(k)!.push(...(samples[k] ?? []));
    if (inst.cpuFigure) cpuRounds.push([roundCpu / Math.max(1, samples[inst.figures[0]!.name]?.length ?? 0)]);
    send({ kind: 'round', index: r, load1: loadavg()[0]! });
  }
  await inst.close();
  const bandwidth = meter ? buildBandwidth(bwSetup, bwRounds) : undefined;
  const built = inst.figures.map((f) => {
    const fig = buildFigure(def.name, f, raw.get(f.name)!, cal[f.calibration]);
    if (!f.floor) return fig;
    const floorSamples = f.floor.kind === 'weights' ? undefined : floorRaw.get(f.floor.sample);
    return { ...fig, floor: buildFloor(f.floor, fig.p50, { ...(bandwidth ? { bandwidth } : {}), ...(floorSamples ? { samples: floorSamples } : {}) }) };
  });
  const figures = built.map((fig, i) => {
    const share = inst.figures[i]!.share;
    return share ? { ...fig, share: buildShare(share, fig, built) } : fig;
  });
  if (inst.cpuFigure) figures.push(buildFigure(def.name, { name: inst.cpuFigure, calibration: 'matmul', budget: false }, cpuRounds, cal.matmul));
  const run: SuiteRun = {
    suite: def.name,
    status: 'ok',
    describe: inst.describe,
    figures,
    calibration: [buildCalibration('matmul', cal.matmul), buildCalibration('memcpy', cal.memcpy)],
    ...(bandwidth ? { bandwidth } : {}),
    notes: inst.notes,
    seconds: (performance.now() - t0) / 1000,
  };
  last({ kind: 'done', run, platform }, 0);
}

process.once('message', (req: ChildRequest) => {
  run(req).catch((err: Error & { code?: string }) => last({ kind: 'error', message: `${err.code ? `[${err.code}] ` : ''}${err.message}` }, 1));
});
