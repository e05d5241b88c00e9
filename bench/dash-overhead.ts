// Does an attached dashboard slow the server? The server's step.total p99 with and without
// `solacelive dash` watching it, in interleaved trials (A, B, A, B, …) so drift in the
// machine's load hits both alike. Each trial streams a WAV in real time through a spawned
// `solacelive client`; the server runs in this process with the real engine (tiny model)
// and records every step's spans through its hooks (no subscriber of its own). With the
// dashboard, `solacelive dash --hz N` runs in a detached tmux session at 80×24 — a real
// terminal, so Ink renders as it would for a user.
//   node bench/dash-overhead.ts [--trials N] [--seconds S] [--hz N] [--json OUT]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { splitFrames } from '../src/audio/frames.ts';
import { toMono24k } from '../src/audio/resample.ts';
import { readWavSync, writeWavSync } from '../src/audio/wav-file.ts';
import { createEngine } from '../src/cli/serve.ts';
import { createServer } from '../src/server/server.ts';
import { hostFingerprint } from '../src/telemetry/host.ts';
import { percentile } from '../src/telemetry/window.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/solacelive.mjs');
const { values } = parseArgs({ options: { trials: { type: 'string' }, seconds: { type: 'string' }, hz: { type: 'string' }, json: { type: 'string' } } });
const trials = Number(values.trials ?? 6);
const seconds = Number(values.seconds ?? 12);
const hz = Number(values.hz ?? 10);
if (!(trials >= 2 && seconds >= 2 && hz > 0 && hz <= 10)) throw new Error('--trials >= 2, --seconds >= 2, --hz in (0, 10]');
if (spawnSync('tmux', ['-V']).status !== 0) throw new Error('tmux is needed (npm run setup installs it): the dashboard runs in a real terminal');

// The input: hello.wav repeated to `seconds`, as a 24 kHz float WAV.
const dir = mkdtempSync(join(tmpdir(), 'dash-overhead-'));
const hello = readWavSync(join(ROOT, 'fixtures/audio/hello.wav'));
const { frames } = splitFrames(toMono24k(hello.channels, hello.sampleRate).samples);
const n = Math.round((seconds * 1000) / 80);
const signal = new Float32Array(n * 1920);
for (let i = 0; i < n; i++) signal.set(frames[i % frames.length]!, i * 1920);
const input = join(dir, 'input.wav');
writeWavSync(input, signal, 24000, { format: 'float32' });

