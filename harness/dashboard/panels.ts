// The live view's panels as Ink components, written with React.createElement (Node runs
// these .ts files by type stripping, which does not handle JSX). Each panel takes the
// snapshot and the space it may use; none reads the terminal itself, so tests render them
// at a fixed size.
import { Box, Text } from 'ink';
import React, { type ReactElement } from 'react';
import type { SessionFigures, TelemetryEvent, TelemetrySnapshot } from '../../src/server/telemetry-stream.ts';
import { SPAN_NAMES } from '../../src/telemetry/spans.ts';
import type { SpanStats } from '../../src/telemetry/window.ts';
import { admissionLines, capacityLine, refusingText, workerHeader, workerRow, workersOf } from './capacity.ts';
import { barCells, barScale, barText, bytes, fit, HEADROOM_COLOR, headroom, ms, pct, rtfText, sessionLatency, sessionWindowNote, shortId, spanWindow, sparkline } from './format.ts';

const h = React.createElement;

export const SPAN_LABEL_WIDTH = 13;
const NUM = 7;
/** Label, four numbers (p50 p95 p99 max) and a space before the bar. */
export const BAR_OFFSET = SPAN_LABEL_WIDTH + 4 * NUM + 1;

const num = (x: number | null | undefined) => ms(x).padStart(NUM);

/**
 * The axis labels above the bars: the budget (with its unit) ending on its line and the
 * scale's top at the right. No "0" at the left: next to the "max" column it read as a max.
 */
export function scaleLine(width: number, scale: number, budgetMs: number): string {
  const line = Array.from({ length: width }, () => ' ');
  const b = Math.round((budgetMs / scale) * width);
  const put = (at: number, s: string) => {
    for (let i = 0; i < s.length && at + i < width; i++) if (at + i >= 0) line[at + i] = s[i]!;
  };
  // The budget label ends at its line, or starts there when there is no room before it.
  const before = `${budgetMs} ms│`;
  let budgetEnd = -1;
  if (b < width) {
    if (b - before.length + 1 >= 2) {
      put(b - before.length + 1, before);
      budgetEnd = b;
    } else {
      put(b, `│${budgetMs} ms`);
      budgetEnd = b + before.length - 1;
    }
  }
  // The top of the scale, where it leaves a space after the budget label.
  const top = `${scale}`;
  if (width - top.length > budgetEnd + 1) put(width - top.length, top);
  return line.join('');
}

export function SpanBars(props: { snap: TelemetrySnapshot; columns: number }): ReactElement {
  const { snap, columns } = props;
  const width = Math.max(10, columns - BAR_OFFSET - 1);
  const scale = barScale(snap.budgetMs, SPAN_NAMES.map((n) => snap.spans[n]));
  const keeps = snap.budget?.keepsUp;
  const header = `${'span'.padEnd(SPAN_LABEL_WIDTH)}${'p50'.padStart(NUM)}${'p95'.padStart(NUM)}${'p99'.padStart(NUM)}${'max'.padStart(NUM)} `;
  const rows = SPAN_NAMES.map((name) => {
    const s: SpanStats | undefined = snap.spans[name];
    const label = name.padEnd(SPAN_LABEL_WIDTH);
    if (!s) return h(Text, { key: name, color: 'gray' }, `${label}${num(null)}${num(null)}${num(null)}${num(null)} ${' '.repeat(width)}`);
    const c = barCells(s, width, scale, snap.budgetMs);
    const color = HEADROOM_COLOR[headroom(s.p99, snap.budgetMs)];
    return h(Text, { key: name },
      // e2e is what the budget counts; step.total the model's share of it.
      h(Text, { bold: name === 'e2e' }, label),
      `${num(s.p50)}${num(s.p95)}${num(s.p99)}`,
      h(Text, { color: s.max > snap.budgetMs ? 'red' : undefined }, num(s.max)),
      ' ',
      h(Text, { color }, barText(c)));
  });
  return h(Box, { flexDirection: 'column' },
    // Which steps these are: one overloaded minute stays in the window long after it ended.
    // The verdict (e2e over the same window) leads: a server that falls behind says so first.
    h(Text, { bold: true, wrap: 'truncate-end' },
      h(Text, { color: keeps === false ? 'red' : keeps ? 'green' : 'gray' }, keeps == null ? 'NO STEPS' : keeps ? 'KEEPS UP' : 'FALLS BEHIND'),
      ` · spans over ${spanWindow(snap.window, snap.steps)} (ms), counts since start`),
    h(Text, { color: 'gray' }, `${header}${scaleLine(width, scale, snap.budgetMs)}`),
    ...rows);
}

