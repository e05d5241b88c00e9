// `solacelive dash`: the Ink dashboard attached to a running server through its telemetry
// stream (GET /telemetry, Server-Sent Events), or plain summaries when not on a terminal;
// given a recorded session folder, that session's report (harness/dashboard/session.ts).
import { parseCommandArgs, UsageError, type Command } from '../../src/cli/args.ts';
import { TELEMETRY_DEFAULT_HZ, TELEMETRY_MAX_HZ } from '../../src/server/telemetry-stream.ts';
import { isFolder } from '../dashboard/session.ts';
import { sseSource, telemetryUrl } from '../dashboard/source.ts';
import { useProductionReact } from '../dashboard/react-mode.ts';

const DEFAULT_URL = 'http://127.0.0.1:8788';

function seconds(v: string | undefined, name: string, fallback: number | undefined): number | undefined {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a number of seconds > 0 (got ${v})`);
  return n * 1000;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    url: { type: 'string' },
    token: { type: 'string' },
    hz: { type: 'string' },
    plain: { type: 'boolean' },
    every: { type: 'string' },
    duration: { type: 'string' },
    wait: { type: 'string' },
  }, true);
  if (positionals.length > 1) throw new UsageError('give at most one server URL');
  if (values.url === undefined && positionals[0] !== undefined && (await isFolder(positionals[0]))) {
    const { sessionReport } = await import('../dashboard/session.ts');
    for (const line of await sessionReport(positionals[0])) console.log(line);
    return 0;
  }
  const url = values.url ?? positionals[0] ?? DEFAULT_URL;
  const hz = values.hz === undefined ? TELEMETRY_DEFAULT_HZ : Number(values.hz);
  if (!Number.isFinite(hz) || hz <= 0 || hz > TELEMETRY_MAX_HZ) throw new UsageError(`--hz must be in (0, ${TELEMETRY_MAX_HZ}] (got ${values.hz})`);
  try {
    telemetryUrl(url, hz);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  useProductionReact();
  const { isInteractive, runLive } = await import('../dashboard/live.ts');
  const interactive = values.plain ? false : isInteractive();
  return runLive({
    source: sseSource({ url, hz, token: values.token ?? process.env.SOLACELIVE_TOKEN }),
    interactive,
    periodMs: seconds(values.every, 'every', 5000),
    durationMs: seconds(values.duration, 'duration', undefined),
    waitMs: seconds(values.wait, 'wait', 10_000),
  });
}

export const command: Command = {
  summary: 'live terminal dashboard of a running server: per-stage latency against the 80 ms budget, sessions, events',
  help: [
    `usage: solacelive dash [URL] [--url ${DEFAULT_URL}] [--token T] [--hz N] [--plain] [--every S] [--duration S] [--wait S]`,
    '       solacelive dash SESSION',
    '',
    'Attaches to a running `solacelive serve` through its telemetry stream (GET /telemetry,',
    'Server-Sent Events) and shows per-span p50/p95/p99 bars against the 80 ms budget (server-wide,',
    'over the server\'s window of recent steps of all sessions: the screen says how many), led by the',
    'verdict over that window: KEEPS UP or FALLS BEHIND. The budget is end to end (e2e: frame in →',
    'reply out, its own row; step.total is the model\'s share). Then a sparkline of e2e, budget misses',
    'and late/missing frames (since the server started), queue depth, the real-time factor over the',
    'window (mean e2e / 80 ms, and the engine\'s alone), engine state, the sessions with their own',
    'figures (each over its own last steps), and recent events (dropped partials, skipped decodes,',
    'errors). Several dashboards can watch one server.',
    '',
    'Given a session folder recorded by `solacelive proxy` (or a load test), it prints that finished',
    'session\'s report instead: a `dash-session key=value …` line (lag p50/p95/p99/max, growth in ms per',
    'minute, late and missing frames, stalls, client-timeout silences, who closed with which code),',
    'one line per stall, client-timeout silence and the close, the lag over the session as a',
    'sparkline, and the `solacelive view` command that shows its lag lane. Such a session has no',
    'engine steps, so no budget verdict; a session SolaceLive\'s engine recorded is pointed to',
    '`solacelive replay SESSION --dashboard` and the viewer.',
    '',
    'Keys: q quit · tab next view (overview, sessions, events) · ↑/↓ select a session · p pause.',
    'While the server is down the screen says why and retries every 2 s.',
    '',
    `  --url U       the server (http://, ws:// or host:port; default ${DEFAULT_URL})`,
    '  --token T     the server\'s token, if it has one (or set SOLACELIVE_TOKEN)',
    `  --hz N        snapshots per second asked of the server (default ${TELEMETRY_DEFAULT_HZ}, at most ${TELEMETRY_MAX_HZ})`,
    '  --plain       plain output even on a terminal (as when stdout is not a terminal or CI is set):',
    '                a `dash key=value …` summary line every --every seconds and a final table',
    '                when the server goes away, --duration ends, or on SIGINT/SIGTERM',
    '  --every S     plain mode: seconds between summary lines (default 5)',
    '  --duration S  stop after S seconds',
    '  --wait S      plain mode: exit 1 if no server answered within S seconds (default 10)',
    '',
    'Exit: 0 after q, --duration or the server going away (plain mode), or a session\'s report;',
    '1 no server, or a SESSION with no proxied figures (the message says what shows it); 2 usage.',
  ].join('\n'),
  run,
};
