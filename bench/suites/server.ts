// The server end to end: `solacelive serve` (tiny model) spawned on loopback, its capacity
// found by the load test (harness/loadtest: real-time Moshi clients, every client's lag p99
// within 80 ms, no stall, no disconnect, no refusal), then each round one level at that
// capacity. Figures: client-measured lag (and its last quarter, which grows when the server
// falls behind), first audio, handshake, and 80 ms over the capacity (ms-per-session); notes
// with the server's own figures (its /health, its process's CPU) at every level. Layouts
// (--server-engines 1,2, --haproxy) are compared side by side, their figures named per layout.
// Also the bench side of `solacelive loadtest --json` (the same figures, suite `server`).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { freePort, startHaproxy, type RunningHaproxy } from '../../deploy/haproxy.ts';
import { loadLibopusNode } from '../../src/audio/opus/node.ts';
import type { PlatformFingerprint } from '../../src/models/platform.ts';
import { hostFingerprint } from '../../src/telemetry/host.ts';
import { BUDGET_MS } from '../../src/telemetry/index.ts';
import { loadtestCommand } from '../../harness/cli/loadtest.ts';
import { DEFAULT_INPUT, findCapacity, levelLine, LoadtestError, parseTarget, readServerHealth, runLevel, serverLine, wavInput, type LevelOptions, type LevelResult, type Target } from '../../harness/loadtest/index.ts';
import { buildCalibration, buildFigure } from '../lib/figures.ts';
import { ownChild } from '../lib/owned.ts';
import { detectRunnerClass } from '../lib/gate.ts';
import { RESULTS_FORMAT, writeResults, type BenchResults, type SuiteRun } from '../lib/results.ts';
import type { FigureSpec, ServerLayoutOptions, SuiteDef } from '../lib/suite-api.ts';
import { packageVersion, ROOT } from '../lib/paths.ts';

const BIN = new URL('../../bin/solacelive.mjs', import.meta.url).pathname;