/** e2e of the last steps, one character each; steps over budget in red. */
export function Sparkline(props: { values: readonly number[]; budgetMs: number; columns: number; label?: string }): ReactElement {
  const label = (props.label ?? 'e2e').padEnd(SPAN_LABEL_WIDTH);
  const width = Math.max(10, props.columns - label.length - 1);
  const { text, over } = sparkline(props.values, props.budgetMs, width);
  // Runs of the same colour, so a long line is a few Text nodes rather than one per step.
  const parts: ReactElement[] = [];
  let start = 0;
  for (let i = 1; i <= text.length; i++) {
    if (i === text.length || over[i] !== over[start]) {
      parts.push(h(Text, { key: start, color: over[start] ? 'red' : 'cyan' }, text.slice(start, i)));
      start = i;
    }
  }
  return h(Text, null, h(Text, { bold: true }, label), ...parts, props.values.length === 0 ? h(Text, { color: 'gray' }, 'no steps yet') : null);
}

export function Figures(props: { snap: TelemetrySnapshot; columns: number }): ReactElement {
  const s = props.snap;
  const warn = (n: number) => (n > 0 ? 'yellow' : undefined);
  return h(Box, { flexDirection: 'column' },
    h(Text, { wrap: 'truncate-end' },
      `steps ${s.steps}  `,
      h(Text, { color: s.budgetMisses > 0 ? 'red' : 'green' }, `misses ${s.budgetMisses} (${pct(s.budgetMisses, s.steps)})`),
      '  frames ', h(Text, { color: warn(s.frames.late) }, `late ${s.frames.late}`),
      ' ', h(Text, { color: warn(s.frames.missing) }, `missing ${s.frames.missing}`),
      ' ', h(Text, { color: warn(s.frames.dropped) }, `dropped ${s.frames.dropped}`),
      `  queue ${s.queue.inputFrames} fr ${bytes(s.queue.sendBytes)}`),
    h(Text, { wrap: 'truncate-end' },
      h(Text, { color: warn(s.droppedPartials) }, `partials dropped ${s.droppedPartials}`),
      '  ', h(Text, { color: warn(s.skippedDecodes) }, `decodes skipped ${s.skippedDecodes}`),
      '  ', h(Text, { color: s.errors > 0 ? 'red' : undefined }, `errors ${s.errors}`),
      // Over the window, like the spans (the counts above are since start).
      '  window rtf ', h(Text, { color: HEADROOM_COLOR[headroom(s.realTimeFactor === null ? null : s.realTimeFactor * s.budgetMs, s.budgetMs)] }, rtfText(s.realTimeFactor, s.budget?.engineRealTimeFactor ?? null))));
}

export function sessionRowHeader(): string {
  return `${'session'.padEnd(9)}${'state'.padEnd(10)}${'steps'.padStart(5)}${'p50'.padStart(6)}${'p99'.padStart(6)}${'max'.padStart(6)}${'miss'.padStart(5)}${'late'.padStart(5)}${'lost'.padStart(5)}${'drop'.padStart(5)}${'skip'.padStart(5)}${'err'.padStart(4)}${'queue'.padStart(6)}`;
}

export function sessionRow(x: SessionFigures): string {
  const t = sessionLatency(x);
  return `${shortId(x.id).padEnd(9)}${fit(x.state, 9).padEnd(10)}${String(x.steps).padStart(5)}${ms(t?.p50).padStart(6)}${ms(t?.p99).padStart(6)}${ms(t?.max).padStart(6)}${String(x.budgetMisses).padStart(5)}${String(x.late).padStart(5)}${String(x.missing).padStart(5)}${String(x.droppedPartials).padStart(5)}${String(x.skippedDecodes).padStart(5)}${String(x.errors).padStart(4)}${String(x.inputQueue).padStart(6)}`;
}

