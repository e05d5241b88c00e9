// Step-by-step comparison of two step sequences (a recording and its replay, or two
// recordings) into the verdicts of design.md: bit-exact, token-exact, or diverged at step
// N with the first differing values and a few steps of context on both sides.
import type { StepRecord } from './format/index.ts';

/** What is compared per step; inputCodes/text/audioCodes decide tokens, pcmHash decides bits. */
export interface StepView {
  readonly step: number;
  readonly inputCodes: readonly number[];
  readonly text: number | null;
  readonly audioCodes: readonly number[] | null;
  readonly pcmHash: string | null;
}

export type VerdictKind = 'bit-exact' | 'token-exact' | 'diverged';

export interface FieldDiff {
  readonly field: 'step' | 'inputCodes' | 'text' | 'audioCodes' | 'pcmHash';
  /** Index into the code array, when the field is one. */
  readonly index: number | null;
  readonly a: unknown;
  readonly b: unknown;
}

export interface ContextRow {
  readonly step: number;
  readonly a: StepView;
  readonly b: StepView;
  /** Fields that differ on this step (empty: the step matches). */
  readonly differs: readonly FieldDiff['field'][];
}

export interface Comparison {
  readonly kind: VerdictKind;
  /** "bit-exact", "token-exact", "diverged at step N". */
  readonly verdict: string;
  readonly steps: number;
  /** First step whose PCM hash differs while tokens matched (token-exact), else null. */
  readonly firstPcmDiff: number | null;
  readonly divergedAt: number | null;
  /** Every differing value of the first diverged step. */
  readonly diffs: readonly FieldDiff[];
  readonly before: readonly ContextRow[];
  /** The diverged step itself. */
  readonly at: ContextRow | null;
  readonly after: readonly ContextRow[];
}

export function viewOf(r: StepRecord): StepView {
  return { step: r.step, inputCodes: r.inputCodes, text: r.text, audioCodes: r.audioCodes, pcmHash: r.pcmHash };
}

function codeDiffs(field: 'inputCodes' | 'audioCodes', a: readonly number[] | null, b: readonly number[] | null): FieldDiff[] {
  if (a === null || b === null) return a === b ? [] : [{ field, index: null, a, b }];
  const out: FieldDiff[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) out.push({ field, index: i, a: a[i] ?? null, b: b[i] ?? null });
  return out;
}

/** Token-level differences (what makes a divergence); PCM is checked apart. */
function tokenDiffs(a: StepView, b: StepView): FieldDiff[] {
  const d: FieldDiff[] = [];
  if (a.step !== b.step) d.push({ field: 'step', index: null, a: a.step, b: b.step });
  d.push(...codeDiffs('inputCodes', a.inputCodes, b.inputCodes));
  if (a.text !== b.text) d.push({ field: 'text', index: null, a: a.text, b: b.text });
  d.push(...codeDiffs('audioCodes', a.audioCodes, b.audioCodes));
  return d;
}

/** Feed pairs in step order; `done` says when enough context after a divergence is in. */
export class Comparator {
  private readonly context: number;
  private readonly ring: ContextRow[] = [];
  private steps = 0;
  private firstPcmDiff: number | null = null;
  private divergedAt: number | null = null;
  private diffs: FieldDiff[] = [];
  private before: ContextRow[] = [];
  private at: ContextRow | null = null;
  private readonly after: ContextRow[] = [];

  constructor(context = 3) {
    this.context = context;
  }

  get done(): boolean {
    return this.divergedAt !== null && this.after.length >= this.context;
  }

  add(a: StepView, b: StepView): void {
    const tokens = tokenDiffs(a, b);
    const pcm = a.pcmHash !== b.pcmHash;
    const differs = [...new Set(tokens.map((d) => d.field))];
    if (pcm) differs.push('pcmHash');
    const row: ContextRow = { step: a.step, a, b, differs };
    if (this.divergedAt !== null) {
      this.after.push(row);
      return;
    }
    this.steps++;
    if (tokens.length > 0) {
      this.divergedAt = a.step;
      this.diffs = pcm ? [...tokens, { field: 'pcmHash', index: null, a: a.pcmHash, b: b.pcmHash }] : tokens;
      this.before = [...this.ring];
      this.at = row;
      return;
    }
    if (pcm && this.firstPcmDiff === null) this.firstPcmDiff = a.step;
    this.ring.push(row);
    if (this.ring.length > this.context) this.ring.shift();
  }

  result(): Comparison {
    const kind: VerdictKind = this.divergedAt !== null ? 'diverged' : this.firstPcmDiff !== null ? 'token-exact' : 'bit-exact';
    return {
      kind,
      verdict: kind === 'diverged' ? `diverged at step ${this.divergedAt}` : kind,
      steps: this.steps,
      firstPcmDiff: this.firstPcmDiff,
      divergedAt: this.divergedAt,
      diffs: this.diffs,
      before: this.before,
      at: this.at,
      after: this.after,
    };
  }
}

/** Which verdicts satisfy an expectation: bit-exact satisfies token-exact too. */
export function satisfies(kind: VerdictKind, expect: 'bit-exact' | 'token-exact'): boolean {
  return kind === 'bit-exact' || (expect === 'token-exact' && kind === 'token-exact');
}

const short = (v: unknown): string => (Array.isArray(v) ? `[${v.join(',')}]` : v === null ? 'null' : String(v));

function rowLine(r: ContextRow, labels: readonly [string, string]): string[] {
  const mark = r.differs.length === 0 ? '   ' : '>> ';
  const same = r.differs.length === 0 ? ' (same)' : ` differs: ${r.differs.join(', ')}`;
  const lines = [`${mark}step ${r.step}${same}`];
  const fields: (keyof StepView)[] = ['inputCodes', 'text', 'audioCodes', 'pcmHash'];
  for (const f of fields) {
    if (r.differs.length === 0 && f !== 'text') continue;
    lines.push(`      ${f.padEnd(10)} ${labels[0]}: ${short(r.a[f])}`);
    if (r.differs.includes(f as FieldDiff['field'])) lines.push(`      ${''.padEnd(10)} ${labels[1]}: ${short(r.b[f])}`);
  }
  return lines;
}

/** Human-readable lines for a comparison (labels name the two sides, e.g. recorded/replayed). */
export function formatComparison(c: Comparison, labels: readonly [string, string] = ['recorded', 'replayed']): string[] {
  const out = [`verdict: ${c.verdict}`];
  if (c.kind === 'token-exact') out.push(`  codes and tokens equal over ${c.steps} steps; first PCM hash difference at step ${c.firstPcmDiff}`);
  if (c.kind === 'bit-exact') out.push(`  ${c.steps} steps: every code, token and PCM hash equal`);
  if (c.kind === 'diverged') {
    out.push(`  first differing values at step ${c.divergedAt}:`);
    for (const d of c.diffs) out.push(`    ${d.field}${d.index === null ? '' : `[${d.index}]`}: ${labels[0]} ${short(d.a)}, ${labels[1]} ${short(d.b)}`);
    out.push('  context:');
    for (const r of [...c.before, ...(c.at ? [c.at] : []), ...c.after]) out.push(...rowLine(r, labels).map((l) => `  ${l}`));
  }
  return out;
}
