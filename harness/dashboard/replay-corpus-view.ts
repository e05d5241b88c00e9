// The corpus replay view: sessions done of total, one row per worker with the session it is
// replaying and its steps, the verdict counts so far and the speed against real time. Same
// header and colours as the single-session replay view.
import { Box, Text, useWindowSize } from 'ink';
import React, { useEffect, useState, type ReactElement } from 'react';
import type { CorpusProgress } from '../replay/corpus.ts';
import { fit } from './format.ts';
import type { Latest } from './store.ts';

const h = React.createElement;

const COUNT_COLOR: Record<string, string> = { 'bit-exact': 'green', 'token-exact': 'yellow', diverged: 'red' };

function bar(done: number, total: number, width: number, color: string): ReactElement {
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(frac * width);
  return h(Text, null, h(Text, { color }, '█'.repeat(filled)), h(Text, { color: 'gray' }, '░'.repeat(width - filled)), ` ${(frac * 100).toFixed(0).padStart(3)}%`);
}

export function CorpusScreen(props: { progress: CorpusProgress | null; columns: number }): ReactElement {
  const { progress: p, columns } = props;
  if (!p) return h(Text, { color: 'gray' }, 'replay: listing the sessions and starting the engine workers…');
  const width = Math.max(10, columns - 30);
  const counts = Object.entries(p.counts);
  return h(Box, { flexDirection: 'column', width: columns },
    h(Text, { wrap: 'truncate-end' }, h(Text, { bold: true }, 'SolaceLive replay corpus '), `${p.sessions} sessions on ${p.running.length} workers`, p.finished ? h(Text, { color: 'gray' }, '  done') : null),
    h(Text, null, `sessions ${`${p.done}/${p.sessions}`.padStart(8)} `, bar(p.done, p.sessions, width, p.failed ? 'red' : 'green')),
    ...p.running.map((s, i) => h(Text, { key: `w${i}`, wrap: 'truncate-end' },
      `worker ${i}  `, s === null ? h(Text, { color: 'gray' }, 'idle') : h(Text, null, `${`${p.steps[i]!.done}/${p.steps[i]!.total}`.padStart(9)} steps  ${fit(s, Math.max(10, columns - 30))}`))),
    h(Text, null, `speed ${p.speed > 0 ? `${p.speed.toFixed(2)}× real time` : '–'}  wall ${(p.wallMs / 1000).toFixed(1)} s`),
    h(Text, null, 'verdicts ', counts.length === 0 ? h(Text, { color: 'gray' }, 'none yet') : null,
      ...counts.map(([k, n], i) => h(Text, { key: k, color: COUNT_COLOR[k] ?? 'red', bold: true }, `${i ? ', ' : ''}${n} ${k}`))),
    p.failed ? h(Text, { color: 'red' }, `${p.failed} not met${p.finished ? '' : ' so far'}`) : h(Text, { color: 'gray' }, p.finished ? 'all met' : 'none failed so far'));
}

export function CorpusApp(props: { store: Latest<CorpusProgress | null>; columns?: number }): ReactElement {
  const term = useWindowSize();
  const [p, setP] = useState(props.store.get());
  useEffect(() => props.store.subscribe(setP), [props.store]);
  return h(CorpusScreen, { progress: p, columns: props.columns ?? term.columns });
}