/** `solacelive serve ARGS` on loopback (port 0 unless ARGS name one), resolved with its URL once its model is ready. */
export function startServe(args: readonly string[]): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  const port = args.includes('--port') ? [] : ['--port', '0'];
  const child = ownChild(spawn(process.execPath, [BIN, 'serve', ...port, ...args], { stdio: ['ignore', 'ignore', 'pipe'] }));
  let log = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve ${args.join(' ')}: model not ready within 120 s:\n${log}`));
    }, 120_000);
    child.once('exit', (code) => reject(new Error(`serve ${args.join(' ')} exited (${code}):\n${log}`)));
    child.stderr!.on('data', (d) => {
      log += d;
      const m = /listening on (ws:\/\/\S+)/.exec(log);
      if (m && /model \S+ ready/.test(log)) {
        clearTimeout(t);
        resolve({ child, url: m[1]!, log: () => log });
      }
    });
  });
}

/**
 * One way of serving under test. name null: the default single `serve` (figures unprefixed,
 * as the baselines hold them); else its figures are named `name/figure`.
 */
export interface ServerLayout {
  readonly name: string | null;
  readonly engines: number;
  readonly haproxy: boolean;
}

export function serverLayouts(o: ServerLayoutOptions | undefined): ServerLayout[] {
  if (!o || (o.engines === undefined && !o.haproxy)) return [{ name: null, engines: 1, haproxy: false }];
  return (o.engines ?? [1]).map((e) => ({ name: `${o.haproxy ? 'haproxy-' : ''}engines-${e}`, engines: e, haproxy: o.haproxy ?? false }));
}

/** CPU time a process has used (ms), from /proc (Linux; null elsewhere or once it is gone). */
export function procCpuMs(pid: number): number | null {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in USER_HZ (100) ticks.
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** A layout's processes: its serve(s) (with their /health targets), HAProxy in front when asked. */
export interface Served {
  readonly layout: ServerLayout;
  readonly url: string;
  readonly serves: readonly { readonly child: ChildProcess; readonly target: Target; readonly log: () => string }[];
  readonly haproxy: RunningHaproxy | null;
}

async function startLayout(l: ServerLayout): Promise<Served> {
  if (!l.haproxy) {
    const { child, url, log } = await startServe(['--engines', String(l.engines)]);
    return { layout: l, url, serves: [{ child, target: parseTarget(url, 'moshi'), log }], haproxy: null };
  }
  const ports = [await freePort(), await freePort()];
  // --max-sessions above any level: each server's own admission is the bound, as deployed.
  const started = await Promise.allSettled(ports.map((p) => startServe(['--port', String(p), '--engines', String(l.engines), '--max-sessions', '64'])));
  const serves = started.flatMap((r) => (r.status === 'fulfilled' ? [{ child: r.value.child, target: parseTarget(r.value.url, 'moshi'), log: r.value.log }] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    for (const x of serves) x.child.kill('SIGKILL');
    throw (failed as PromiseRejectedResult).reason;
  }
  try {
    const haproxy = await startHaproxy({ bind: `127.0.0.1:${await freePort()}`, servers: { s1: `127.0.0.1:${ports[0]}`, s2: `127.0.0.1:${ports[1]}` }, stats: `127.0.0.1:${await freePort()}` });
    ownChild(haproxy.child);
    await haproxy.waitFor((st) => st.s1?.status === 'UP' && st.s2?.status === 'UP', 30_000, 'both servers UP').catch(async (e: Error) => {
      await haproxy.stop();
      throw e;
    });
    return { layout: l, url: haproxy.url, serves, haproxy };
  } catch (err) {
    for (const x of serves) x.child.kill('SIGKILL');
    throw err;
  }
}

/** How long a serve may take to shut down on SIGTERM (it tells its sessions, then closes them) before it is killed. */
const STOP_GRACE_MS = 15_000;

/** Stops a layout's processes; a serve that does not exit on SIGTERM is killed and said, with its log's tail, so a bench never waits on one. */
export async function stopLayout(s: Served, log: (m: string) => void): Promise<void> {
  await s.haproxy?.stop();
  await Promise.all(s.serves.map(async ({ child, log: serveLog }) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = await Promise.race([gone.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), STOP_GRACE_MS)))]);
    clearTimeout(timer);
    if (!late) return;
    log(`serve pid ${child.pid} did not exit within ${STOP_GRACE_MS / 1000} s of SIGTERM: killed (SIGKILL); its log ends:\n${serveLog().slice(-2000)}`);
    child.kill('SIGKILL');
    await gone;
  }));
}

/**
 * One level against a layout with what the servers say of it: each serve's /health (through
 * HAProxy read from each server, not the balancer), its process's CPU per second of the level
 * (the server thread; the engine workers are their own processes, in /health), and how HAProxy spread the sessions.
 */
async function layoutLevel(s: Served, o: LevelOptions): Promise<{ level: LevelResult; line: string }> {
  const pids = s.serves.map(({ child }) => child.pid ?? -1);
  const cpu0 = pids.map(procCpuMs);
  // HAProxy's counts are notes beside the clients' figures: a read that fails says so in the note and fails nothing.
  const states = async () => (s.haproxy ? s.haproxy.states().catch((e: Error) => e) : null);
  const before = await states();
  const t0 = performance.now();
  const level = await runLevel({ ...o, serverHealth: !s.haproxy });
  const wall = performance.now() - t0;
  const cpu = pids.map((p, i) => {
    const c = procCpuMs(p);
    return c === null || cpu0[i] === null ? null : (c - cpu0[i]!) / wall;
  });
  const parts = [levelLine(level)];
  if (s.haproxy) {
    const after = await states();
    if (after instanceof Error || before instanceof Error) parts.push(`HAProxy's stats not read (${(after instanceof Error ? after : (before as Error)).message.split('\n')[0]})`);
    else if (after) parts.push(`HAProxy gave the servers ${Object.keys(after).map((k) => `${k} ${after[k]!.total - (before?.[k]?.total ?? 0)}`).join(', ')} session(s)`);
    for (const [i, x] of s.serves.entries()) {
      const h = await readServerHealth(x.target);
      parts.push(`s${i + 1} ${'figures' in h ? serverLine(h.figures) : `no /health figures (${h.none})`}`);
    }
  }
  if (cpu.every((c) => c !== null)) parts.push(`serve process cpu (server thread) ${cpu.map((c) => c!.toFixed(2)).join('/')}`);
  return { level, line: parts.join('; ') };
}

interface Measured {
  readonly served: Served;
  readonly capacity: number;
  readonly clients: number;
}

