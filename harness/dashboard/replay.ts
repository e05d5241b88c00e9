// `solacelive replay SESSION --dashboard`: the replayer's progress (ReplayOptions.onProgress)
// on an Ink screen, or plain lines when not on a terminal: a summary every `periodMs`, the
// first divergence the moment it is seen, and a final line.
import { render } from 'ink';
import React from 'react';
import type { ReplayProgress } from './events.ts';
import { isInteractive } from './live.ts';
import { MAX_FPS } from './live-view.ts';
import { divergenceLine, replaySummary } from './plain.ts';
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
