// `solacelive bench --dashboard`: the bench runner (bench/, issue 7) imports this module
// dynamically and reports through it. On a terminal: the Ink bench view; otherwise each
// figure as a plain `bench key=value …` line when measured, and a final table.
import { render } from 'ink';
import React from 'react';
import { BenchApp, benchReduce, EMPTY_BENCH, type BenchState } from './bench-view.ts';
import type { BenchProgress } from './events.ts';
import { isInteractive } from './live.ts';
import { MAX_FPS } from './live-view.ts';
import { benchFigureLine, benchTable, summaryLine } from './plain.ts';
import { Latest } from './store.ts';

export interface BenchDashboard {
  onProgress(p: BenchProgress): void;
  /** Leaves the final view (or table) on screen; resolves once written. */
  finish(): Promise<void>;
}

export function attachBenchDashboard(o: { interactive?: boolean; stdout?: NodeJS.WriteStream } = {}): BenchDashboard {
  const out = o.stdout ?? process.stdout;
  const store = new Latest<BenchState>(EMPTY_BENCH);
  const update = (p: BenchProgress) => store.set(benchReduce(store.get(), p));
  if (o.interactive ?? isInteractive()) {
    const app = render(React.createElement(BenchApp, { store }), { maxFps: MAX_FPS, patchConsole: true, exitOnCtrlC: true });
    return {
      onProgress: update,
      finish: async () => {
        await app.waitUntilRenderFlush();
        app.unmount();
        await app.waitUntilExit();
      },
    };
  }
  return {
    onProgress: (p) => {
      update(p);
      if (p.kind === 'figure') out.write(`${benchFigureLine(p.figure)}\n`);
      else if (p.kind === 'suite-start') out.write(`${summaryLine('bench-suite', [['suite', p.suite], ['tasks', p.tasks.length]])}\n`);
    },
    finish: async () => {
      const s = store.get();
      out.write(`${benchTable(s.figures, s.warnings)}\n`);
    },
  };
}
