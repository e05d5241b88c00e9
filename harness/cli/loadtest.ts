// `solacelive loadtest URL`: N concurrent real-time clients against a Moshi server (or
// SolaceLive's packet protocol), per-client and pooled figures, the capacity search. The
// results file (--json) is in the bench format, which bench/ owns: bench registers this
// command with its writer (bench/cli.ts → bench/suites/server.ts), as bench sits on top of harness.
import { loadavg } from 'node:os';
import { loadLibopusNode } from '../../src/audio/opus/node.ts';
import { BUDGET_MS } from '../../src/telemetry/index.ts';
import { CliError, intOption, parseCommandArgs, UsageError, type Command } from '../../src/cli/args.ts';
import { prepareRecordingFolder } from '../format/writer.ts';
import { MOSHI_CHAT_PATH } from '../../src/client/moshi.ts';
import { METER_DEFAULTS } from '../measure/index.ts';
import {
  clientTable, DEFAULT_INPUT, findCapacity, LoadtestError, levelLine, levelSummary, parseTarget, probe, PROTOCOLS, runLevel, sessionInputs, wavInput,
  type ClientInput, type LevelOptions, type LevelResult, type LoadProtocol,
} from '../loadtest/index.ts';

const LIMITS = { clients: 256, durationS: 3600 } as const;

function num(values: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max} (got ${String(v)})`);
  return n;
}

function int(values: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const n = intOption(values, name, fallback);
  if (n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got ${n})`);
  return n;
}

/** Every client failed the same way before any session: the server's problem, as one typed error. */
function allFailed(l: LevelResult, url: string, protocol: LoadProtocol): void {
  const codes = l.reports.map((r) => (r.status === 'failed' ? r.error!.code : null));
  if (codes.length === 0 || codes.some((c) => c === null)) return;
  const first = l.reports[0]!.error!.message;
  const hint = protocol === 'solacelive' && new URL(url).pathname === MOSHI_CHAT_PATH ? `; ${MOSHI_CHAT_PATH} speaks the Moshi protocol: use --protocol moshi, or the server's root URL for SolaceLive packets` : '';
  if (codes.every((c) => c === 'CLIENT_ERR_TIMEOUT')) throw new LoadtestError('LOADTEST_ERR_NO_ANSWER', `${url} accepted connections but never answered (${first})${hint}`);
  if (codes.every((c) => c === 'CLIENT_ERR_CONNECT')) throw new LoadtestError('LOADTEST_ERR_UNREACHABLE', first);
  if (codes.every((c) => c === 'CLIENT_ERR_PROTOCOL')) throw new LoadtestError('LOADTEST_ERR_NOT_MOSHI', first);
}

