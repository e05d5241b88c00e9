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

export function attachReplayDashboard(o: { interactive?: boolean; periodMs?: number; stdout?: NodeJS.WriteStream } = {}): ProgressDashboard<ReplayProgress> {
  const out = o.stdout ?? process.stdout;
  const store = new Latest<ReplayProgress | null>(null);
  if (o.interactive ?? isInteractive()) {
    const app = render(React.createElement(ReplayApp, { store }), { maxFps: MAX_FPS, patchConsole: true, exitOnCtrlC: true });
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
  let divergenceShown = false;
  return {
    onProgress: (p) => {
      store.set(p);
      if (!divergenceShown && p.firstDivergence) {
        divergenceShown = true;
        out.write(`${divergenceLine(p)}\n`);
      }
      const now = performance.now();
      if (now - lastLine >= periodMs && !p.done) {
        lastLine = now;
        out.write(`${replaySummary(p)}\n`);
      }
    },
    finish: async () => {
      const p = store.get();
      if (p) out.write(`${replaySummary(p)}\n`);
    },
  };
}

/** `replay DIR --dashboard`: the corpus view on a terminal, else a `replay-corpus` line every `periodMs` and at the end. */
export function attachCorpusDashboard(o: { interactive?: boolean; periodMs?: number; stdout?: NodeJS.WriteStream } = {}): ProgressDashboard<CorpusProgress> {
  const out = o.stdout ?? process.stdout;
  const store = new Latest<CorpusProgress | null>(null);
  if (o.interactive ?? isInteractive()) {
    const app = render(React.createElement(CorpusApp, { store }), { maxFps: MAX_FPS, patchConsole: true, exitOnCtrlC: true });
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
  return {
    onProgress: (p) => {
      store.set(p);
      const now = performance.now();
      if (now - lastLine >= periodMs && !p.finished) {
        lastLine = now;
        out.write(`${corpusProgressLine(p)}\n`);
      }
    },
    finish: async () => {
      const p = store.get();
      if (p) out.write(`${corpusProgressLine(p)}\n`);
    },
  };
}
