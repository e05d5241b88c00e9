// A bench that is stopped, or whose runner dies, leaves nothing running: the suite's process
// and what it started (serves and their engine workers) go too. A left-over suite process
// holds the runner's output open and its serves hold ports and cores; a test runner that
// times a bench out must not wait on them. Checked on the server suite (tiny), once its
// first serve is up.
import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runBench } from '../../bench/lib/runner.ts';
import { BenchError } from '../../bench/lib/errors.ts';
import { descendants } from '../../bench/lib/process-tree.ts';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  for (const end = performance.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 100))) {
    if (performance.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
  }
}

const SUITE_PID = /server \(tiny\): starting… \(process (\d+)\)/;
const SERVING = /capacity search: +1 clients/;

/** Processes under this one whose command line matches `re`. */
function underUs(re: RegExp): number[] {
  const rows = execFileSync('ps', ['-A', '-o', 'pid=,args='], { encoding: 'utf8' }).trim().split('\n').map((l) => /^\s*(\d+)\s+(.*)$/.exec(l)!);
  const mine = new Set(descendants(process.pid));
  return rows.filter((m) => mine.has(Number(m[1])) && re.test(m[2]!)).map((m) => Number(m[1]));
}

describe('bench processes end with the bench', () => {
  it('a suite that fails while its serves run: runBench rejects naming the failure, and nothing it started is left', async () => {
    const logs: string[] = [];
    const run = runBench({ suites: ['server'], config: 'tiny', rounds: 3, quick: true, perRound: 2, log: (m) => logs.push(m) }).catch((e: unknown) => e);
    await until('the first round', () => logs.some((l) => /round 1\/3/.test(l)), 150_000);
    const tree = [...underUs(/suite-child\.ts/), ...underUs(/solacelive\.mjs serve/)];
    const serves = underUs(/solacelive\.mjs serve/);
    expect(serves, logs.join('\n')).toHaveLength(1);
    // The server frozen mid-run (still there, its pipes open): the next round's clients get no answer, and the suite fails.
    process.kill(serves[0]!, 'SIGSTOP');
    try {
      const err = await Promise.race([run, new Promise((r) => setTimeout(() => r('still running 120 s after the failure'), 120_000))]);
      expect(err, logs.join('\n')).toBeInstanceOf(BenchError);
      expect((err as BenchError).code).toBe('BENCH_ERR_SUITE_FAILED');
      expect((err as Error).message).toMatch(/LOADTEST_ERR_NO_ANSWER.*measured no lag/);
      await until(`processes ${tree.join(', ')} gone`, () => tree.every((p) => !alive(p)), 15_000);
    } finally {
      for (const p of tree) if (alive(p)) process.kill(p, 'SIGKILL');
    }
  }, 300_000);

  it('aborted through its signal: runBench rejects BENCH_ERR_ABORTED, and the suite process, its serves and their workers are gone', async () => {
    const logs: string[] = [];
    const ac = new AbortController();
    let tree: number[] = [];
    const run = runBench({ suites: ['server'], config: 'tiny', rounds: 3, quick: true, perRound: 2, signal: ac.signal, log: (m) => logs.push(m) }).catch((e: unknown) => e);
    await until('the first capacity level', () => logs.some((l) => SERVING.test(l)), 120_000);
    const suite = Number(logs.map((l) => SUITE_PID.exec(l)?.[1]).find(Boolean));
    tree = [suite, ...descendants(suite)];
    // The suite process, a serve, and its engine worker at least.
    expect(tree.length, logs.join('\n')).toBeGreaterThanOrEqual(3);
    ac.abort();
    const err = await run;
    expect(err).toBeInstanceOf(BenchError);
    expect((err as BenchError).code).toBe('BENCH_ERR_ABORTED');
    await until(`processes ${tree.join(', ')} gone`, () => tree.every((p) => !alive(p)), 15_000);
  }, 180_000);

  it('aborted while its suite process is stuck (SIGSTOP: no handler of its own can run): it is killed after the grace, with its serves and their workers', async () => {
    const logs: string[] = [];
    const ac = new AbortController();
    const run = runBench({ suites: ['server'], config: 'tiny', rounds: 3, quick: true, perRound: 2, signal: ac.signal, log: (m) => logs.push(m) }).catch((e: unknown) => e);
    await until('the first capacity level', () => logs.some((l) => SERVING.test(l)), 120_000);
    const suite = Number(logs.map((l) => SUITE_PID.exec(l)?.[1]).find(Boolean));
    const tree = [suite, ...descendants(suite)];
    expect(tree.length, logs.join('\n')).toBeGreaterThanOrEqual(3);
    process.kill(suite, 'SIGSTOP');
    try {
      ac.abort();
      const err = await run;
      expect((err as BenchError).code).toBe('BENCH_ERR_ABORTED');
      expect(logs.join('\n')).toMatch(/its process \(pid \d+\) was still there 5 s after the run was aborted: killed \(SIGKILL\) with the processes it started/);
      await until(`processes ${tree.join(', ')} gone`, () => tree.every((p) => !alive(p)), 15_000);
    } finally {
      for (const p of tree) if (alive(p)) process.kill(p, 'SIGKILL');
    }
  }, 180_000);

  it('its runner killed (SIGKILL): the suite process, its serves and their workers go too', async () => {
    const script = `import { runBench } from ${JSON.stringify(new URL('../../bench/lib/runner.ts', import.meta.url).pathname)};
await runBench({ suites: ['server'], config: 'tiny', rounds: 3, quick: true, perRound: 2, log: (m) => console.error(m) });`;
    const runner = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    runner.stderr!.on('data', (d) => (log += d));
    try {
      await until('the first capacity level', () => SERVING.test(log), 120_000);
      const suite = Number(SUITE_PID.exec(log)![1]);
      const tree = [suite, ...descendants(suite)];
      expect(tree.length, log).toBeGreaterThanOrEqual(3);
      runner.kill('SIGKILL');
      await until(`processes ${tree.join(', ')} gone`, () => tree.every((p) => !alive(p)), 15_000);
    } finally {
      runner.kill('SIGKILL');
    }
  }, 180_000);
});