async function run(argv: string[], json: ResultsWriter): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    in: { type: 'string' }, sessions: { type: 'string' }, clients: { type: 'string' }, duration: { type: 'string' }, ramp: { type: 'string' },
    protocol: { type: 'string' }, json: { type: 'string' }, record: { type: 'string' }, 'find-capacity': { type: 'boolean' },
    'budget-ms': { type: 'string' }, 'max-clients': { type: 'string' }, 'time-limit': { type: 'string' }, rounds: { type: 'string' },
    'connect-timeout-ms': { type: 'string' }, token: { type: 'string' }, config: { type: 'string' },
    'stall-ms': { type: 'string' }, 'warmup-frames': { type: 'string' },
  }, true);
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `one URL, got ${positionals.length} arguments` : 'give the server URL: solacelive loadtest ws://HOST:PORT --clients N');
  const protocol = (values.protocol ?? 'moshi') as LoadProtocol;
  if (!PROTOCOLS.includes(protocol)) throw new UsageError(`--protocol must be ${PROTOCOLS.join(' or ')} (got ${values.protocol})`);
  if (values.in && values.sessions) throw new UsageError('give --in WAV or --sessions DIR, not both');
  const find = values['find-capacity'] ?? false;
  if (!find && values.clients === undefined) throw new UsageError('--clients N is required (or --find-capacity)');
  const clients = int(values, 'clients', 1, 1, LIMITS.clients);
  const durationS = num(values, 'duration', 10, 1, LIMITS.durationS);
  const rampS = num(values, 'ramp', 1, 0, durationS);
  const budgetMs = num(values, 'budget-ms', BUDGET_MS, 1, 60_000);
  const maxClients = int(values, 'max-clients', 16, 1, LIMITS.clients);
  const timeLimitS = num(values, 'time-limit', 600, 10, 24 * 3600);
  const rounds = int(values, 'rounds', 3, 2, 100);
  const connectTimeoutMs = int(values, 'connect-timeout-ms', 10_000, 100, 120_000);
  const meter = { stallMs: int(values, 'stall-ms', METER_DEFAULTS.stallMs, 1, 60_000), warmupFrames: int(values, 'warmup-frames', METER_DEFAULTS.warmupFrames, 0, 100) };
  if (values['max-clients'] !== undefined && !find) throw new UsageError('--max-clients goes with --find-capacity');

  const target = parseTarget(positionals[0]!, protocol);
  const inputs: ClientInput[] = values.sessions ? sessionInputs(values.sessions) : [wavInput(values.in ?? DEFAULT_INPUT)];
  const record = values.record ?? null;
  if (record !== null) prepareRecordingFolder(record);
  await probe(target);
  const lib = await loadLibopusNode();
  const log = (line: string) => console.error(`solacelive loadtest: ${line}`);
  log(`${target.url} (${protocol}), input ${inputs.map((i) => `${i.name} (${((i.frames.length * 80) / 1000).toFixed(1)} s, ${i.conversion})`).join(', ')}, looped to ${durationS} s per client, ramp ${rampS} s, lag budget ${budgetMs} ms`);
  // Ctrl-C: the clients end their input there and finish normally (recordings complete); a second one exits.
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(130);
    log('stopping: the clients end their input now and finish (Ctrl-C again to exit at once)');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  const runId = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base: Omit<LevelOptions, 'clients'> = {
    target, durationS, rampS, inputs, budgetMs, lib, connectTimeoutMs, meter, record, runId,
    ...(values.token ? { token: values.token } : {}),
    progress: (line) => log(line),
    signal: abort.signal,
  };
  // Until one client has connected, every client failing alike is the server's problem (a typed error); later it is a level that failed.
  let connectedOnce = false;
  let saidNoHealth = false;
  const level = async (n: number): Promise<LevelResult> => {
    const l = await runLevel({ ...base, clients: n });
    if (!connectedOnce) allFailed(l, target.url, protocol);
    // Another server's lack of SolaceLive's /health is no error: said once, then the clients' figures alone.
    if ('none' in l.server && !saidNoHealth) {
      saidNoHealth = true;
      log(`no server figures beside the clients' (${l.server.none}); only SolaceLive's /health has them`);
    }
    connectedOnce ||= l.figures.connected > 0;
    return l;
  };
  const load0 = loadavg();
  const t0 = performance.now();
  let n = clients;
  let capacity: number | null = null;
  let last: LevelResult | null = null;
  const notes: string[] = [];
  if (find) {
    log(`capacity search: N = 1, 2, 4, … up to ${maxClients}, then bisecting; at most ${timeLimitS} s`);
    const c = await findCapacity(level, { maxClients, timeLimitS, levelS: durationS + rampS + 35, onLevel: (l) => console.log(levelLine(l)), signal: abort.signal });
    capacity = c.capacity;
    const best = c.levels.filter((l) => l.clients === c.capacity && l.pass).at(-1) ?? null;
    const bound = c.bound === 'max-clients' ? ` (every level up to --max-clients ${maxClients} passed: at least ${c.capacity})`
      : c.bound === 'time-limit' ? ` (time limit reached: at least ${c.capacity})` : c.bound === 'interrupted' ? ` (interrupted: at least ${c.capacity})` : '';
    const answer = `capacity: ${c.capacity} concurrent real-time session(s) with every client's lag p99 <= ${budgetMs} ms, no stall, no disconnect, no refusal${bound}; ${c.firstFail === null ? '' : `${c.firstFail} failed; `}${c.levels.length} levels in ${c.seconds.toFixed(0)} s`;
    notes.push(answer);
    if (best) {
      console.log(`\nat ${best.clients} client(s):`);
      for (const line of clientTable(best.reports)) console.log(line);
    }
    console.log(`\n${answer}`);
    n = Math.max(1, c.capacity);
    last = best;
  } else if (!values.json) {
    last = await level(n);
    for (const line of clientTable(last.reports)) console.log(line);
    console.log('');
    for (const line of levelSummary(last)) console.log(line);
  }
  if (values.json && !abort.signal.aborted) {
    log(`${rounds} round(s) of ${n} client(s) for the results file, calibration kernels timed between them`);
    const path = values.json;
    await json.write({
      path, rounds, config: values.config ?? 'tiny', capacity, notes, startedAt: t0, loadStart: load0,
      describe: `solacelive loadtest ${target.url} (${protocol}): ${n} real-time client(s), ${durationS} s per round, lag budget ${budgetMs} ms`,
      round: async (i) => {
        const l = await level(n);
        console.log(`round ${i + 1}/${rounds}: ${levelLine(l)}`);
        if (!find && i === rounds - 1) {
          for (const line of clientTable(l.reports)) console.log(line);
          for (const line of levelSummary(l)) console.log(line);
          last = l;
        }
        return l;
      },
    });
    console.log(`\nresults (solacelive-bench/1, suite server): ${path}; gate them: solacelive bench gate --results ${path}`);
  }
  process.off('SIGINT', onSigint);
  return find || last === null ? 0 : (last as LevelResult).pass ? 0 : 1;
}

