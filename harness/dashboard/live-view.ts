// The live view: header, then one of four views (tab): overview (span bars, sparkline,
// figures, capacity line, sessions, events), sessions (every session, the selected one in
// detail), events, and capacity (admission and each engine worker). Keys: q quits, tab switches views, ↑/↓ select a session, p pauses the display
// (snapshots keep arriving; the screen holds still). `LiveScreen` is pure (props in, text
// out) for tests; `LiveApp` wires it to a source, the keyboard and the terminal size.
import { Box, Text, useApp, useInput, useWindowSize } from 'ink';
import React, { useEffect, useRef, useState, type ReactElement } from 'react';
import type { TelemetrySnapshot } from '../../src/server/telemetry-stream.ts';
import { duration, fit, HEADROOM_COLOR, headroom, ms } from './format.ts';
import { keepsUpText } from '../../src/telemetry/window.ts';
import { CapacityLine, CapacityPanel, EventList, Figures, SessionList, SpanBars, Sparkline } from './panels.ts';
import type { SourceStatus, TelemetrySource } from './source.ts';

const h = React.createElement;

export const VIEWS = ['overview', 'sessions', 'events', 'capacity'] as const;
export type ViewName = (typeof VIEWS)[number];

/** Frames per second at most: snapshots come at ≤ 10 Hz and the screen follows no faster. */
export const MAX_FPS = 10;

export interface LiveScreenProps {
  readonly snap: TelemetrySnapshot | null;
  readonly status: SourceStatus;
  readonly view: ViewName;
  readonly selected: number;
  readonly paused: boolean;
  readonly columns: number;
  readonly rows: number;
}

function statusText(s: SourceStatus): { text: string; color: string } {
  switch (s.kind) {
    case 'live': return { text: '● live', color: 'green' };
    case 'connecting': return { text: `○ connecting (attempt ${s.attempt})`, color: 'yellow' };
    case 'down': return { text: `✕ ${s.reason}${s.retryInMs === null ? '' : `; retrying every ${s.retryInMs / 1000} s`}`, color: 'red' };
    case 'ended': return { text: `✕ ${s.reason}`, color: 'red' };
  }
}

function Header(props: LiveScreenProps): ReactElement {
  const { snap, status, columns, paused, view } = props;
  const st = statusText(status);
  // No engine at all is what /health calls degraded.
  const engine = snap ? engineState(snap) : '?';
  const engineColor = engine === 'ok' ? 'green' : engine === 'restarting' || engine === 'starting' ? 'yellow' : 'red';
  const model = snap?.model ? `${snap.model}${snap.untrained ? ' (untrained)' : ''}` : 'no model';
  const tabs = VIEWS.map((v) => (v === view ? `[${v}]` : ` ${v} `)).join(' ');
  return h(Box, { flexDirection: 'column' },
    h(Text, { wrap: 'truncate-end' },
      h(Text, { bold: true }, 'SolaceLive '), `${status.url} `,
      h(Text, { color: st.color }, st.text),
      '  engine ', h(Text, { color: engineColor, bold: true }, engine),
      snap?.engine.reason && engine !== 'ok' ? h(Text, { color: engineColor }, ` (${snap.engine.reason})`) : null,
      // A server that would refuse the next session says so first thing (why: the capacity view).
      snap?.admission?.refusing ? h(Text, { color: 'red', bold: true }, ' REFUSING') : null,
      `  ${model}`, snap ? `  up ${duration(snap.t)}` : '',
      paused ? h(Text, { color: 'magenta', bold: true }, '  PAUSED') : null),
    h(Text, { wrap: 'truncate-end', color: 'gray' }, fit(`${tabs}   q quit · tab view · ↑↓ · p pause`, columns)));
}

function engineState(s: TelemetrySnapshot): string {
  return s.engine.state === 'none' ? 'degraded' : s.engine.state;
}

