// The bench view: suites as they start and finish, each measured figure with p50/p95/p99
// and, for latency figures, the same bars against the 80 ms budget as the live view.
import { Box, Text, useWindowSize } from 'ink';
import React, { useEffect, useState, type ReactElement } from 'react';
import { BUDGET_MS } from '../../src/telemetry/spans.ts';
import type { BenchFigure, BenchProgress } from './events.ts';
import { barCells, barScale, barText, fit, HEADROOM_COLOR, headroom, ms } from './format.ts';
import { scaleLine } from './panels.ts';
import type { Latest } from './store.ts';

const h = React.createElement;

export interface BenchState {
  readonly suites: readonly { readonly suite: string; readonly tasks: readonly string[]; readonly done: boolean }[];
  readonly figures: readonly BenchFigure[];
  readonly warnings: readonly string[];
  readonly done: boolean;
}

export const EMPTY_BENCH: BenchState = { suites: [], figures: [], warnings: [], done: false };

/** The state after one progress message. */
export function benchReduce(s: BenchState, p: BenchProgress): BenchState {
  switch (p.kind) {
    case 'suite-start': return { ...s, suites: [...s.suites, { suite: p.suite, tasks: p.tasks, done: false }] };
    case 'figure': return { ...s, figures: [...s.figures, p.figure] };
    case 'suite-done': return { ...s, suites: s.suites.map((x) => (x.suite === p.suite ? { ...x, done: true } : x)) };
    case 'done': return { ...s, figures: p.figures.length ? p.figures : s.figures, warnings: p.warnings, done: true };
  }
}

/** How many times its physical floor the figure's p50 takes ('-' without a floor). */
function floorCell(f: BenchFigure): string {
  if (f.floorRatio === undefined) return '-';
  return f.floorRatio >= 100 ? `${Math.round(f.floorRatio)}×` : `${f.floorRatio.toFixed(1)}×`;
}

/** A latency figure is one with a budget fraction or a span name: those get a bar. */
const isLatency = (f: BenchFigure) => f.budgetFraction !== undefined || f.span !== undefined;

export function BenchScreen(props: { state: BenchState; columns: number; rows: number }): ReactElement {
  const { state, columns, rows } = props;
  const nameW = 26;
  const barW = Math.max(10, columns - nameW - 3 * 7 - 3 * 6 - 2);
  const scale = barScale(BUDGET_MS, state.figures.filter(isLatency));
  const running = state.suites.find((x) => !x.done);
  const room = Math.max(1, rows - 3 - (state.warnings.length ? state.warnings.length + 1 : 0));
  const shown = state.figures.slice(-room);
  return h(Box, { flexDirection: 'column', width: columns },
    h(Text, { wrap: 'truncate-end' }, h(Text, { bold: true }, 'SolaceLive bench '),
      `${state.suites.filter((x) => x.done).length}/${state.suites.length} suites done`,
      running ? h(Text, { color: 'cyan' }, `  running ${running.suite} (${running.tasks.length} tasks)`) : null,
      state.done ? h(Text, { color: 'green' }, '  finished') : null),
    // The bar axis as in the live view: labels over the bars' own budget line, apart from the number columns.
    h(Text, { color: 'gray', wrap: 'truncate-end' }, `${'suite/task (ms)'.padEnd(nameW)}${'p50'.padStart(7)}${'p95'.padStart(7)}${'p99'.padStart(7)}${'rme%'.padStart(6)}${'cv%'.padStart(6)}${'×flr'.padStart(6)}  ${scaleLine(barW, scale, BUDGET_MS)}`),
    ...shown.map((f, i) => {
      const label = fit(`${f.suite}/${f.name}`, nameW - 1).padEnd(nameW);
      const nums = `${ms(f.p50).padStart(7)}${ms(f.p95).padStart(7)}${ms(f.p99).padStart(7)}${f.rme.toFixed(1).padStart(6)}${f.cv.toFixed(1).padStart(6)}${floorCell(f).padStart(6)}  `;
      const bar = isLatency(f) ? h(Text, { color: HEADROOM_COLOR[headroom(f.p99, BUDGET_MS)] }, barText(barCells(f, barW, scale, BUDGET_MS))) : null;
      return h(Text, { key: i, wrap: 'truncate-end' }, label, nums, bar);
    }),
    state.figures.length === 0 ? h(Text, { color: 'gray' }, 'no figures yet') : null,
    ...state.warnings.map((w, i) => h(Text, { key: `w${i}`, color: 'yellow', wrap: 'truncate-end' }, `warning: ${w}`)));
}

export function BenchApp(props: { store: Latest<BenchState> }): ReactElement {
  const term = useWindowSize();
  const [s, setS] = useState(props.store.get());
  useEffect(() => props.store.subscribe(setS), [props.store]);
  return h(BenchScreen, { state: s, columns: term.columns, rows: Math.max(10, term.rows - 1) });
}
