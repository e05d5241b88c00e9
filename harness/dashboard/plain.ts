// Non-TTY output (CI logs, pipes): one summary line per period and a final table, instead
// of an interactive screen. Lines are `word key=value key=value …` with a fixed key order
// and no spaces inside values (strings with spaces are JSON-quoted), so `parseSummary`
// (and grep/awk) read them back; tables have fixed columns.
import type { TelemetrySnapshot } from '../../src/server/telemetry-stream.ts';
import { SPAN_NAMES } from '../../src/telemetry/spans.ts';
import type { BenchFigure, ReplayProgress } from './events.ts';
import { admissionLines, refusingText, workerHeader, workerRow, workersOf } from './capacity.ts';
import { fit, pct, rtfText, sessionLatency, sessionWindowNote, shortId, spanWindow, verdictText } from './format.ts';

type Value = string | number | boolean | null;

const value = (v: Value): string => {
  if (v === null) return '-';
  if (typeof v === 'number') return Number.isFinite(v) ? String(Math.round(v * 1000) / 1000) : '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
};

/** `word k=v …` from ordered pairs. */
export function summaryLine(word: string, pairs: readonly (readonly [string, Value])[]): string {
  return [word, ...pairs.map(([k, v]) => `${k}=${value(v)}`)].join(' ');
}

