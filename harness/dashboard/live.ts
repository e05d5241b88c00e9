// Runs the live view on a telemetry source: the Ink screen on a terminal, or plain periodic
// summaries and a final table when stdout is not one (CI, pipes). Used by `solacelive dash`
// (SSE source) and `solacelive serve --dashboard` (in-process source).
import { render } from 'ink';
import React from 'react';
import type { TelemetrySnapshot } from '../../src/server/telemetry-stream.ts';
import { LiveApp, MAX_FPS } from './live-view.ts';
import { liveSummary, liveTable } from './plain.ts';
import type { SourceStatus, TelemetrySource } from './source.ts';

export interface LiveOptions {
  readonly source: TelemetrySource;
  /** Interactive Ink screen (default: stdout and stdin are terminals). */
  readonly interactive?: boolean;
  /** Plain mode: a summary line every this many ms (default 5000). */
  readonly periodMs?: number;
  /** Stop after this long (default: until q, a signal, or — in plain mode — the server ending). */
  readonly durationMs?: number;
  /** Plain mode: give up (exit 1) when no server answered within this long (default 10 s). */
  readonly waitMs?: number;
  readonly stdout?: NodeJS.WriteStream;
  readonly stderr?: NodeJS.WriteStream;
  /** A signal the caller has (serve stops the dashboard with the server). */
  readonly signal?: AbortSignal;
}

export function isInteractive(): boolean {
  return Boolean(process.stdout.isTTY && process.stdin.isTTY) && process.env.CI === undefined;
}

function statusLine(s: SourceStatus): string | null {
  if (s.kind === 'down') return `${s.url}: ${s.reason}${s.retryInMs === null ? '' : `; retrying in ${s.retryInMs / 1000} s`}`;
  if (s.kind === 'ended') return `${s.url}: ${s.reason}`;
  if (s.kind === 'live') return `${s.url}: connected`;
  return null;
}

/** Resolves with the exit code once the view is done. */
export async function runLive(o: LiveOptions): Promise<number> {
  return (o.interactive ?? isInteractive()) ? runInk(o) : runPlain(o);
}

async function runInk(o: LiveOptions): Promise<number> {
  let last: TelemetrySnapshot | null = null;
  // The table printed after quitting needs the last snapshot: tap the source for it.
  const source: TelemetrySource = (h) => o.source({ onSnapshot: (s) => { last = s; h.onSnapshot(s); }, onStatus: h.onStatus });
  const app = render(React.createElement(LiveApp, { source }), { maxFps: MAX_FPS, exitOnCtrlC: true, alternateScreen: true, patchConsole: true });
  const timers: ReturnType<typeof setTimeout>[] = [];
  if (o.durationMs !== undefined) timers.push(setTimeout(() => app.unmount(), o.durationMs));
  const onAbort = () => app.unmount();
  o.signal?.addEventListener('abort', onAbort);
  const onSignal = () => app.unmount();
  process.once('SIGTERM', onSignal);
  try {
    await app.waitUntilExit();
  } finally {
    for (const t of timers) clearTimeout(t);
    o.signal?.removeEventListener('abort', onAbort);
    process.off('SIGTERM', onSignal);
  }
  const out = o.stdout ?? process.stdout;
  if (last) out.write(`${liveTable(last, out.columns || 80)}\n`);
  return 0;
}

function runPlain(o: LiveOptions): Promise<number> {
  const out = o.stdout ?? process.stdout;
  const err = o.stderr ?? process.stderr;
  const periodMs = o.periodMs ?? 5000;
  const waitMs = o.waitMs ?? 10_000;
  return new Promise<number>((resolve) => {
    let last: TelemetrySnapshot | null = null;
    let everLive = false;
    let lastStatus = '';
    let done = false;
    let stop: () => void = () => undefined;
    const tick = setInterval(() => {
      if (last) out.write(`${liveSummary(last)}\n`);
    }, periodMs);
    const waitTimer = setTimeout(() => {
      if (!everLive) finish(1, `no telemetry within ${waitMs / 1000} s (${lastStatus || 'no answer'}); is \`solacelive serve\` running there?`);
    }, waitMs);
    const durTimer = o.durationMs === undefined ? null : setTimeout(() => finish(0), o.durationMs);
    const onSignal = () => finish(0);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    o.signal?.addEventListener('abort', onSignal);
    const finish = (code: number, why?: string) => {
      if (done) return;
      done = true;
      stop();
      clearInterval(tick);
      clearTimeout(waitTimer);
      if (durTimer) clearTimeout(durTimer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      o.signal?.removeEventListener('abort', onSignal);
      if (why) err.write(`solacelive dash: ${why}\n`);
      // In a log: the table, then the totals as the machine-read summary line.
      if (last) out.write(`${liveTable(last, out.columns || 80)}\n${liveSummary(last)}\n`);
      resolve(code);
    };
    stop = o.source({
      onSnapshot: (s) => {
        last = s;
      },
      onStatus: (s) => {
        const line = statusLine(s);
        if (line && line !== lastStatus) err.write(`solacelive dash: ${line}\n`);
        if (line) lastStatus = line;
        if (s.kind === 'live') everLive = true;
        // In a log, a server that went away ends the run (with what was seen); a view on a
        // terminal keeps waiting for it instead.
        else if (everLive && (s.kind === 'ended' || s.kind === 'down')) finish(0, 'the server went away; final figures below');
        else if (s.kind === 'down' && s.retryInMs === null) finish(1, `giving up: ${s.reason}`);
      },
    });
    // The source may have ended the run while starting (a refused token): stop it now.
    if (done) stop();
  });
}