function Overview(props: LiveScreenProps & { snap: TelemetrySnapshot }): ReactElement {
  const { snap, columns, rows, selected } = props;
  // Header 2, span table 11, sparkline 1, figures 2: the rest is shared by the capacity line
  // (where a terminal taller than 24 rows has room; the header says REFUSING on any), sessions
  // (title, column heads, rows) and events (title, rows).
  const room = Math.max(0, rows - 2 - 11 - 1 - 2 - 1);
  const capacity = room >= 7;
  const left = capacity ? room - 1 : room;
  const sessionRows = Math.min(Math.max(1, snap.sessions.length), Math.max(1, Math.min(3, left - 4)));
  const eventRows = Math.max(0, left - 2 - sessionRows - 1);
  return h(Box, { flexDirection: 'column' },
    h(SpanBars, { snap, columns }),
    // While the engine is not ok, why is worth more than the sparkline's line (the header cuts it).
    snap.engine.state !== 'ok'
      ? h(Text, { color: snap.engine.state === 'restarting' || snap.engine.state === 'starting' ? 'yellow' : 'red', wrap: 'truncate-end' }, `engine ${engineState(snap)}: ${snap.engine.reason ?? 'no reason given'}`)
      : h(Sparkline, { values: snap.e2es ?? snap.stepTotals, label: snap.e2es ? 'e2e' : 'step.total', budgetMs: snap.budgetMs, columns }),
    h(Figures, { snap, columns }),
    capacity ? h(CapacityLine, { snap }) : null,
    h(SessionList, { snap, selected, max: sessionRows, columns }),
    eventRows > 0 ? h(EventList, { events: snap.events, max: eventRows - (snap.events.length === 0 ? 1 : 0) }) : null);
}

function Sessions(props: LiveScreenProps & { snap: TelemetrySnapshot }): ReactElement {
  const { snap, rows, selected, columns } = props;
  const listRows = Math.max(1, Math.min(snap.sessions.length, Math.floor((rows - 5) / 2)));
  const sel = snap.sessions[selected];
  const detail: ReactElement[] = [];
  if (sel) {
    const t = sel.stepTotal;
    const e = sel.e2e ?? null;
    const color = HEADROOM_COLOR[headroom(e?.p99 ?? t?.p99, snap.budgetMs)];
    detail.push(
      h(Text, { key: 'id', bold: true, wrap: 'truncate-end' }, `Session ${sel.id}`),
      h(Text, { key: 'st', wrap: 'truncate-end' }, `state ${sel.state}  steps ${sel.steps}  frames received ${sel.framesReceived}  queue ${sel.inputQueue} fr  `, h(Text, { bold: true, color: sel.keepsUp === false ? 'red' : sel.keepsUp ? 'green' : undefined }, keepsUpText(sel.keepsUp))),
      h(Text, { key: 'e2e', wrap: 'truncate-end' }, `e2e, its last ${e?.window ?? 0} steps: p50 `, h(Text, { color }, ms(e?.p50)), '  p95 ', h(Text, { color }, ms(e?.p95)), '  p99 ', h(Text, { color }, ms(e?.p99)), `  max ${ms(e?.max)}  misses ${sel.budgetMisses}`),
      h(Text, { key: 'tot', wrap: 'truncate-end', color: 'gray' }, `step.total, its last ${t?.window ?? 0} steps: p50 ${ms(t?.p50)}  p95 ${ms(t?.p95)}  p99 ${ms(t?.p99)}  max ${ms(t?.max)}`),
      // Two lines: on one, 80 columns cut off the errors.
      h(Text, { key: 'ev', wrap: 'truncate-end' }, `frames late ${sel.late}  missing ${sel.missing}  dropped ${sel.droppedFrames}  errors ${sel.errors}`),
      h(Text, { key: 'ev2', wrap: 'truncate-end' }, `partials dropped ${sel.droppedPartials}  decodes skipped ${sel.skippedDecodes}`),
      h(Text, { key: 'cl', color: 'gray', wrap: 'truncate-end' }, sel.closedAt === null ? `open since ${duration(sel.openedAt)} after server start` : `closed ${sel.closeReason ?? ''} at ${duration(sel.closedAt)}`),
    );
  }
  const evRows = Math.max(0, rows - 2 - 2 - listRows - detail.length - 1);
  const own = sel ? snap.events.filter((e) => e.session === sel.id) : [];
  return h(Box, { flexDirection: 'column' },
    h(SessionList, { snap, selected, max: listRows, columns }),
    ...detail,
    sel && evRows > 0 ? h(EventList, { events: own, max: evRows - (own.length === 0 ? 1 : 0), title: 'Its recent events' }) : null);
}

