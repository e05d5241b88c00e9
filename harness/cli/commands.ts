// The commands the harness adds to `solacelive` (bin/solacelive.mjs merges them with
// src/cli.ts's table). Each module is imported only when its command runs.
import type { CommandEntry } from '../../src/cli.ts';

export const HARNESS_COMMANDS: Readonly<Record<string, CommandEntry>> = {
  serve: { summary: 'run the packet server: WebSocket sessions, GET /health, GET /metrics, optional recording', load: () => import('./serve.ts') },
  record: { summary: 'record a session: stream a WAV through a local server (tiny model) in real time', load: () => import('./record.ts') },
  replay: { summary: 'replay a recorded session through the engine: bit-exact / token-exact / diverged at step N', load: () => import('./replay.ts') },
  sessions: { summary: 'compare recorded sessions: sessions diff A B', load: () => import('./sessions.ts') },
};
