// `solacelive demo`: the main job end to end with the embedded tiny model. Record a live
// conversation (a real server with the recorder on, the fixture WAV streamed through the
// Node client in real time), replay the recording offline through a fresh engine process,
// give the verdict, and say where to look. Everything is real (engine child process,
// WebSocket, MLX); the tiny model's weights are synthetic, so the reply is noise, not speech.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intOption, parseCommandArgs, secondsOption, UsageError, type Command } from '../../src/cli/args.ts';
import { readInputAudio } from '../../src/cli/input-audio.ts';
import { commandLine } from '../../src/cli/invocation.ts';
import { EngineHost } from '../../src/engine/host.ts';
import { resolveModel } from '../../src/engine/models.ts';
import { BUDGET_MS, endToEndMs, SPAN_NAMES, summarize, withEndToEnd, type SpanName } from '../../src/telemetry/index.ts';
import { satisfies, formatComparison } from '../compare.ts';
import { openSession } from '../format/node.ts';
import { checkNewSessionFolder, recordFrames } from '../record.ts';
import { replaySession } from '../replayer.ts';
import { saveReplayVerdict } from './replay.ts';

const FIXTURE = resolve(fileURLToPath(import.meta.url), '../../../fixtures/audio/hello.wav');

/**
 * A p99 bar against the budget: `width` cells cover twice the budget, `|` marks the budget,
 * and a value past the scale ends in `▶` so no bar stops at the budget and hides how far over it is.
 */
export function budgetBar(ms: number, budgetMs = BUDGET_MS, width = 40): string {
  const scale = 2 * budgetMs;
  const mark = Math.round((budgetMs / scale) * width);
  // Over the budget always reaches past its mark, however little over.
  const fill = Math.min(width, Math.max(Math.round((ms / scale) * width), ms > budgetMs ? mark + 1 : 0));
  let out = '';
  for (let i = 0; i < width; i++) out += i < fill ? '#' : i === mark ? '|' : ' ';
  if (ms > scale) out = `${out.slice(0, width - 1)}▶`;
  return `${out.trimEnd()}${ms > budgetMs ? '  over budget' : ''}`;
}