const { engine, reason } = await createEngine(null);
if (!engine) throw new Error(`no engine: ${reason}`);
await engine.start();
const totals = new Map<string, number[]>();
const server = createServer({ port: 0 }, engine, {
  onStepFinished: (id, { spans }) => {
    const t = spans['step.total'];
    if (t !== undefined) (totals.get(id) ?? totals.set(id, []).get(id)!).push(t);
  },
});
const { url } = await server.start();
const http = url.replace(/^ws:/, 'http:');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const tmuxName = `dash-overhead-${process.pid}`;
const tmux = (...a: string[]) => spawnSync('tmux', a, { encoding: 'utf8' });
/** CPU seconds used so far by a process (utime + stime from /proc). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function attachDash(): Promise<number> {
  tmux('new-session', '-d', '-s', tmuxName, '-x', '80', '-y', '24', `exec ${process.execPath} ${BIN} dash --url ${http} --hz ${hz}`);
  // Starting Node, stripping types and loading Ink takes seconds on a loaded machine.
  const end = performance.now() + 60_000;
  while (!tmux('capture-pane', '-p', '-t', tmuxName).stdout.includes('● live')) {
    if (performance.now() > end) {
      const screen = tmux('capture-pane', '-p', '-t', tmuxName).stdout;
      tmux('kill-session', '-t', tmuxName);
      throw new Error(`the dashboard did not connect within 60 s; its screen:\n${screen}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return Number(tmux('list-panes', '-t', tmuxName, '-F', '#{pane_pid}').stdout.trim());
}

interface Trial { readonly dash: boolean; readonly clientOk: boolean; readonly steps: number; readonly p50: number; readonly p99: number; readonly max: number; readonly lagP99: number; readonly dashCpuPct: number | null; readonly load1: number }

async function trial(dash: boolean): Promise<Trial> {
  const pid = dash ? await attachDash() : null;
  const cpu0 = pid ? cpuSeconds(pid) : 0;
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const t0 = performance.now();
  const r = await run(['client', '--in', input, '--out', join(dir, 'out.wav'), '--url', url, '--json']);
  const wall = (performance.now() - t0) / 1000;
  lag.disable();
  const dashCpuPct = pid ? ((cpuSeconds(pid) - cpu0) / wall) * 100 : null;
  if (dash) tmux('kill-session', '-t', tmuxName);
  // A session the overloaded server could not keep in real time still ran its steps: keep
  // them (the figure is the server's step time) and say the client was not satisfied.
  let res: { session: string; ok: boolean; close: { code: number; reason: string } };
  try {
    res = JSON.parse(r.stdout) as typeof res;
  } catch {
    throw new Error(`client failed (exit ${r.code}): ${r.stderr}`);
  }
  if (!res.ok) console.error(`  (client not ok: close ${res.close.code} ${res.close.reason})`);
  const id = res.session;
  const xs = Float64Array.from(totals.get(id) ?? []).sort();
  return { dash, clientOk: res.ok, steps: xs.length, p50: percentile(xs, 0.5), p99: percentile(xs, 0.99), max: xs[xs.length - 1] ?? NaN, lagP99: lag.percentile(99) / 1e6, dashCpuPct, load1: os.loadavg()[0]! };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const f = (x: number) => x.toFixed(2);

const load0 = os.loadavg();
console.error(`dash overhead: ${trials} trials each way, ${seconds} s real-time sessions of tiny, dashboard at ${hz} Hz in tmux 80×24; load average ${load0.map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} cores`);
console.error('warm-up session (not counted: the first steps compile kernels)…');
await trial(false);
const results: Trial[] = [];
const failures: string[] = [];
try {
  for (let i = 0; i < trials * 2; i++) {
    // A B A B …, starting with B on odd trial pairs so neither side always goes first.
    const dash = (i % 2 === 1) !== (Math.floor(i / 2) % 2 === 1);
    let t: Trial;
    try {
      t = await trial(dash);
    } catch (err) {
      // One failed trial (an overloaded machine) should not throw away the others.
      failures.push(`trial ${i + 1} (${dash ? 'with' : 'without'} dash): ${(err as Error).message}`);
      console.error(`  trial ${i + 1} failed: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    results.push(t);
    console.error(`  ${dash ? 'with dash   ' : 'without dash'} steps ${t.steps}  p50 ${f(t.p50)}  p99 ${f(t.p99)}  max ${f(t.max)} ms  loop lag p99 ${f(t.lagP99)} ms${t.dashCpuPct === null ? '' : `  dash CPU ${t.dashCpuPct.toFixed(1)}%`}  load ${t.load1.toFixed(2)}`);
  }
} finally {
  tmux('kill-session', '-t', tmuxName);
  await server.stop();
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
}

const side = (dash: boolean) => {
  const ts = results.filter((t) => t.dash === dash);
  if (ts.length === 0) throw new Error(`no ${dash ? 'with' : 'without'}-dash trial completed:\n${failures.join('\n')}`);
  const p99s = ts.map((t) => t.p99);
  return {
    trials: ts.length,
    p99Median: median(p99s), p99Min: Math.min(...p99s), p99Max: Math.max(...p99s),
    p50Median: median(ts.map((t) => t.p50)),
    lagP99Median: median(ts.map((t) => t.lagP99)),
    dashCpuPctMedian: dash ? median(ts.map((t) => t.dashCpuPct!)) : null,
  };
};
const without = side(false);
const withDash = side(true);
const load1 = os.loadavg();
console.log('step.total (ms)       p50 median   p99 median   p99 min–max    server loop lag p99');
console.log(`without dashboard     ${f(without.p50Median).padStart(10)}   ${f(without.p99Median).padStart(10)}   ${`${f(without.p99Min)}–${f(without.p99Max)}`.padStart(13)}    ${f(without.lagP99Median)}`);
console.log(`with dashboard        ${f(withDash.p50Median).padStart(10)}   ${f(withDash.p99Median).padStart(10)}   ${`${f(withDash.p99Min)}–${f(withDash.p99Max)}`.padStart(13)}    ${f(withDash.lagP99Median)}`);
console.log(`difference of p99 medians ${f(withDash.p99Median - without.p99Median)} ms; dashboard process CPU ${withDash.dashCpuPctMedian!.toFixed(1)}% of one core (median)`);
if (failures.length) console.log(`${failures.length} trial(s) failed and are left out: ${failures.map((f) => f.split('\n')[0]).join('; ')}`);
console.log(`load average before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${load1.map((x) => x.toFixed(2)).join(' ')} (${os.cpus().length} cores)`);

const out = values.json ?? join(ROOT, 'bench/results', `dash-overhead-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(join(out, '..'), { recursive: true });
writeFileSync(out, `${JSON.stringify({ bench: 'dash-overhead', host: hostFingerprint(ROOT, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version), seconds, hz, loadBefore: load0, loadAfter: load1, without, with: withDash, trials: results, failures }, null, 2)}\n`);
console.error(`wrote ${out}`);
