// `solacelive client`: streams a WAV to a server as 80 ms frames, writes the reply as a
// float32 WAV (one 80 ms slot per input frame), prints the text and the latency figures.
import { SAMPLE_RATE } from '../audio/frames.ts';
import { writeWav } from '../audio/wav-file.ts';
import { ClientError, describeClose, type SessionResult } from '../client/client.ts';
import { connect } from '../client/connect.ts';
import { GREEDY } from '../engine/types.ts';
import { DEFAULT_PORT, isLoopbackHost } from '../server/options.ts';
import { CliError, intOption, parseCommandArgs, requireOption, UsageError, type Command } from './args.ts';
import { readInputAudio } from './input-audio.ts';
import { interruptible, INTERRUPTED_EXIT } from './interrupt.ts';
import { commandLine } from './invocation.ts';
import { checkOutputFile } from './output-path.ts';

const DEFAULT_URL = `ws://127.0.0.1:${DEFAULT_PORT}`;

/** No server at the URL: say how to start one there (a runnable command), as `dash` does; a refused token: say how to give one. */
function connectError(err: unknown, url: string, token: string | undefined): unknown {
  if (!(err instanceof ClientError)) return err;
  if (err.code === 'CLIENT_ERR_HTTP_401') {
    return new CliError(err.code, `${err.message}: ${token ? 'the server did not accept the token given' : 'the server needs a token'}; give its token with --token T or SOLACELIVE_TOKEN`);
  }
  if (err.errno !== 'ECONNREFUSED') return err;
  const { hostname, port } = new URL(url);
  // Starting one is only the answer on this machine.
  if (!isLoopbackHost(hostname)) return new CliError(err.code, `${err.message}: is \`solacelive serve\` running on ${hostname}, with --host?`);
  const serve = commandLine(['serve', ...(port && port !== String(DEFAULT_PORT) ? ['--port', port] : [])]);
  return new CliError(err.code, `${err.message}: start one with \`${serve}\`, or give --url`);
}

const ms = (x: number | null) => (x === null || Number.isNaN(x) ? '-' : `${x.toFixed(1)} ms`);