export const serverSuite: SuiteDef = {
  name: 'server',
  describe: 'solacelive serve on loopback under the load test: capacity, client-measured lag, first audio; the server\'s own /health beside them',
  async setup(ctx) {
    if (ctx.config !== 'tiny') return { skipped: 'the server suite serves the tiny model (a real model\'s capacity on this machine is a load test away: solacelive loadtest --find-capacity)' };
    const layouts = serverLayouts(ctx.server);
    // Stopped by close(); should the suite's process end before (an error, the runner's SIGTERM), ownChild kills them.
    const running: Served[] = [];
    const levelS = ctx.quick ? 3 : 5;
    const lib = await loadLibopusNode();
    const base = (url: string): Omit<LevelOptions, 'clients'> => ({
      target: parseTarget(url, 'moshi'), durationS: levelS, rampS: 0.5, inputs: [wavInput(DEFAULT_INPUT)], budgetMs: BUDGET_MS,
      lib, connectTimeoutMs: 10_000, record: null, runId: 'bench',
      // The measuring worker's lines (fell behind, failed, would not end) go to the bench log, beside the levels.
      log: ctx.log,
    });
    const notes: string[] = [];
    const measured: Measured[] = [];
    // One layout at a time is searched while the others idle (an idle serve steps nothing).
    for (const l of layouts) {
      const served = await startLayout(l);
      running.push(served);
      const at = l.name === null ? '' : `${l.name}: `;
      const lines = new Map<LevelResult, string>();
      const c = await findCapacity(async (n) => {
        const { level, line } = await layoutLevel(served, { ...base(served.url), clients: n });
        lines.set(level, line);
        return level;
      }, {
        maxClients: ctx.quick ? 4 : 8, timeLimitS: ctx.quick ? 90 : 240, levelS: levelS + 35, onLevel: (x) => ctx.log(`${at}capacity search: ${lines.get(x) ?? levelLine(x)}`),
      });
      const how = l.haproxy ? `2 × solacelive serve --engines ${l.engines} behind HAProxy (deploy/haproxy.cfg)` : `solacelive serve --engines ${l.engines}`;
      const capacityNote = `${at}capacity ${c.capacity} (every client's lag p99 <= ${BUDGET_MS} ms, no stall, disconnect or refusal)${c.bound ? ` at least: search bound by ${c.bound}` : ''}; ${how}; levels: ${c.levels.map((x) => `${x.clients} ${x.pass ? 'pass' : 'fail'}`).join(', ')}`;
      ctx.log(capacityNote);
      notes.push(capacityNote, ...c.levels.map((x) => `${at}${lines.get(x) ?? levelLine(x)}`));
      measured.push({ served, capacity: c.capacity, clients: Math.max(1, c.capacity) });
    }
    const perRound = ctx.perRound ?? levelS;
    const named = (l: ServerLayout, figure: string) => (l.name === null ? figure : `${l.name}/${figure}`);
    return {
      describe: `solacelive serve (tiny) on loopback, Moshi protocol: ${measured.map((m) => `${m.served.layout.name ?? 'one serve'} capacity ${m.capacity}`).join(', ')} found by the load test; each round ${measured.map((m) => m.clients).join('/')} real-time client(s) for ${perRound} s${measured.length > 1 ? ', the layouts in turn (order alternating)' : ''}`,
      figures: layouts.flatMap((l) => SERVER_FIGURES.map((f) => ({ ...f, name: named(l, f.name) }))),
      notes,
      async round(index, tick) {
        const out: Record<string, number[]> = {};
        // Alternating the order keeps a drift in the machine's load from favouring one layout.
        for (const m of index % 2 ? [...measured].reverse() : measured) {
          const { level } = await layoutLevel(m.served, { ...base(m.served.url), clients: m.clients, durationS: perRound });
          tick();
          for (const [k, v] of Object.entries(roundSamples(level, m.capacity))) out[named(m.served.layout, k)] = v;
        }
        return out;
      },
      async close() {
        await Promise.all(running.map((r) => stopLayout(r, ctx.log)));
      },
    };
  },
};

export const SERVER_SUITE = 'server';

/**
 * lag: every answered frame's lag (client-measured end to end); lag-late: the last quarter
 * of each client's frames (grows above lag when the server falls behind: the growth figure
 * as a positive latency); first-audio and handshake per client; ms-per-session: the budget
 * over the capacity found (a smaller capacity is a larger figure, as the gate expects of a regression).
 */
export const SERVER_FIGURES: readonly FigureSpec[] = [
  { name: 'lag', calibration: 'matmul', budget: true },
  { name: 'lag-late', calibration: 'matmul', budget: true },
  { name: 'first-audio', calibration: 'matmul', budget: false },
  { name: 'handshake', calibration: 'matmul', budget: false },
  { name: 'ms-per-session', calibration: 'matmul', budget: false },
];

