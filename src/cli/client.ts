// `solacelive client`: streams a WAV to a server as 80 ms frames, writes the reply as a
// float32 WAV (one 80 ms slot per input frame), prints the text and the latency figures.
import { FRAME_SAMPLES, SAMPLE_RATE } from '../audio/frames.ts';
import { writeWav } from '../audio/wav-file.ts';
import { ClientError, describeClose, type SessionResult } from '../client/client.ts';
import { connect } from '../client/connect.ts';
import { DEFAULT_PORT, isLoopbackHost } from '../server/options.ts';
import { connectMoshi, moshiQuery, moshiUrl, replyTrack, type MoshiResult } from '../client/moshi.ts';
import type { SamplingParams } from '../engine/types.ts';
import type { ReadyMessage } from '../server/messages.ts';
import { CliError, parseCommandArgs, requireOption, SAMPLING_HELP, SAMPLING_OPTIONS, samplingOption, seedOption, UsageError, type Command } from './args.ts';
import { readInputAudio, type InputAudio } from './input-audio.ts';
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
  if (err.code === 'CLIENT_ERR_HTTP_404') return new CliError(err.code, `${err.message}: nothing answers WebSockets at that path (Moshi servers answer at /api/chat: give --url ws://HOST:PORT and the client adds it)`);
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

const PROTOCOLS = ['solacelive', 'moshi'] as const;

async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    in: { type: 'string' },
    out: { type: 'string' },
    url: { type: 'string' },
    protocol: { type: 'string' },
    realtime: { type: 'boolean' },
    fast: { type: 'boolean' },
    seed: { type: 'string' },
    'audio-seed': { type: 'string' },
    ...SAMPLING_OPTIONS,
    record: { type: 'boolean' },
    token: { type: 'string' },
    json: { type: 'boolean' },
  });
  const inPath = requireOption(values, 'in');
  const outPath = requireOption(values, 'out');
  const protocol = values.protocol ?? 'solacelive';
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) throw new UsageError(`--protocol must be ${PROTOCOLS.join(' or ')} (got ${protocol})`);
  if (values.realtime && values.fast) throw new UsageError('--realtime and --fast exclude each other');
  const seed = seedOption(values, 'seed');
  const audioSeed = seedOption(values, 'audio-seed');
  const sampling = samplingOption(values);
  if (protocol === 'moshi' && values.fast) throw new UsageError('--fast is a SolaceLive packet protocol option: the Moshi protocol streams in real time');
  if (protocol !== 'moshi' && audioSeed !== undefined) throw new UsageError('--audio-seed is a Moshi protocol option (audio_seed); give --protocol moshi');
  const url = values.url ?? DEFAULT_URL;
  if (!/^(wss?|https?):\/\/[^/]/i.test(url) || !URL.canParse(url)) throw new UsageError(`--url must be a server URL such as ${DEFAULT_URL} (got ${url})`);

  // Refused before connecting: a bad OUT would otherwise surface only after the whole session.
  checkOutputFile(outPath);
  const token = values.token ?? process.env.SOLACELIVE_TOKEN;
  const input = await readInputAudio(inPath);
  console.error(`input       ${input.description}`);
  const o: RunOptions = { inPath, outPath, url, token, input, json: values.json === true, record: values.record === true, seed, audioSeed, sampling, fast: values.fast === true };
  return protocol === 'moshi' ? runMoshi(o) : runPackets(o);
}

interface RunOptions {
  readonly inPath: string;
  readonly outPath: string;
  readonly url: string;
  readonly token: string | undefined;
  readonly input: InputAudio;
  readonly json: boolean;
  readonly record: boolean;
  readonly seed: number | undefined;
  readonly audioSeed: number | undefined;
  readonly sampling: Partial<SamplingParams> | undefined;
  readonly fast: boolean;
}

