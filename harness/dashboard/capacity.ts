// What the dashboard says of the server's capacity: admission (cost per step, capacity,
// admitted and refused counts, why it would refuse the next session) and each engine worker
// (state, sessions, CPU, step p99). Pure text, shared by the live view and the plain output.
import type { WorkerFigures } from '../../src/engine/host.ts';
import type { TelemetryAdmission, TelemetrySnapshot } from '../../src/server/telemetry-stream.ts';
import { ms } from './format.ts';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Where the cost comes from, in words. */
function basisText(a: TelemetryAdmission): string {
  switch (a.basis) {
    case 'cpu': return `CPU over the last ${a.measuredSteps} steps`;
    case 'wall': return `wall time over the last ${a.measuredSteps} steps, CPU ${ms(a.cpuMsPerStep)}: the cores are shared`;
    case 'step-p99': return 'step.total p99';
    case 'prior': return `none measured yet: ${a.workers > 0 ? Math.round(a.capacity / a.workers) : '?'} per worker until the first steps`;
  }
}

/** One line for the overview: live/capacity, the cost and whether a new session would be admitted. */
export function capacityLine(a: TelemetryAdmission | null | undefined): string {
  if (!a) return 'capacity: not reported by this server';
  const cost = a.mode === 'max-sessions' ? 'by --max-sessions alone' : a.costMs === null ? 'cost not measured yet' : `cost ${ms(a.costMs)} ms/step (${a.basis})`;
  return `capacity ${a.live}/${a.capacity} live · ${cost} · admitted ${a.admitted} refused ${a.refused.busy + a.refused.full}`;
}

/** The admission panel's lines (without the refusal reason, which the caller wraps). */
export function admissionLines(a: TelemetryAdmission | null | undefined, budgetMs: number): string[] {
  if (!a) return ['Admission: not reported by this server (older than admission in /telemetry)'];
  const head = a.mode === 'max-sessions' ? 'Admission by --max-sessions alone (serve --admission max-sessions)' : 'Admission by measured cost';
  const cost = a.costMs === null ? `cost per step: ${basisText(a)}` : `cost per step ${ms(a.costMs)} ms (${basisText(a)})`;
  const perWorker = a.costMs === null || a.workers === 0 ? '' : ` = ${plural(a.workers, 'worker')} × ${Math.max(1, Math.floor(a.budgetMsPerWorker / a.costMs))}`;
  const lines = [head, cost,
    `capacity ${a.capacity}${perWorker} (${a.budgetMsPerWorker} ms of each worker's ${budgetMs} ms, at most ${a.maxSessions}) · live ${a.live}`,
    `admitted ${a.admitted} · refused ${a.refused.busy + a.refused.full} (busy ${a.refused.busy}, full ${a.refused.full})`];
  const b = a.liveBudget;
  if (b) lines.push(`live sessions now: e2e p99 ${b.p99Ms === null ? '-' : `${ms(b.p99Ms)} ms`} over the last ${b.window} steps (${b.sinceMs / 1000} s), ${b.misses} over ${budgetMs} ms${a.behind ? ': FALLING BEHIND' : ''}`);
  return lines;
}

/** Whether a new session would be admitted now, and if not why: the server's own words. */
export function refusingText(a: TelemetryAdmission | null | undefined): string | null {
  if (!a) return null;
  return a.refusing === null ? 'accepting new sessions' : `REFUSING new sessions: ${a.refusing}`;
}

const CPU_W = 7;
export function workerHeader(): string {
  return `${'worker'.padEnd(7)}${'state'.padEnd(11)}${'pid'.padStart(8)}${'sessions'.padStart(9)}${'cpu'.padStart(CPU_W)}${'step p99'.padStart(10)}${'steps'.padStart(8)}${'restarts'.padStart(9)}`;
}

/** One worker: its state, sessions, CPU (share of a core over the last sample) and its own step.total p99. */
export function workerRow(w: WorkerFigures, i: number): string {
  const cpu = w.cpu === null ? '-' : `${Math.round(w.cpu * 100)}%`;
  return `${`#${i}`.padEnd(7)}${w.state.slice(0, 10).padEnd(11)}${String(w.pid ?? '-').padStart(8)}${String(w.sessions).padStart(9)}${cpu.padStart(CPU_W)}${`${ms(w.stepP99Ms)} ms`.padStart(10)}${String(w.steps).padStart(8)}${String(w.restarts).padStart(9)}`;
}

export function workersOf(s: TelemetrySnapshot): readonly WorkerFigures[] {
  return s.engine.workers ?? [];
}
