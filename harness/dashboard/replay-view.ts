// The replay view: steps done of total, speed against real time, the verdict so far, and
// the first divergence as soon as the replayer sees it. Same header and colours as the
// live view.
import { Box, Text, useWindowSize } from 'ink';
import React, { useEffect, useState, type ReactElement } from 'react';
import type { ReplayProgress } from './events.ts';
import { fit } from './format.ts';
import type { Latest } from './store.ts';

const h = React.createElement;

const VERDICT_COLOR: Record<ReplayProgress['verdict'], string> = { running: 'cyan', 'bit-exact': 'green', 'token-exact': 'yellow', diverged: 'red' };

export function ReplayScreen(props: { progress: ReplayProgress | null; columns: number }): ReactElement {
  const { progress: p, columns } = props;
  if (!p) return h(Text, { color: 'gray' }, 'replay: opening the session and starting the engine…');
  const width = Math.max(10, columns - 30);
  const frac = p.stepsTotal > 0 ? Math.min(1, p.stepsDone / p.stepsTotal) : 0;
  const filled = Math.round(frac * width);
  const color = VERDICT_COLOR[p.verdict];
  const verdict = p.verdict === 'diverged' && p.firstDivergence ? `diverged at step ${p.firstDivergence.step}` : p.verdict;
  return h(Box, { flexDirection: 'column', width: columns },
    h(Text, { wrap: 'truncate-end' }, h(Text, { bold: true }, 'SolaceLive replay '), p.session, p.done ? h(Text, { color: 'gray' }, '  done') : null),
    h(Text, null, `steps ${`${p.stepsDone}/${p.stepsTotal}`.padStart(11)} `, h(Text, { color }, '█'.repeat(filled)), h(Text, { color: 'gray' }, '░'.repeat(width - filled)), ` ${(frac * 100).toFixed(0).padStart(3)}%`),
    h(Text, null, `speed ${p.speed > 0 ? `${p.speed.toFixed(2)}× real time` : '–'}`),
    h(Text, null, 'verdict ', h(Text, { color, bold: true }, verdict)),
    p.firstDivergence
      ? h(Box, { flexDirection: 'column' },
        h(Text, { color: 'red', bold: true }, `first divergence at step ${p.firstDivergence.step}:`),
        ...p.firstDivergence.detail.split('\n').slice(0, 12).map((line, i) => h(Text, { key: i, color: 'red', wrap: 'truncate-end' }, fit(`  ${line}`, columns))))
      : h(Text, { color: 'gray' }, p.done ? 'no divergence' : 'no divergence so far'));
}

export function ReplayApp(props: { store: Latest<ReplayProgress | null>; columns?: number }): ReactElement {
  const term = useWindowSize();
  const [p, setP] = useState(props.store.get());
  useEffect(() => props.store.subscribe(setP), [props.store]);
  return h(ReplayScreen, { progress: p, columns: props.columns ?? term.columns });
}
