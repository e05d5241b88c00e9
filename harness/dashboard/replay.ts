// `solacelive replay SESSION --dashboard`: the replayer's progress (ReplayOptions.onProgress)
// on an Ink screen, or plain lines when not on a terminal: a summary every `periodMs`, the
// first divergence the moment it is seen, and a final line.
import { render } from 'ink';
import React from 'react';
import type { ReplayProgress } from './events.ts';
import { isInteractive } from './live.ts';
import { MAX_FPS } from './live-view.ts';
import { divergenceLine, replaySummary } from './plain.ts';
import type { CorpusProgress } from '../replay/corpus.ts';
import { corpusProgressLine } from '../replay/corpus-lines.ts';
import { CorpusApp } from './replay-corpus-view.ts';
import { ReplayApp } from './replay-view.ts';
import { Latest } from './store.ts';

export interface ProgressDashboard<P> {
  onProgress(p: P): void;
  /** Leaves the last frame (or the final line) on screen; resolves once written. */
  finish(): Promise<void>;
}

interface ProgressScreen<P> {
  /** The Ink app drawn on a terminal. */
  readonly app: (props: { store: Latest<P | null> }) => React.ReactElement | null;
  /** The plain line printed every `periodMs` and at the end. */
  readonly line: (p: P) => string;
  readonly finished: (p: P) => boolean;
  /** A line printed once, the moment it first has one (the first divergence). */
  readonly alert?: (p: P) => string | null;
}

type DashboardOptions = { interactive?: boolean; periodMs?: number; stdout?: NodeJS.WriteStream };

/** One progress screen: Ink on a terminal, else a line every `periodMs`, the alert once, and a final line. */
function attachProgress<P>(screen: ProgressScreen<P>, o: DashboardOptions): ProgressDashboard<P> {
  const out = o.stdout ?? process.stdout;
  const store = new Latest<P | null>(null);
  if (o.interactive ?? isInteractive()) {
    const app = render(React.createElement(screen.app, { store }), { maxFps: MAX_FPS, patchConsole: true, exitOnCtrlC: true });
    return {
      onProgress: (p) => store.set(p),
      finish: async () => {
        await app.waitUntilRenderFlush();
        app.unmount();
        await app.waitUntilExit();
      },
    };
  }
  const periodMs = o.periodMs ?? 2000;
  let lastLine = -Infinity;
  let alerted = false;
  return {
    onProgress: (p) => {
      store.set(p);
      const alert = alerted ? null : screen.alert?.(p) ?? null;
      if (alert !== null) {
        alerted = true;
        out.write(`${alert}\n`);
      }
      const now = performance.now();
      if (now - lastLine >= periodMs && !screen.finished(p)) {
        lastLine = now;
        out.write(`${screen.line(p)}\n`);
      }
    },
    finish: async () => {
      const p = store.get();
      if (p) out.write(`${screen.line(p)}\n`);
    },
  };
}

export function attachReplayDashboard(o: DashboardOptions = {}): ProgressDashboard<ReplayProgress> {
  return attachProgress<ReplayProgress>({
    app: ReplayApp,
    line: replaySummary,
    finished: (p) => p.done,
    alert: (p) => (p.firstDivergence ? divergenceLine(p) : null),
  }, o);
}

/** `replay DIR --dashboard`: the corpus view on a terminal, else a `replay-corpus` line every `periodMs` and at the end. */
export function attachCorpusDashboard(o: DashboardOptions = {}): ProgressDashboard<CorpusProgress> {
  return attachProgress<CorpusProgress>({ app: CorpusApp, line: corpusProgressLine, finished: (p) => p.finished }, o);
}
