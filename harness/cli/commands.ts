// The commands the harness adds to `solacelive` (bin/solacelive.mjs merges them with
// src/cli.ts's table). Each module is imported only when its command runs.
import type { CommandEntry } from '../../src/cli.ts';

export const HARNESS_COMMANDS: Readonly<Record<string, CommandEntry>> = {
  demo: { summary: 'the main job end to end: record a live session (tiny model, fixture WAV), replay it, give the verdict', load: () => import('./demo.ts') },
  serve: { summary: 'run the packet server: WebSocket sessions, GET /health, GET /metrics, optional recording', load: () => import('./serve.ts') },
  record: { summary: 'record a session: stream a WAV through a local server (tiny model) in real time', load: () => import('./record.ts') },
  replay: { summary: 'replay a recorded session through the engine: bit-exact / token-exact / diverged at step N', load: () => import('./replay.ts') },
  dash: { summary: 'live terminal dashboard of a running server (per-stage latency vs the 80 ms budget, sessions, events)', load: () => import('./dash.ts') },
  sessions: { summary: 'compare recorded sessions: sessions diff A B', load: () => import('./sessions.ts') },
  'export-trace': { summary: 'export a session as Chrome Trace Event JSON for ui.perfetto.dev', load: () => import('./export-trace.ts') },
  proxy: { summary: 'recording proxy in front of any Moshi server: forwards /api/chat unchanged, measures lag, stalls, turn-taking', load: () => import('./proxy.ts') },
  view: { summary: 'web viewer for recorded sessions and the live page (read-only HTTP on 127.0.0.1:5178)', load: () => import('./view.ts') },
};