function summary(r: SessionResult, input: string): string[] {
  const l = r.latency;
  const lines = [
    `session     ${r.session}`,
    `input       ${input}`,
    `output      ${r.audioFrames} audio frames, ${r.gaps.length} steps without audio (${[...new Set(r.gaps.map((g) => g.reason))].join(', ') || 'none'})`,
    `latency     frame sent → audio back over ${l.window} frames: p50 ${ms(l.p50)}, p95 ${ms(l.p95)}, p99 ${ms(l.p99)}, max ${ms(l.max)}; first audio ${ms(l.firstAudioMs)}`,
  ];
  if (r.jitter) lines.push(`playout     ${r.jitter.played} played, ${r.jitter.missing} missing (underruns), ${r.jitter.late} late, max depth ${r.jitter.maxDepth}`);
  const evs = new Map<string, number>();
  for (const m of r.events) for (const e of m.events) evs.set(e.kind, (evs.get(e.kind) ?? 0) + 1);
  if (evs.size) lines.push(`events      ${[...evs].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  for (const e of r.errors) lines.push(`error       ${e.code}: ${e.message}${e.fatal ? ' (fatal)' : ''}`);
  lines.push(`closed      ${describeClose(r.close.code, r.close.reason)}`);
  return lines;
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    in: { type: 'string' },
    out: { type: 'string' },
    url: { type: 'string' },
    realtime: { type: 'boolean' },
    fast: { type: 'boolean' },
    seed: { type: 'string' },
    greedy: { type: 'boolean' },
    record: { type: 'boolean' },
    token: { type: 'string' },
    json: { type: 'boolean' },
  });
  const inPath = requireOption(values, 'in');
  const outPath = requireOption(values, 'out');
  if (values.realtime && values.fast) throw new UsageError('--realtime and --fast exclude each other');
  const seed = values.seed === undefined ? undefined : intOption(values, 'seed', 0);
  if (seed !== undefined && (seed < 0 || seed > 0xffffffff)) throw new UsageError(`--seed must be in 0..${0xffffffff}`);
  const url = values.url ?? DEFAULT_URL;
  if (!/^(wss?|https?):\/\/[^/]/i.test(url) || !URL.canParse(url)) throw new UsageError(`--url must be a server URL such as ${DEFAULT_URL} (got ${url})`);

  // Refused before connecting: a bad OUT would otherwise surface only after the whole session.
  checkOutputFile(outPath);
  const token = values.token ?? process.env.SOLACELIVE_TOKEN;
  const input = await readInputAudio(inPath);
  console.error(`input       ${input.description}`);
  const client = await connect(url, {
    pace: values.fast ? 'fast' : 'realtime',
    ...(seed === undefined ? {} : { seed }),
    ...(values.greedy ? { sampling: GREEDY } : {}),
    record: values.record === true,
    token,
    onText: values.json ? undefined : (p) => {
      if (p.piece) process.stdout.write(p.piece);
    },
    // Said when it happens: a recording that stops (disk full) should not go unnoticed.
    onMessage: (m) => {
      if (m.type !== 'recording') return;
      if (m.state === 'recording') console.error('recording   the server is recording this session');
      else console.error(`recording   STOPPED after ${m.steps ?? '?'} steps (${m.code}: ${m.message}); the session goes on, what was written is kept`);
    },
  }).catch((err: unknown) => {
    throw connectError(err, url, token);
  });
  const r0 = client.ready;
  console.error(`connected   ${url}: model ${r0.model}${r0.untrained ? ' (UNTRAINED: output is not speech)' : ''}, weights ${r0.weights}, seed ${r0.seed}, ${r0.pace} pace`);
  const interrupt = interruptible((m) => console.error(`\nsolacelive client: ${m}`));
  const result = await client.run(input.frames, interrupt.signal).finally(() => interrupt.dispose());
  if (!values.json) process.stdout.write('\n');
  // One slot per input frame, trimmed like the input: OUT lines up sample for sample with IN.
  const audio = result.audio.subarray(0, Math.min(result.audio.length, input.totalSamples));
  await writeWav(outPath, audio, SAMPLE_RATE, { format: 'float32' });
  if (values.json) {
    const { audio: _a, ...rest } = result;
    console.log(JSON.stringify({ ...rest, out: outPath, input: { path: inPath, frames: input.frames.length, description: input.description } }, null, 2));
  } else {
    console.log(`text        ${JSON.stringify(result.text)}`);
    for (const line of summary(result, input.description)) console.log(line);
    console.log(`wrote       ${outPath} (float32, ${SAMPLE_RATE} Hz, ${audio.length} samples)`);
  }
  return !result.ok ? 1 : interrupt.signal.aborted ? INTERRUPTED_EXIT : 0;
}

export const command: Command = {
  summary: 'stream a WAV to a server, write the reply WAV, print text and latency',
  help: [
    `usage: solacelive client --in IN.wav --out OUT.wav [--url ${DEFAULT_URL}] [--realtime|--fast] [--seed N] [--greedy]`,
    '',
    'Reads IN.wav (any rate/channels: brought to 24 kHz mono), streams it as 80 ms frames,',
    'writes the reply to OUT.wav (float32, 24 kHz, one 80 ms slot per input frame, silence',
    'where a step had no audio), prints the text and the end-to-end latency per frame',
    '(frame sent → its step\'s audio back) as p50/p95/p99. Exit 0 when every frame was',
    'answered and the session ended normally. Ctrl-C ends the input there: the session still',
    'ends normally and the reply so far is written (exit 130); a second Ctrl-C quits at once.',
    '',
    '  --url URL     server (default ' + DEFAULT_URL + ')',
    '  --realtime    send at real-time pace, one frame per 80 ms (default)',
    '  --fast        send as fast as the server accepts (a window of unanswered frames)',
    '  --seed N      sampling seed (default: the server picks one and reports it)',
    '  --greedy      temperature 0 (argmax) for text and audio',
    '  --record      ask the server to record the session',
    '  --token T     bearer token (or SOLACELIVE_TOKEN)',
    '  --json        print the result as JSON instead of text',
  ].join('\n'),
  run,
};