/** Per-span percentiles from the session's own step records: the recording is the source. */
async function spanTable(path: string): Promise<{ lines: string[]; misses: number; steps: number }> {
  const samples = new Map<SpanName, number[]>();
  let misses = 0;
  let steps = 0;
  for await (const s of (await openSession(path)).steps()) {
    steps++;
    // e2e (frame in → reply out) is what the budget counts; derived for sessions recorded before it.
    for (const [name, ms] of Object.entries(withEndToEnd(s.spans)) as [SpanName, number][]) {
      if (typeof ms !== 'number') continue;
      (samples.get(name) ?? samples.set(name, []).get(name)!).push(ms);
    }
    if ((endToEndMs(s.spans) ?? 0) > BUDGET_MS) misses++;
  }
  const lines: string[] = [];
  for (const name of SPAN_NAMES) {
    const xs = samples.get(name);
    if (!xs?.length) continue;
    const st = summarize(xs);
    lines.push(`  ${name.padEnd(13)} p50 ${st.p50.toFixed(2).padStart(7)}  p99 ${st.p99.toFixed(2).padStart(7)} ms  ${budgetBar(st.p99)}`);
  }
  return { lines, misses, steps };
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    in: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, model: { type: 'string' }, seconds: { type: 'string' }, protocol: { type: 'string' },
  });
  const protocol = values.protocol ?? 'solacelive';
  if (protocol !== 'solacelive' && protocol !== 'moshi') throw new UsageError(`--protocol must be solacelive or moshi (got ${protocol})`);
  const inPath = values.in ?? FIXTURE;
  const seed = intOption(values, 'seed', 1);
  const seconds = secondsOption(values, 'seconds');
  const log = (m: string) => console.log(m);

  const input = await readInputAudio(inPath, seconds);
  const out = resolve(values.out ?? join(mkdtempSync(join(tmpdir(), 'solacelive-demo-')), 'demo.session'));
  await checkNewSessionFolder(out);
  const frames = input.frames;
  const spec = resolveModel(values.model, log);
  log(`model      ${spec.name}${spec.untrained ? ' (UNTRAINED synthetic weights: the reply is noise, not speech)' : ''}`);
  log(`input      ${input.description}`);

  // 1. Record: a live session through a real server and client, in real time.
  const engine = new EngineHost({ spec });
  let recorded;
  try {
    const info = await engine.start();
    if (!info) {
      console.error(`engine did not start: ${engine.reason}`);
      return 1;
    }
    log(`1 record   streaming at real-time pace through a loopback server with the recorder on (${protocol === 'moshi' ? 'the Moshi protocol: Ogg Opus at /api/chat' : 'SolaceLive packets'}) …`);
    recorded = await recordFrames(frames, { out, engine, seed, pace: 'realtime', protocol });
  } finally {
    await engine.close();
  }
  const c = recorded.client;
  log(`           ${c.audioFrames} audio frames back for ${c.framesSent} sent (${c.ok ? `every frame${'warmupFrames' in c ? ' after the warm-up' : ''} answered` : 'INCOMPLETE'}); frame sent → audio back p50 ${c.latency.p50.toFixed(1)} ms, p99 ${c.latency.p99.toFixed(1)} ms`);
  if (recorded.status.state !== 'closed') {
    console.error(`recording ${recorded.status.state}${recorded.status.error ? `: ${recorded.status.error.code}: ${recorded.status.error.message}` : ''}`);
    return 1;
  }
  const t = await spanTable(recorded.path);
  log(`           per stage over ${t.steps} steps (p99 bars to 2× the budget, | at ${BUDGET_MS} ms; ${t.misses} step${t.misses === 1 ? '' : 's'} over it end to end, e2e = frame in → reply out):`);
  for (const l of t.lines) log(l);

  // 2. Replay: the recorded input and events through a fresh engine process, compared step by step.
  log('2 replay   the recording offline through a new engine process (recorded seed, sampling and BLAS set-up) …');
  const r = await replaySession(recorded.path, { log: (m) => log(`           ${m}`) });
  const ok = satisfies(r.comparison.kind, r.expected);
  const cmp = formatComparison(r.comparison);
  log(`3 verdict  ${r.verdict} — ${r.stepsReplayed} steps at ${r.speed.toFixed(1)}× real time; expected ${r.expected} (${r.fingerprintDiffs.length ? 'platform differs' : 'platform fingerprint matches'}): ${ok ? 'OK' : 'NOT MET'}`);
  for (const l of cmp.slice(1)) log(`           ${l}`);
  // Saved as `solacelive replay` saves it, so the viewer shows this verdict for the session.
  await saveReplayVerdict(recorded.path, r, r.expected, ok, (m) => log(`           ${m}`));

  // 3. Where to look.
  log('4 look     the session folder (manifest, packets, per-step codes and spans, input/output WAVs):');
  log(`             ${recorded.path}`);
  log(`             reply audio: ${join(recorded.path, 'output.wav')} (float32, 24 kHz)`);
  // Each line runs as printed from here (commandLine: `solacelive` when set-up linked it, else node and the bin's path).
  const replayed = `${recorded.path.replace(/\.session$/, '')}-replayed.session`;
  const look: [string[], string][] = [
    [['replay', recorded.path], 'the verdict again (--json: every detail)'],
    [['replay', recorded.path, '--out', replayed], 'the replay as a session too'],
    [['sessions', 'diff', recorded.path, replayed], 'compare two recordings (here: the recording and that replay)'],
    [['view', '--sessions', dirname(recorded.path), '--port', '0'], 'timeline, waveforms, tokens, packets in the browser'],
    [['export-trace', recorded.path, '--out', `${recorded.path.replace(/\.session$/, '')}.trace.json`], 'open it in ui.perfetto.dev'],
  ];
  for (const [args, why] of look) log(`           ${commandLine(args)}   # ${why}`);
  return c.ok && ok ? 0 : 1;
}

export const command: Command = {
  summary: 'the main job end to end: record a live session (tiny model, fixture WAV), replay it, give the verdict',
  help: [
    'usage: solacelive demo [--in IN.wav] [--out DIR.session] [--seed N] [--seconds S] [--model tiny|DIR|REPO] [--protocol solacelive|moshi]',
    '',
    '1. record:  starts the server on a free loopback port with the recorder on and the',
    '            embedded tiny model (real architecture, UNTRAINED synthetic weights generated',
    '            into the cache on first use), streams IN.wav (default fixtures/audio/hello.wav)',
    '            through the Node client in real time, and writes the session to DIR.session',
    '            (default: a new folder in the temp folder); prints latency per stage.',
    '2. replay:  feeds the recorded input through a fresh engine process with the recorded seed.',
    '3. verdict: bit-exact, token-exact or diverged at step N; exit 0 when it is the verdict',
    '            the platform fingerprints allow (bit-exact on the machine that recorded).',
    '4. look:    where the session is and the commands to inspect it, each runnable as printed.',
    '',
    '--protocol moshi records over the Moshi protocol instead (Kyutai\'s web client\'s: Ogg Opus at',
    '/api/chat); the replay and verdict are the same.',
    '',
    'The verdict is saved in DIR.session/replays/ as `solacelive replay` saves it (the viewer',
    'shows it). DIR.session must not hold a session already.',
  ].join('\n'),
  run,
};
