// `solacelive record --in WAV --out DIR`: a scripted live conversation. Starts a server with
// the tiny model (or --model) on a free loopback port with the recorder on, streams the WAV
// through the Node client in real time, and writes the session.
import { parseCommandArgs, requireOption, SAMPLING_HELP, SAMPLING_OPTIONS, samplingOption, secondsOption, seedOption, UsageError, type Command } from '../../src/cli/args.ts';
import { readInputAudio } from '../../src/cli/input-audio.ts';
import { interruptible, INTERRUPTED_EXIT } from '../../src/cli/interrupt.ts';
import { commandLine } from '../../src/cli/invocation.ts';
import { createEngine } from '../../src/cli/serve.ts';
import { checkNewSessionFolder, recordFrames } from '../record.ts';

async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    in: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, 'audio-seed': { type: 'string' }, ...SAMPLING_OPTIONS,
    model: { type: 'string' }, fast: { type: 'boolean' }, seconds: { type: 'string' }, protocol: { type: 'string' },
  });
  const inPath = requireOption(values, 'in');
  const out = requireOption(values, 'out');
  const protocol = values.protocol ?? 'solacelive';
  if (protocol !== 'solacelive' && protocol !== 'moshi') throw new UsageError(`--protocol must be solacelive or moshi (got ${protocol})`);
  const seed = seedOption(values, 'seed');
  const audioSeed = seedOption(values, 'audio-seed');
  const sampling = samplingOption(values);
  if (protocol === 'moshi' && values.fast) throw new UsageError('--fast is a SolaceLive packet protocol option: the Moshi protocol streams in real time');
  if (protocol !== 'moshi' && audioSeed !== undefined) throw new UsageError('--audio-seed is a Moshi protocol option (audio_seed); give --protocol moshi');
  const seconds = secondsOption(values, 'seconds');
  const log = (m: string) => console.error(`solacelive record: ${m}`);
  // Everything that can be refused is refused before the model loads and the input streams.
  const input = await readInputAudio(inPath, seconds);
  await checkNewSessionFolder(out);
  const { engine, reason } = await createEngine(values.model ?? null, log);
  if (!engine) throw new Error(`no engine: ${reason ?? 'unknown'}`);
  try {
    const info = await engine.start();
    if (!info) throw new Error(`engine did not start: ${engine.reason ?? engine.state}`);
    log(`input ${input.description}`);
    log(`streaming at ${values.fast ? 'fast' : 'real-time'} pace on the ${protocol === 'moshi' ? 'Moshi protocol (/api/chat, Ogg Opus)' : 'SolaceLive packet protocol'} … (Ctrl-C ends the session early, keeping it whole)`);
    const interrupt = interruptible(log);
    const r = await recordFrames(input.frames, {
      out, engine, pace: values.fast ? 'fast' : 'realtime', signal: interrupt.signal, protocol,
      ...(seed === undefined ? {} : { seed }), ...(audioSeed === undefined ? {} : { audioSeed }), ...(sampling === undefined ? {} : { sampling }),
    }).finally(() => interrupt.dispose());
    const c = r.close;
    const ok = r.status.state === 'closed' && r.client.ok;
    console.log(`session  ${r.path}`);
    console.log(`status   ${r.status.state}${r.status.error ? ` (${r.status.error.code}: ${r.status.error.message})` : ''}, ${c?.counts.steps ?? r.status.steps} steps, ${c?.counts.packets ?? '?'} packets`);
    console.log(`client   ${r.client.ok ? 'ended normally' : `closed ${r.client.close.code} ${r.client.close.reason}`}, seed ${r.seed}`);
    // Only a session that was written whole is worth replaying.
    if (r.status.state === 'closed') console.log(`replay   ${commandLine(['replay', r.path])}`);
    return !ok ? 1 : interrupt.signal.aborted ? INTERRUPTED_EXIT : 0;
  } finally {
    await engine.close();
  }
}

export const command: Command = {
  summary: 'record a session: stream a WAV through a local server (tiny model) in real time into DIR',
  help: [
    'usage: solacelive record --in WAV --out DIR [--protocol solacelive|moshi] [--seed N] [--greedy] [--model M] [--fast] [--seconds S]',
    '',
    'Starts a server on a free loopback port with the recorder on, streams WAV through the',
    'Node client at real-time pace (as a live user would), and writes the session folder DIR',
    '(manifest.json, packets.bin, steps.jsonl, input.wav, output.wav). Then: solacelive replay DIR.',
    'DIR must not hold a session already (refused before anything streams). IN is brought to',
    '24 kHz mono (said when it is resampled or downmixed). Ctrl-C ends the input there and the',
    'session normally: DIR is finalized and replayable (exit 130); a second Ctrl-C quits at once.',
    '',
    '  --protocol P    solacelive (default): the packet protocol; moshi: the Moshi protocol at',
    '                  /api/chat as Kyutai\'s web client speaks it (Ogg Opus both ways, real time',
    '                  only); replay and replay --paced work the same for either',
    '  --seed N        sampling seed (default: the server picks one; recorded either way);',
    '                  with moshi: text_seed, and audio_seed too unless --audio-seed M',
    ...SAMPLING_HELP,
    '  --model M       model folder or hub repo (default: tiny, untrained synthetic weights)',
    '  --fast          send frames as fast as the engine answers instead of in real time',
    '  --seconds S     only the first S seconds of the WAV',
  ].join('\n'),
  run,
};