/** 80 ms over the capacity; capacity 0 counts as half a session (the figure must stay finite). */
export const msPerSession = (capacity: number): number => BUDGET_MS / Math.max(capacity, 0.5);

/** One round's samples per figure name, from a level run at a fixed N. */
export function roundSamples(l: LevelResult, capacity: number): Record<string, number[]> {
  const figs = l.reports.flatMap((r) => (r.status === 'done' && r.figures ? [r.figures] : []));
  const lag = figs.flatMap((f) => f.lag.series.map((p) => p[1]));
  if (lag.length === 0) {
    const why = l.why.length ? l.why.join('; ') : 'no client got audio back';
    throw new LoadtestError('LOADTEST_ERR_NO_ANSWER', `a round at ${l.clients} client(s) measured no lag: ${why}`);
  }
  return {
    lag,
    'lag-late': figs.flatMap((f) => f.lag.series.slice(Math.floor((f.lag.series.length * 3) / 4)).map((p) => p[1])),
    'first-audio': figs.flatMap((f) => (f.firstAudioMs === null ? [] : [f.firstAudioMs])),
    handshake: figs.flatMap((f) => (f.handshakeMs === null ? [] : [f.handshakeMs])),
    'ms-per-session': [msPerSession(capacity)],
  };
}

export interface RoundsRun {
  readonly rounds: readonly Record<string, number[]>[];
  readonly calibration: { readonly matmul: readonly number[]; readonly memcpy: readonly number[] };
}

/** Runs `rounds` rounds with a calibration point before and after each (their fastest is the round's). */
export async function calibratedRounds(rounds: number, round: (i: number) => Promise<Record<string, number[]>>): Promise<RoundsRun> {
  // MLX only when results are asked for: a plain load test stays a light client.
  const { Calibrator } = await import('../lib/calibrate.ts');
  const cal = new Calibrator();
  const out: Record<string, number[]>[] = [];
  const matmul: number[] = [];
  const memcpy: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const a = cal.measure();
    const samples = await round(i);
    const b = cal.measure();
    out.push(samples);
    matmul.push(Math.min(a.matmul, b.matmul));
    memcpy.push(Math.min(a.memcpy, b.memcpy));
  }
  return { rounds: out, calibration: { matmul, memcpy } };
}

/** A results file holding the server suite alone. */
export function serverResults(run: RoundsRun, platform: PlatformFingerprint, o: { config: string; describe: string; notes: readonly string[]; seconds: number; loadStart: readonly number[]; loadEnd: readonly number[] }): BenchResults {
  const cal = { matmul: [...run.calibration.matmul], memcpy: [...run.calibration.memcpy] };
  const suite: SuiteRun = {
    suite: SERVER_SUITE,
    status: 'ok',
    describe: o.describe,
    figures: SERVER_FIGURES.map((f) => buildFigure(SERVER_SUITE, f, run.rounds.map((r) => r[f.name] ?? []), cal[f.calibration])),
    calibration: [buildCalibration('matmul', cal.matmul), buildCalibration('memcpy', cal.memcpy)],
    notes: o.notes,
    seconds: o.seconds,
  };
  return {
    format: RESULTS_FORMAT,
    createdAt: new Date().toISOString(),
    config: o.config,
    host: { ...hostFingerprint(ROOT, packageVersion()), mlxDevice: platform.mlxDevice, metal: platform.metal, blas: platform.blas, runnerClass: detectRunnerClass() },
    loadavg: { start: o.loadStart, end: o.loadEnd },
    settings: { rounds: run.rounds.length, quick: false, blasThreads: 1 },
    suites: [suite],
    warnings: [],
  };
}

/** `solacelive loadtest` with --json writing these figures (bench/cli.ts registers it: bench sits on top of harness). */
export const command = loadtestCommand({
  async write(o) {
    const run = await calibratedRounds(o.rounds, async (i) => {
      const l: LevelResult = await o.round(i);
      return roundSamples(l, o.capacity ?? (l.pass ? l.clients : 0));
    });
    const notes = o.capacity === null ? [...o.notes, 'ms-per-session: the budget over N when the round passed, over 0.5 when it failed (no capacity search)'] : o.notes;
    const { platformFingerprint } = await import('../../src/models/platform.ts');
    writeResults(serverResults(run, platformFingerprint(), { config: o.config, describe: o.describe, notes, seconds: (performance.now() - o.startedAt) / 1000, loadStart: o.loadStart, loadEnd: loadavg() }), o.path);
  },
});