async function main(argv: string[], json: ResultsWriter): Promise<number> {
  try {
    return await run(argv, json);
  } catch (err) {
    if (err instanceof LoadtestError) throw new CliError(err.code, err.message);
    throw err;
  }
}

/** What --json needs of bench/: the rounds run with calibration kernels between them, written in the bench format. */
export interface ResultsWriter {
  write(o: {
    readonly path: string;
    readonly rounds: number;
    /** One round: a level at the fixed N. */
    readonly round: (index: number) => Promise<LevelResult>;
    /** The capacity found (--find-capacity), or null. */
    readonly capacity: number | null;
    readonly config: string;
    readonly describe: string;
    readonly notes: readonly string[];
    readonly startedAt: number;
    readonly loadStart: readonly number[];
  }): Promise<void>;
}

/** The command, with bench's results writer for --json. */
export const loadtestCommand = (json: ResultsWriter): Command => ({
  summary: 'real-time load test of a Moshi server: N clients, lag p50/p95/p99, growth, stalls, refusals; --find-capacity',
  help: [
    'usage: solacelive loadtest URL --clients N [--in WAV | --sessions DIR] [--duration S] [--ramp S]',
    '                           [--protocol moshi|solacelive] [--record DIR] [--json OUT [--rounds R]]',
    '       solacelive loadtest URL --find-capacity [--budget-ms 80] [--max-clients M] [--time-limit S] …',
    '',
    'N concurrent clients stream recorded speech to the server at real-time pace (an 80 ms frame',
    'every 80 ms by the clock, whatever the replies do), each measured as `solacelive proxy`',
    'measures: time to handshake and to first audio, response lag per frame (server frame j',
    'answers client frame j+warm-up, by order; with --protocol solacelive the packets name the step)',
    'with p50/p95/p99 and its growth in ms per minute, stalls (gaps in server audio), silences long',
    'enough for Kyutai\'s client to give up (10 s), frames never answered, and how each connection',
    'ended (who closed, with the code). Prints a progress line while it runs, then a row per client',
    'and the figures of all clients together. Refusals (SERVER_BUSY, SERVER_FULL, HTTP 503, close',
    '1013) are counted by code apart from failures. A level passes when every client connected,',
    'kept its lag p99 within --budget-ms, and saw no stall, no client-timeout silence, no lost frame',
    'and no disconnect; the exit code is 1 when it fails.',
    'At the end of each level the server\'s own GET /health (same host and port, http) is read and its',
    'figures printed beside the clients\': session cost per step, admission capacity, each engine worker\'s',
    'CPU and step p99, e2e and step.total p99 (a SolaceLive server; any other is said once, not an error).',
    '',
    '  URL                     ws://HOST:PORT (Moshi: /api/chat is added when the URL has no path;',
    '                          SolaceLive packets: the URL as given). Only this host and port are contacted',
    '  --clients N             concurrent clients (1..256)',
    '  --in WAV                what each client says: any rate or channel count (downmixed and',
    '                          resampled to 24 kHz mono, and said so); default fixtures/audio/hello.wav',
    '  --sessions DIR          the client side (input.wav) of the recorded sessions in DIR, one per client in turn',
    '  --duration S            seconds each client streams (its input looped; default 10, at most 3600)',
    '  --ramp S                clients start evenly over S seconds (default 1)',
    '  --protocol P            moshi (default: Ogg Opus over /api/chat, src/client/moshi.ts) or',
    '                          solacelive (SolaceLive packets, src/client/client.ts)',
    '  --record DIR            each connection as a session folder in the proxy\'s format (packets.bin',
    '                          both ways, input.wav/output.wav, proxy.json): `solacelive view` shows them',
    '  --find-capacity         the largest N whose level passes: N = 1, 2, 4, … then bisecting; prints',
    '                          every level tried, then the clients of the best one',
    `  --budget-ms MS          lag p99 allowed per client (default ${BUDGET_MS})`,
    '  --max-clients M         upper bound of the search (default 16, at most 256)',
    '  --time-limit S          the search starts no level it cannot finish within S s (default 600)',
    '  --json OUT              results in the bench format (solacelive-bench/1, suite server: lag,',
    '                          lag-late, first-audio, handshake, ms-per-session = 80 ms / capacity):',
    '                          --rounds R levels at N (the capacity found, with --find-capacity) with',
    '                          calibration kernels timed between them; gate with `solacelive bench gate`.',
    '                          The ratios describe this machine: meaningful when the server runs here',
    '  --rounds R              rounds for --json (default 3)',
    '  --config NAME           bench config named in --json results (default tiny)',
    '  --connect-timeout-ms N  how long a client waits for the handshake (default 10000)',
    '  --token T               sent as "Authorization: Bearer T"',
    `  --stall-ms N            a gap in server audio longer than N ms is a stall (default ${METER_DEFAULTS.stallMs})`,
    `  --warmup-frames N       server frames that answer nothing at the start (Moshi; default ${METER_DEFAULTS.warmupFrames})`,
    '',
    'Ctrl-C ends the clients\' input there; they finish (recordings complete) and the figures are printed;',
    'a search stops after that level. Ctrl-C again exits at once.',
    '',
    'Errors: LOADTEST_ERR_URL (not a ws/http URL), LOADTEST_ERR_UNREACHABLE (nothing listens there),',
    'LOADTEST_ERR_NO_ANSWER (connections accepted, no handshake within --connect-timeout-ms),',
    'LOADTEST_ERR_NOT_MOSHI (it answered in another protocol), LOADTEST_ERR_WAV (--in is not a usable',
    'WAV), LOADTEST_ERR_SESSIONS (--sessions has no session with an input.wav).',
  ].join('\n'),
  run: (argv) => main(argv, json),
});