/** Sessions, live first; the selected one marked; at most `max` rows, scrolled to keep it in view. */
export function SessionList(props: { snap: TelemetrySnapshot; selected: number; max: number; columns: number }): ReactElement {
  const { snap, selected } = props;
  // A session whose socket closed counts as closed before its close hooks have run.
  const live = snap.sessions.filter((x) => x.closedAt === null && x.state !== 'closed').length;
  const max = Math.max(0, props.max);
  const first = Math.min(Math.max(0, selected - max + 1), Math.max(0, snap.sessions.length - max));
  const shown = snap.sessions.slice(first, first + max);
  return h(Box, { flexDirection: 'column' },
    h(Text, { wrap: 'truncate-end' }, h(Text, { bold: true }, `Sessions ${live}/${snap.sessions.length}`), h(Text, { color: 'gray' }, ` · ${sessionWindowNote(snap.sessionWindow)}`)),
    snap.sessions.length > 0 ? h(Text, { color: 'gray', wrap: 'truncate-end' }, `  ${sessionRowHeader()}`) : null,
    ...shown.map((x, i) => {
      const sel = first + i === selected;
      const color = x.closedAt !== null ? 'gray' : HEADROOM_COLOR[headroom(sessionLatency(x)?.p99, snap.budgetMs)];
      return h(Text, { key: x.id, wrap: 'truncate-end', inverse: sel }, `${sel ? '›' : ' '} `, h(Text, { color }, sessionRow(x)));
    }),
    snap.sessions.length === 0 ? h(Text, { color: 'gray' }, '  no sessions yet: stream one with `solacelive client --in WAV --url ws://…`') : null);
}

function eventColor(e: TelemetryEvent): string | undefined {
  if (e.kind === 'error' || e.kind === 'protocol-error' || e.kind === 'engine-restart') return 'red';
  if (e.kind === 'engine-state') return e.detail.startsWith('engine ok') ? 'green' : 'red';
  if (e.kind === 'session-open' || e.kind === 'session-close') return 'gray';
  return 'yellow';
}

export function eventLine(e: TelemetryEvent): string {
  const t = (e.t / 1000).toFixed(1).padStart(7);
  const step = e.step === null ? '' : ` step ${e.step}`;
  return `${t}s ${shortId(e.session).padEnd(8)} ${e.kind}${step}: ${e.detail}`;
}

/** The newest `max` events (optionally of one session), oldest at the top. */
export function EventList(props: { events: readonly TelemetryEvent[]; max: number; title?: string }): ReactElement {
  const shown = props.max > 0 ? props.events.slice(-props.max) : [];
  return h(Box, { flexDirection: 'column' },
    h(Text, { bold: true }, props.title ?? 'Recent events'),
    ...shown.map((e, i) => h(Text, { key: `${e.t}-${i}`, color: eventColor(e), wrap: 'truncate-end' }, eventLine(e))),
    props.events.length === 0 ? h(Text, { color: 'gray' }, '  none: no late or missing frames, dropped partials, skipped decodes or errors') : null);
}

/** The overview's capacity line: live of capacity, the cost, counts; red while it would refuse. */
export function CapacityLine(props: { snap: TelemetrySnapshot }): ReactElement {
  const a = props.snap.admission;
  const refusing = a ? a.refusing !== null : false;
  return h(Text, { wrap: 'truncate-end' }, capacityLine(a), a ? h(Text, { color: refusing ? 'red' : 'green' }, refusing ? ' · REFUSING (tab: capacity)' : ' · accepting') : null);
}

/** Admission and each engine worker, within `rows` lines. */
export function CapacityPanel(props: { snap: TelemetrySnapshot; rows: number; columns: number }): ReactElement {
  const { snap, rows } = props;
  const a = snap.admission;
  const lines = admissionLines(a, snap.budgetMs);
  const why = refusingText(a);
  const workers = workersOf(snap);
  // Admission lines, the reason (up to 3 wrapped lines), the workers' title and heads, then as many workers as fit.
  const shown = Math.max(0, Math.min(workers.length, rows - lines.length - 3 - 2));
  return h(Box, { flexDirection: 'column' },
    ...lines.map((l, i) => h(Text, { key: `a${i}`, bold: i === 0, wrap: 'truncate-end', color: i > 0 && l.endsWith('FALLING BEHIND') ? 'red' : undefined }, l)),
    why === null ? null : h(Box, { key: 'why', height: Math.min(3, Math.ceil(why.length / Math.max(1, props.columns))) }, h(Text, { color: a?.refusing ? 'red' : 'green', wrap: 'wrap' }, why)),
    h(Text, { bold: true, wrap: 'truncate-end' }, `Engine workers (${workers.length}${shown < workers.length ? `, ${shown} shown` : ''})`),
    workers.length > 0 ? h(Text, { color: 'gray', wrap: 'truncate-end' }, workerHeader()) : h(Text, { color: 'gray' }, '  none: no engine'),
    ...workers.slice(0, shown).map((w, i) => h(Text, { key: `w${i}`, wrap: 'truncate-end', color: w.state === 'ok' ? undefined : w.state === 'restarting' || w.state === 'starting' ? 'yellow' : 'red' }, workerRow(w, i))));
}