/** A summary line back into its word and fields (numbers as numbers, '-' as null). */
export function parseSummary(line: string): { word: string; fields: Record<string, string | number | null> } {
  const m = /^(\S+)((?: [^\s=]+=(?:"(?:[^"\\]|\\.)*"|\S+))*)$/.exec(line);
  if (!m) throw new Error(`not a summary line: ${line}`);
  const fields: Record<string, string | number | null> = {};
  for (const f of m[2]!.matchAll(/ ([^\s=]+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    const raw = f[2]!;
    fields[f[1]!] = raw === '-' ? null : raw.startsWith('"') ? (JSON.parse(raw) as string) : /^-?\d+(\.\d+)?(e[+-]?\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  return { word: m[1]!, fields };
}

export function liveSummary(s: TelemetrySnapshot): string {
  const total = s.spans['step.total'];
  return summaryLine('dash', [
    ['t_s', s.t / 1000], ['engine', s.engine.state], ['model', s.model],
    ['sessions', s.sessions.filter((x) => x.closedAt === null).length], ['closed', s.sessions.filter((x) => x.closedAt !== null).length],
    ['steps', s.steps], ['misses', s.budgetMisses], ['late', s.frames.late], ['missing', s.frames.missing], ['dropped_frames', s.frames.dropped],
    ['dropped_partials', s.droppedPartials], ['skipped_decodes', s.skippedDecodes], ['errors', s.errors],
    ['queue_frames', s.queue.inputFrames], ['send_bytes', s.queue.sendBytes], ['rtf', s.realTimeFactor],
    ['p50_ms', total?.p50 ?? null], ['p95_ms', total?.p95 ?? null], ['p99_ms', total?.p99 ?? null], ['max_ms', total?.max ?? null],
    // The budget figures, end to end over the window (p*_ms above are step.total, the model's share).
    ['e2e_p99_ms', s.spans.e2e?.p99 ?? null], ['keeps_up', s.budget?.keepsUp == null ? null : s.budget.keepsUp ? 'yes' : 'no'],
    ['window_misses', s.budget?.misses ?? null], ['engine_rtf', s.budget?.engineRealTimeFactor ?? null],
    // Admission: what a session costs, what the workers hold, and whether the next would be refused.
    ['cost_ms', s.admission?.costMs ?? null], ['cost_basis', s.admission?.basis ?? null], ['capacity', s.admission?.capacity ?? null],
    ['admitted', s.admission?.admitted ?? null], ['refused', s.admission ? s.admission.refused.busy + s.admission.refused.full : null],
    ['accepting', s.admission ? (s.admission.refusing === null ? 'yes' : 'no') : null],
    ['workers_up', s.engine.workers ? s.engine.workers.filter((w) => w.state === 'ok').length : null],
  ]);
}

const col = (v: string | number, w: number, left = false) => {
  const s = typeof v === 'number' ? value(v) : v;
  return left ? s.padEnd(w) : s.padStart(w);
};

/** `text` as lines of at most `width` characters, broken at ", " where it has to be. */
function wrapList(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const part of text.split(', ')) {
    const next = line ? `${line}, ${part}` : part;
    if (next.length <= width || !line) line = next;
    else {
      out.push(`${line},`);
      line = `  ${part}`;
    }
  }
  if (line) out.push(line);
  return out.flatMap((l) => (l.length <= width ? [l] : [fit(l, width)]));
}

/** `text` as lines of at most `width` characters, broken at spaces. */
function wrapWords(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = `  ${word}`;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

/**
 * Per-span table, the counts since start, then per-session table, each saying what steps
 * it covers; at most `columns` wide (the terminal's, 80 in a log). The `dash` summary line
 * is not part of it: it is one machine-read line, whatever its length (live.ts adds it in plain mode).
 */
export function liveTable(s: TelemetrySnapshot, columns = 80): string {
  // Capacity first: the spans and sessions end the table, where a short terminal still shows them.
  const lines = admissionLines(s.admission, s.budgetMs).flatMap((l) => wrapList(l, columns));
  const why = refusingText(s.admission);
  if (why) lines.push(...wrapWords(why, columns));
  const workers = workersOf(s);
  lines.push(`engine workers (${workers.length})`);
  if (workers.length > 0) lines.push(workerHeader(), ...workers.map(workerRow));
  lines.push(fit(`server-wide: spans over ${spanWindow(s.window, s.steps)} (budget ${s.budgetMs} ms), in ms`, columns));
  lines.push(`${col('span', 14, true)}${col('count', 8)}${col('p50', 9)}${col('p95', 9)}${col('p99', 9)}${col('max', 9)}${col('p99/budget', 11)}`);
  for (const name of SPAN_NAMES) {
    const x = s.spans[name];
    if (!x) continue;
    lines.push(`${col(name, 14, true)}${col(x.count, 8)}${col(x.p50, 9)}${col(x.p95, 9)}${col(x.p99, 9)}${col(x.max, 9)}${col(`${((x.p99 / s.budgetMs) * 100).toFixed(1)}%`, 11)}`);
  }
  if (s.budget) lines.push(...wrapList(`budget (e2e): ${verdictText(s.budget.keepsUp, s.budget.window)}, misses ${s.budget.misses} (${pct(s.budget.misses, s.budget.window)}), rtf ${rtfText(s.budget.realTimeFactor, s.budget.engineRealTimeFactor)}`, columns));
  lines.push(...wrapList(`since start: steps ${s.steps}, misses ${s.budgetMisses} (${pct(s.budgetMisses, s.steps)}) over ${s.budgetMs} ms e2e, frames late ${s.frames.late} missing ${s.frames.missing} dropped ${s.frames.dropped}, partials dropped ${s.droppedPartials}, decodes skipped ${s.skippedDecodes}, errors ${s.errors}`, columns));
  lines.push(...wrapList(`sessions (${sessionWindowNote(s.sessionWindow)})`, columns));
  // Whole ids where they fit, else the 8 characters the live view shows.
  const rest = 10 + 8 + 8 + 8 + 7 + 5 + 5 + 5 + 5 + 4;
  const idWidth = Math.max(0, ...s.sessions.map((x) => x.id.length)) + 1 + rest <= columns ? Math.max(3, ...s.sessions.map((x) => x.id.length)) + 1 : 9;
  const id = (x: string) => (idWidth === 9 ? shortId(x) : x);
  const row = (cells: (string | number)[]) => {
    const [a, b, ...n] = cells;
    // A space before every number, so a count wider than its column still reads apart.
    return `${col(a!, idWidth, true)}${col(fit(String(b), 9), 10, true)}${[8, 8, 8, 7, 5, 5, 5, 5, 4].map((w, i) => ` ${col(n[i]!, w - 1)}`).join('')}`;
  };
  lines.push(row(['id', 'state', 'steps', 'p50', 'p99', 'misses', 'late', 'lost', 'drop', 'skip', 'err']));
  for (const x of s.sessions) {
    const t = sessionLatency(x);
    lines.push(row([id(x.id), x.state, x.steps, t?.p50 ?? '-', t?.p99 ?? '-', x.budgetMisses, x.late, x.missing, x.droppedPartials, x.skippedDecodes, x.errors]));
  }
  if (s.sessions.length === 0) lines.push('(none)');
  lines.push(...wrapList('lost: missing frames; drop: dropped partials; skip: skipped decodes', columns));

  return lines.map((l) => fit(l, columns)).join('\n');
}

export function replaySummary(p: ReplayProgress): string {
  return summaryLine('replay', [
    ['session', p.session], ['step', p.stepsDone], ['of', p.stepsTotal], ['speed', p.speed], ['verdict', p.verdict],
    ['first_divergence', p.firstDivergence?.step ?? null], ['done', p.done],
  ]);
}

/** The divergence, as soon as it is seen: its own line, whatever the period. */
export function divergenceLine(p: ReplayProgress): string | null {
  if (!p.firstDivergence) return null;
  return summaryLine('replay-diverged', [['session', p.session], ['step', p.firstDivergence.step], ['detail', p.firstDivergence.detail]]);
}

export function benchFigureLine(f: BenchFigure): string {
  return summaryLine('bench', [
    ['suite', f.suite], ['name', f.name], ['samples', f.samples], ['p50_ms', f.p50], ['p95_ms', f.p95], ['p99_ms', f.p99],
    ['rme_pct', f.rme], ['cv_pct', f.cv], ['budget_fraction', f.budgetFraction ?? null],
  ]);
}

export function benchTable(figures: readonly BenchFigure[], warnings: readonly string[]): string {
  const lines = [`${col('suite', 12, true)}${col('name', 26, true)}${col('samples', 8)}${col('p50 ms', 9)}${col('p95 ms', 9)}${col('p99 ms', 9)}${col('rme%', 7)}${col('cv%', 7)}${col('p99/budget', 11)}`];
  for (const f of figures) {
    const b = f.budgetFraction === undefined ? '-' : `${(f.budgetFraction * 100).toFixed(1)}%`;
    lines.push(`${col(f.suite, 12, true)}${col(f.name, 26, true)}${col(f.samples, 8)}${col(f.p50, 9)}${col(f.p95, 9)}${col(f.p99, 9)}${col(f.rme, 7)}${col(f.cv, 7)}${col(b, 11)}`);
  }
  for (const w of warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
