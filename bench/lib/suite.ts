// Shared plumbing for the tinybench suites: run tasks that each do `batch` operations per
// call (sub-microsecond operations cannot be timed one at a time), turn tinybench's
// results into per-operation figures, print a table and write a JSON result file.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { hostFingerprint, type HostFingerprint } from '../../src/telemetry/host.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface TaskSpec {
  readonly name: string;
  /** Operations done by one call of fn. */
  readonly batch: number;
  /** Bytes processed per operation (for GB/s), if meaningful. */
  readonly bytesPerOp?: number;
  readonly fn: () => void;
}

export interface TaskFigures {
  readonly name: string;
  readonly batch: number;
  readonly samples: number;
  /** Per operation, microseconds. */
  readonly p50Us: number;
  readonly p99Us: number;
  readonly meanUs: number;
  readonly minUs: number;
  readonly maxUs: number;
  /** Relative margin of error of the mean, percent. */
  readonly rmePct: number;
  /** Coefficient of variation of the per-call latency, percent. */
  readonly cvPct: number;
  /** Operations per second, from the median. */
  readonly opsPerSec: number;
  readonly gbPerSec: number | null;
}

export interface SuiteResult {
  readonly suite: string;
  readonly createdAt: string;
  readonly host: HostFingerprint;
  readonly settings: { readonly timeMs: number; readonly warmupMs: number };
  readonly tasks: TaskFigures[];
  readonly ratios: Record<string, number>;
}

export async function runTasks(tasks: readonly TaskSpec[], opts: { timeMs: number; warmupMs: number }): Promise<TaskFigures[]> {
  const bench = new Bench({ time: opts.timeMs, warmupTime: opts.warmupMs, warmup: true });
  for (const t of tasks) bench.add(t.name, t.fn);
  await bench.run();
  return tasks.map((t) => {
    const task = bench.getTask(t.name);
    const r = task?.result;
    if (!r || !('latency' in r)) throw new Error(`benchmark task ${t.name} did not complete: ${r && 'error' in r ? String(r.error) : r?.state}`);
    const l = r.latency;
    const perOp = (ms: number) => (ms * 1000) / t.batch;
    const sd = Math.sqrt(l.variance);
    return {
      name: t.name,
      batch: t.batch,
      samples: l.samplesCount,
      p50Us: perOp(l.p50),
      p99Us: perOp(l.p99),
      meanUs: perOp(l.mean),
      minUs: perOp(l.min),
      maxUs: perOp(l.max),
      rmePct: l.rme,
      cvPct: (sd / l.mean) * 100,
      opsPerSec: (t.batch * 1000) / l.p50,
      gbPerSec: t.bytesPerOp ? (t.bytesPerOp * t.batch) / (l.p50 / 1000) / 1e9 : null,
    };
  });
}

const fmt = (x: number, digits = 3) => (x >= 100 ? x.toFixed(0) : x.toPrecision(digits));

export function formatTable(tasks: readonly TaskFigures[]): string {
  const rows = [['task', 'ops/s (p50)', 'p50 µs', 'p99 µs', 'cv %', 'rme %', 'GB/s', 'samples']];
  for (const t of tasks) {
    rows.push([t.name, Math.round(t.opsPerSec).toLocaleString('en-US'), fmt(t.p50Us), fmt(t.p99Us), t.cvPct.toFixed(1), t.rmePct.toFixed(2), t.gbPerSec === null ? '' : t.gbPerSec.toFixed(2), String(t.samples)]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r, i) => {
    const line = r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
    return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Writes the result JSON (default bench/results/<suite>-<timestamp>.json) and returns its path. */
export function writeResult(result: SuiteResult, out?: string): string {
  const path = out ?? join(ROOT, 'bench', 'results', `${result.suite}-${result.createdAt.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

export function makeResult(suite: string, tasks: TaskFigures[], ratios: Record<string, number>, settings: SuiteResult['settings']): SuiteResult {
  return { suite, createdAt: new Date().toISOString(), host: hostFingerprint(ROOT, packageVersion()), settings, tasks, ratios };
}