function Events(props: LiveScreenProps & { snap: TelemetrySnapshot }): ReactElement {
  const { snap, rows } = props;
  return h(EventList, { events: snap.events, max: Math.max(1, rows - 2 - 2), title: `Recent events (${snap.events.length}, newest last)` });
}

/** Everything on the screen for given inputs. */
export function LiveScreen(props: LiveScreenProps): ReactElement {
  const st = props.status;
  const body = !props.snap
    ? st.kind === 'down' || st.kind === 'ended'
      // Nothing to show yet: say in full why (the header line may be cut).
      ? h(Text, { color: 'red', wrap: 'wrap' }, `No telemetry from ${st.url}: ${st.reason}.${st.kind === 'down' && st.retryInMs !== null ? ` Retrying every ${st.retryInMs / 1000} s; q quits.` : ''}`)
      : h(Text, { color: 'gray' }, st.kind === 'live' ? 'waiting for the first snapshot…' : `connecting to ${st.url}…`)
    : props.view === 'overview' ? h(Overview, { ...props, snap: props.snap })
      : props.view === 'sessions' ? h(Sessions, { ...props, snap: props.snap })
        : props.view === 'events' ? h(Events, { ...props, snap: props.snap })
          : h(CapacityPanel, { snap: props.snap, rows: props.rows - 2, columns: props.columns });
  return h(Box, { flexDirection: 'column', width: props.columns }, h(Header, props), body);
}

/** What the screen shows of a snapshot: all of it but the sequence number, the loop lag and the sub-second clock. */
export function visibleKey(s: TelemetrySnapshot): string {
  return JSON.stringify({ ...s, seq: 0, eventLoopLagMs: null, t: Math.floor(s.t / 1000) });
}

export interface LiveAppProps {
  readonly source: TelemetrySource;
  /** Fixed size (tests); else the terminal's, following resizes. */
  readonly size?: { columns: number; rows: number };
  readonly onQuit?: () => void;
}

export function LiveApp(props: LiveAppProps): ReactElement {
  const app = useApp();
  const term = useWindowSize();
  const size = props.size ?? term;
  const [status, setStatus] = useState<SourceStatus>({ kind: 'connecting', url: '', attempt: 1 });
  const [snap, setSnap] = useState<TelemetrySnapshot | null>(null);
  const [view, setView] = useState<ViewName>('overview');
  const [selected, setSelected] = useState(0);
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(false);
  pausedRef.current = paused;
  const latest = useRef<TelemetrySnapshot | null>(null);

  const shown = useRef('');
  useEffect(() => props.source({
    onSnapshot: (s) => {
      latest.current = s;
      // A frame costs the dashboard far more than a comparison: an idle server's snapshots
      // differ only in their clock, so redraw when something visible changed or the
      // uptime's second did.
      const key = visibleKey(s);
      if (pausedRef.current || key === shown.current) return;
      shown.current = key;
      setSnap(s);
    },
    onStatus: setStatus,
  }), [props.source]);

  const count = snap?.sessions.length ?? 0;
  useInput((input, key) => {
    if (input === 'q') {
      props.onQuit?.();
      app.exit();
    } else if (key.tab) {
      setView((v) => VIEWS[(VIEWS.indexOf(v) + (key.shift ? VIEWS.length - 1 : 1)) % VIEWS.length]!);
    } else if (key.upArrow) {
      setSelected((i) => Math.max(0, i - 1));
    } else if (key.downArrow) {
      setSelected((i) => Math.min(Math.max(0, count - 1), i + 1));
    } else if (input === 'p') {
      setPaused((p) => {
        if (p && latest.current) {
          shown.current = visibleKey(latest.current);
          setSnap(latest.current);
        }
        return !p;
      });
    }
  });

  const sel = Math.min(selected, Math.max(0, count - 1));
  // One row spare: a frame exactly as tall as the terminal scrolls it by a line.
  return h(LiveScreen, { snap, status, view, selected: sel, paused, columns: size.columns, rows: Math.max(10, size.rows - 1) });
}