async function runPackets(o: RunOptions): Promise<number> {
  const { url, token, input, inPath, outPath } = o;
  const client = await connect(url, {
    pace: o.fast ? 'fast' : 'realtime',
    ...(o.seed === undefined ? {} : { seed: o.seed }),
    ...(o.sampling === undefined ? {} : { sampling: o.sampling }),
    record: o.record,
    token,
    onText: o.json ? undefined : (p) => {
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
  if (!o.json) process.stdout.write('\n');
  // One slot per input frame, trimmed like the input: OUT lines up sample for sample with IN.
  const audio = result.audio.subarray(0, Math.min(result.audio.length, input.totalSamples));
  await writeWav(outPath, audio, SAMPLE_RATE, { format: 'float32' });
  if (o.json) {
    const { audio: _a, ...rest } = result;
    console.log(JSON.stringify({ ...rest, out: outPath, input: { path: inPath, frames: input.frames.length, description: input.description } }, null, 2));
  } else {
    console.log(`text        ${JSON.stringify(result.text)}`);
    for (const line of summary(result, input.description)) console.log(line);
    console.log(`wrote       ${outPath} (float32, ${SAMPLE_RATE} Hz, ${audio.length} samples)`);
  }
  return !result.ok ? 1 : interrupt.signal.aborted ? INTERRUPTED_EXIT : 0;
}

/** What SolaceLive says of the session in its Moshi metadata (other servers: Kyutai's ServerInfo fields). */
function moshiServerLine(r: ReadyMessage | null, metadata: readonly unknown[]): string {
  const m = metadata[0] as { lm_model_file?: unknown; instance_name?: unknown } | undefined;
  if (r) return `model ${r.model}${r.untrained ? ' (UNTRAINED: output is not speech)' : ''}, weights ${r.weights}, seed ${r.seed}${r.audioSeed === undefined ? '' : `, audio seed ${r.audioSeed}`}`;
  if (m) return `a Moshi server${typeof m.instance_name === 'string' ? ` (${m.instance_name})` : ''}${typeof m.lm_model_file === 'string' ? `, model ${m.lm_model_file}` : ''}`;
  return 'a Moshi server (no metadata)';
}

function moshiSummary(r: MoshiResult, input: string): string[] {
  const l = r.latency;
  const lines = [
    `session     ${r.session ?? '- (the server did not name one)'}`,
    `input       ${input}`,
    `output      ${r.audioFrames} audio frames of 80 ms for ${r.framesSent} frames sent (the first ${r.warmupFrames} answered by none: warm-up)`,
    `latency     frame sent → audio back over ${l.window} frames: p50 ${ms(l.p50)}, p95 ${ms(l.p95)}, p99 ${ms(l.p99)}, max ${ms(l.max)}; first audio ${ms(l.firstAudioMs)}`,
  ];
  if (r.ignored) lines.push(`ignored     ${r.ignored} messages of kinds this client does not use`);
  for (const e of r.errors) lines.push(`error       ${e}`);
  lines.push(`closed      ${describeClose(r.close.code, r.close.reason)}`);
  return lines;
}

async function runMoshi(o: RunOptions): Promise<number> {
  const { url, token, input, inPath, outPath } = o;
  const query = moshiQuery({ seed: o.seed, audioSeed: o.audioSeed, sampling: o.sampling, record: o.record });
  const target = moshiUrl(url, query).href;
  const client = await connectMoshi(url, {
    query, token,
    onText: o.json ? undefined : (t) => process.stdout.write(t),
  }).catch((err: unknown) => {
    throw connectError(err, url, token);
  });
  console.error(`connected   ${target}: ${moshiServerLine(client.solacelive, client.result().metadata)}`);
  const interrupt = interruptible((m) => console.error(`\nsolacelive client: ${m}`));
  const result = await client.run(input.frames, interrupt.signal).finally(() => interrupt.dispose());
  if (!o.json) process.stdout.write('\n');
  // Lined up with IN as the packet client's reply is: warm-up silent, then the reply, one slot per frame sent, at most IN's length.
  const audio = replyTrack(result, Math.min(input.totalSamples, result.framesSent * FRAME_SAMPLES));
  await writeWav(outPath, audio, SAMPLE_RATE, { format: 'float32' });
  if (o.json) {
    const { audio: _a, ...rest } = result;
    console.log(JSON.stringify({ protocol: 'moshi', url: target, ...rest, out: outPath, input: { path: inPath, frames: input.frames.length, description: input.description } }, null, 2));
  } else {
    console.log(`text        ${JSON.stringify(result.text.map((t) => t.text).join(''))}`);
    for (const line of moshiSummary(result, input.description)) console.log(line);
    console.log(`wrote       ${outPath} (float32, ${SAMPLE_RATE} Hz, ${audio.length} samples)`);
  }
  return !result.ok ? 1 : interrupt.signal.aborted ? INTERRUPTED_EXIT : 0;
}

export const command: Command = {
  summary: 'stream a WAV to a server (SolaceLive packets or the Moshi protocol), write the reply WAV, print text and latency',
  help: [
    `usage: solacelive client --in IN.wav --out OUT.wav [--url ${DEFAULT_URL}] [--protocol solacelive|moshi] [--realtime|--fast] [--seed N] [--greedy]`,
    '',
    'Reads IN.wav (any rate/channels: brought to 24 kHz mono), streams it as 80 ms frames,',
    'writes the reply to OUT.wav (float32, 24 kHz, one 80 ms slot per input frame, silence',
    'where a step had no audio), prints the text and the end-to-end latency per frame',
    '(frame sent → its step\'s audio back) as p50/p95/p99. Exit 0 when every frame was',
    'answered and the session ended normally. Ctrl-C ends the input there: the session still',
    'ends normally and the reply so far is written (exit 130); a second Ctrl-C quits at once.',
    '',
    '  --url URL       server (default ' + DEFAULT_URL + ')',
    '  --protocol P    solacelive: SolaceLive\'s packet protocol (default); moshi: the Moshi',
    '                  protocol of Kyutai\'s web client, spoken by any Moshi server (upstream',
    '                  moshi.server, moshi_mlx, moshi-server, and `solacelive serve`)',
    '  --realtime      send at real-time pace, one frame per 80 ms (default)',
    '  --fast          send as fast as the server accepts (a window of unanswered frames; packets only)',
    '  --seed N        sampling seed (default: the server picks one and reports it)',
    ...SAMPLING_HELP,
    '  --record        ask the server to record the session',
    '  --token T       bearer token (or SOLACELIVE_TOKEN)',
    '  --json          print the result as JSON instead of text',
    '',
    'The Moshi protocol (--protocol moshi): connects to URL/api/chat when URL has no path (a',
    'URL with a path is used as given), with the options in the query string as Kyutai\'s',
    'client sends them: --seed N gives text_seed=N and audio_seed=N (--audio-seed M for another',
    'audio_seed), the sampling flags text_temperature, text_topk, audio_temperature, audio_topk,',
    '--record record=1 (a SolaceLive extension; other servers ignore it). It waits for the',
    'handshake, then streams IN in real time as Ogg Opus as a microphone feeds Kyutai\'s client',
    '(20 ms packets, two per page, each 40 ms page its own message, sent when it is full),',
    'decodes the Ogg Opus reply and prints the text pieces as they come.',
    'No step numbers travel in this protocol, so the reply is matched to frames by order: a',
    'Moshi server answers each frame with 80 ms of audio after a warm-up of one frame, so the',
    'k-th 80 ms of reply (counted as the server encoded it: decoded samples plus the stream\'s',
    'pre-skip) answers frame k+1. Latency is its arrival minus the time frame k+1\'s last page',
    'was sent. SolaceLive cuts frames on the client encoder\'s boundaries, so a frame is whole',
    'with its own pages; a server that cuts after the Opus pre-skip has it only with the next',
    'page, 40 ms later, and the latency shows it. OUT is that reply after one silent warm-up',
    'frame, one 80 ms slot per frame sent (silence where none came), cut to IN. Exit 0 when',
    'every frame after the warm-up was answered and the connection closed normally (the',
    'protocol has no end message: SolaceLive closes once it answered the end of the stream,',
    'another server when the client closes).',
  ].join('\n'),
  run,
};
