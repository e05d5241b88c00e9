// `solacelive replay SESSION`: offline replay through the real engine and a verdict. Lives
// in harness/ (it needs the session reader and replayer); src/cli.ts only names it lazily.
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseCommandArgs, UsageError, type Command } from '../../src/cli/args.ts';
import { commandLine } from '../../src/cli/invocation.ts';
import { formatComparison, satisfies } from '../compare.ts';
import { pacedReplay } from '../paced.ts';
import type { ReplayProgress } from '../dashboard/events.ts';
import { useProductionReact } from '../dashboard/react-mode.ts';
import { isInPackage, stateRoot } from '../replay-location.ts';
import { replaySession, type ReplayReport } from '../replayer.ts';
import { saveReplayResult } from '../view/replays.ts';
import { corpusSessions, replayCorpus, type CorpusProgress } from '../replay/corpus.ts';
import { corpusProgressLine, entryLine, summaryLines } from '../replay/corpus-lines.ts';
import { againstLines, pacedAgainst } from '../replay/against.ts';
import type { ProgressDashboard } from '../dashboard/replay.ts';

const EXPECT = ['bit-exact', 'token-exact'] as const;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    expect: { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
    model: { type: 'string' },
    salvage: { type: 'boolean' },
    context: { type: 'string' },
    from: { type: 'string' },
    paced: { type: 'boolean' },
    dashboard: { type: 'boolean' },
    out: { type: 'string' },
    'no-save': { type: 'boolean' },
    jobs: { type: 'string' },
    'no-pipeline': { type: 'boolean' },
    against: { type: 'string' },
  }, true);
  if (positionals.length === 0) throw new UsageError('give a SESSION folder (or .zip), several, or a folder of sessions');
  const expectArg = values.expect;
  if (expectArg !== undefined && !(EXPECT as readonly string[]).includes(expectArg)) throw new UsageError(`--expect must be ${EXPECT.join(' or ')}`);
  const context = values.context === undefined ? 3 : Number(values.context);
  if (!Number.isInteger(context) || context < 0) throw new UsageError('--context must be an integer >= 0');
  const corpus = await corpusSessions(positionals);
  // One argument that is not a folder of sessions is the single-session replay; anything else is a corpus.
  if (positionals.length > 1 || corpus.length !== 1 || corpus[0] !== positionals[0]!.replace(/(.)\/+$/, '$1') || values.jobs !== undefined) {
    for (const k of ['paced', 'against', 'from', 'out', 'no-pipeline'] as const) if (values[k] !== undefined) throw new UsageError(`--${k} replays one session; give exactly one SESSION`);
    const jobs = values.jobs === undefined ? availableParallelism() : Number(values.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError('--jobs must be an integer >= 1');
    return runCorpus(corpus, { jobs, expect: expectArg as (typeof EXPECT)[number] | undefined, force: values.force === true, salvage: values.salvage === true, context, model: values.model, json: values.json === true, dashboard: values.dashboard === true, save: !values['no-save'] });
  }
  if (values.dashboard && values.paced) throw new UsageError('--dashboard shows the offline replay\'s progress; --paced has its own output');
  if (values.against !== undefined && !values.paced) throw new UsageError('--against URL goes with --paced (the session is sent to the server at the recorded pace)');
  if (values.paced && values.against !== undefined) {
    for (const k of ['from', 'out', 'model', 'force'] as const) if (values[k] !== undefined) throw new UsageError(`--${k} does not apply to --paced --against (the server at URL runs its own model)`);
    if (!/^(wss?|https?):\/\//.test(values.against)) throw new UsageError(`--against must be a ws:// (or http://) URL of a Moshi server, got ${JSON.stringify(values.against)}`);
    const r = await pacedAgainst(positionals[0]!.replace(/(.)\/+$/, '$1'), values.against, { salvage: values.salvage === true, ...(expectArg ? { expect: expectArg as (typeof EXPECT)[number] } : {}) });
    if (values.json) console.log(JSON.stringify({ ...r, client: { ok: r.client.ok, close: r.client.close, audioFrames: r.client.audioFrames, errors: r.client.errors } }, null, 2));
    else console.log(againstLines(r).join('\n'));
    return r.ok ? 0 : 1;
  }
  if (values.paced) {
    if (values.from !== undefined) throw new UsageError('--from applies to the offline replay, not --paced');
    const session = positionals[0]!.replace(/\/+$/, '');
    const name = `${basename(session).replace(/\.session$/, '')}-paced-${Date.now()}.session`;
    // Beside SESSION, unless that is inside the package (a committed fixture): the checkout stays clean.
    const out = values.out ?? ((await isInPackage(session)) ? join(stateRoot(), 'paced', name) : join(dirname(session), name));
    const p = await pacedReplay(session, { out, force: values.force === true, salvage: values.salvage === true, context, ...(values.model === undefined ? {} : { model: values.model }) });
    const d = p.diff;
    const expect = (expectArg as (typeof EXPECT)[number] | undefined) ?? (d.fingerprintDiffs.length ? 'token-exact' : 'bit-exact');
    const ok = satisfies(d.comparison.kind, expect) && d.steps.a === d.steps.b;
    if (!values['no-save']) {
      await saved(session, { kind: 'paced', at: new Date().toISOString(), verdict: d.comparison.verdict, expected: expect, ok, fingerprintDiffs: d.fingerprintDiffs, comparison: d.comparison, labels: ['recorded', 'paced'], stepsReplayed: d.steps.b });
    }
    if (values.json) {
      console.log(JSON.stringify({ ...p, client: { ok: p.client.ok, close: p.client.close }, expect, ok }, null, 2));
    } else {
      console.log(formatComparison(d.comparison, ['recorded', 'paced']).join('\n'));
      const sent = p.protocol === 'moshi' ? `${p.framesSent} Moshi messages (Ogg Opus pages) sent to /api/chat` : `${p.framesSent} frames sent`;
      console.log(`steps    recorded ${d.steps.a}, paced ${d.steps.b} (${sent} at the recorded times)`);
      console.log(`new      ${p.out}`);
      console.log(`expected ${expect}; ${ok ? 'OK' : 'NOT MET'}`);
    }
    return ok ? 0 : 1;
  }
  const from = values.from === undefined ? 0 : Number(values.from);
  if (!Number.isInteger(from) || from < 0) throw new UsageError('--from must be an integer >= 0');
  // Loaded only when asked for: Ink and React are not needed by a plain replay.
  if (values.dashboard) useProductionReact();
  const dash = values.dashboard ? (await import('../dashboard/replay.ts')).attachReplayDashboard() : null;
  const r = await replaySession(positionals[0]!, {
    ...(dash ? { onProgress: (p: ReplayProgress) => dash.onProgress(p) } : {}),
    from,
    pipeline: values['no-pipeline'] !== true,
    force: values.force === true, salvage: values.salvage === true, context,
    ...(values.out === undefined ? {} : { out: values.out.replace(/\/+$/, '') }),
    ...(values.model === undefined ? {} : { model: values.model }),
    log: (m) => console.error(`solacelive replay: ${m}`),
  }).finally(() => dash?.finish());
  const expect = (expectArg as (typeof EXPECT)[number] | undefined) ?? r.expected;
  const ok = satisfies(r.comparison.kind, expect);
  if (!values['no-save']) await saveReplayVerdict(positionals[0]!, r, expect, ok);
  if (values.json) {
    console.log(JSON.stringify({ ...r, expect, ok }, null, 2));
  } else {
    for (const rec of r.recoveries) console.error(`solacelive replay: recovered: ${rec.code} in ${rec.file} at ${rec.offset}: ${rec.message}`);
    for (const d of r.integrity.damage) console.error(`solacelive replay: damaged (replayed anyway, --salvage): ${d.message}`);
    if (r.forced) console.error(`solacelive replay: FORCED despite:\n  ${r.mismatches.join('\n  ')}`);
    const lines = formatComparison(r.comparison);
    lines[0] = `verdict: ${r.verdict}`;
    console.log(lines.join('\n'));
    console.log(`steps    ${r.stepsReplayed} replayed of ${r.wholeSteps} whole steps${r.from ? ` (compared from step ${r.from})` : ''}, ${(r.wallMs / 1000).toFixed(2)} s (${r.speed.toFixed(2)}× real time)`);
    const why = r.fingerprintDiffs.length ? `platform differs (${r.fingerprintDiffs.join('; ')})` : 'platform fingerprint matches';
    if (r.out) console.log(`new      ${r.out} (this replay as a session: ${commandLine(['sessions', 'diff', positionals[0]!, r.out])})`);
    console.log(`expected ${r.expected} (${why}); asked ${expect}: ${ok ? 'OK' : 'NOT MET'}`);
  }
  return ok ? 0 : 1;
}

/**
 * A corpus: every session on one of `jobs` engine workers at once; a verdict line per session
 * as it finishes (stdout), progress (stderr, or the dashboard), the summary, exit 1 unless
 * every session met its expected verdict.
 */
async function runCorpus(sessions: readonly string[], o: {
  jobs: number; expect: (typeof EXPECT)[number] | undefined; force: boolean; salvage: boolean; context: number; model: string | undefined; json: boolean; dashboard: boolean; save: boolean;
}): Promise<number> {
  if (o.dashboard) useProductionReact();
  const dash: ProgressDashboard<CorpusProgress> | null = o.dashboard ? (await import('../dashboard/replay.ts')).attachCorpusDashboard() : null;
  let lastLine = 0;
  const saves: Promise<void>[] = [];
  const summary = await replayCorpus(sessions, {
    jobs: o.jobs, force: o.force, salvage: o.salvage, context: o.context,
    ...(o.expect ? { expect: o.expect } : {}), ...(o.model === undefined ? {} : { model: o.model }),
    onResult: (e) => {
      if (!o.json && !dash) console.log(entryLine(e));
      if (o.save && e.report) saves.push(saveReplayVerdict(e.session, e.report, e.expect!, e.ok, () => undefined));
    },
    onProgress: (p) => {
      if (dash) return dash.onProgress(p);
      // Off the dashboard, a progress line on stderr every 2 s keeps stdout for verdicts.
      const now = performance.now();
      if (now - lastLine >= 2000 && !p.finished) {
        lastLine = now;
        console.error(corpusProgressLine(p));
      }
    },
  }).finally(() => dash?.finish());
  await Promise.all(saves);
  if (o.json) {
    console.log(JSON.stringify(summary, null, 2));
  } else {
    if (dash) for (const e of summary.entries) console.log(entryLine(e));
    console.log(summaryLines(summary).join('\n'));
  }
  return summary.ok ? 0 : 1;
}

// The verdict goes into SESSION/replays/ for the viewer's "last replay" column (into the
// per-user state folder for a session inside the package, so a committed fixture leaves the
// checkout clean); a session that cannot take it (a .zip, a read-only folder) is still
// replayed, with a note.
async function saved(session: string, result: Parameters<typeof saveReplayResult>[1], log = (m: string) => console.error(`solacelive replay: ${m}`)): Promise<void> {
  try {
    const path = await saveReplayResult(session, result);
    if (path !== null) log(`result saved to ${path}`);
  } catch (err) {
    log(`result not saved (${(err as Error).message})`);
  }
}

/** Saves an offline replay's verdict as `solacelive replay` does; the demo saves its own with it. */
export async function saveReplayVerdict(session: string, r: ReplayReport, expect: (typeof EXPECT)[number], ok: boolean, log?: (m: string) => void): Promise<void> {
  await saved(session, { kind: 'replay', at: new Date().toISOString(), verdict: r.verdict, expected: expect, ok, fingerprintDiffs: r.fingerprintDiffs, comparison: r.comparison, labels: ['recorded', 'replayed'], stepsReplayed: r.stepsReplayed }, log);
}

export const command: Command = {
  summary: 'replay a recorded session through the engine and report bit-exact / token-exact / diverged at step N',
  help: [
    'usage: solacelive replay SESSION [--expect bit-exact|token-exact] [--force] [--json] [--model M] [--salvage] [--context N] [--from STEP] [--out NEW.session] [--no-save] [--dashboard] [--no-pipeline]',
    '       solacelive replay DIR_OF_SESSIONS | SESSION SESSION… [--jobs N] [--expect …] [--force] [--json] [--model M] [--salvage] [--no-save] [--dashboard]',
    '       solacelive replay SESSION --paced [--out NEW.session] [--expect …] [--force]',
    '       solacelive replay SESSION --paced --against ws://HOST:PORT/api/chat (or ws://HOST:PORT/) [--expect …] [--json]',
    '',
    'Feeds the recorded input frames and events through the same engine (a child process, as',
    'the server runs it; BLAS pinned as recorded) with the recorded seed and sampling, as fast',
    'as it steps, and compares every step: input codes, text token, audio codes, PCM hash.',
    'One session runs pipelined on two engine workers: Mimi encode ahead of the LM and decode',
    'behind it, each stage the live path\'s own model calls in the same order (same verdict).',
    '',
    'A folder of sessions, or several SESSIONs, is a corpus: each session replays on one engine',
    'worker (BLAS pinned as recorded), --jobs N workers at once (default: one per core). A verdict',
    'line per session as it finishes (OK / NOT MET / ERROR with the code: a damaged or refused',
    'session is reported and the others go on), a progress line on stderr every 2 s (--dashboard:',
    'the corpus view), then a summary: counts by verdict, wall time, speed against real time.',
    'Exit 0 only when every session met its expected verdict.',
    '',
    '  --expect V   exit 0 only for this verdict or better (default: bit-exact when the platform',
    '               fingerprint matches the recording, else token-exact)',
    '  --force      replay even if the model config, weights sha256 or package version differ',
    '               (refused otherwise, naming what differs); the verdict is labelled forced',
    '  --model M    where the model is: a name, a hub repo or a folder (default: the recorded',
    '               model id, which must be tiny or a hub repo: a recording never names a folder)',
    '  --salvage    skip corrupt records in the middle of the files instead of stopping, and',
    '               replay a damaged session anyway (its damage is listed, the verdict labelled)',
    '  --context N  steps shown on each side of a divergence (default 3)',
    '  --from STEP  compare from STEP on; earlier steps still run with the recorded inputs, seed',
    '               and events (the only way to rebuild the model state), uncompared',
    '  --out NEW    also write this replay as a new session folder (recorded input, this',
    '               engine\'s output and steps, no packets); every step runs, past a divergence too',
    '  --paced      send the recorded client audio over a real WebSocket to a fresh local server',
    '               at the recorded times (a Moshi-protocol session: its client messages, byte',
    '               for byte, to /api/chat with the recorded query, seeds and sampling), record',
    '               a new session (--out, default beside SESSION;',
    '               for a SESSION inside the package: ~/.local/state/solacelive/paced/)',
    '               and compare the two; the step counts must match too',
    '  --against URL with --paced: send the client side of the session to the server at URL at the',
    '               recorded pace, on the protocol it was recorded with: a Moshi-protocol session',
    '               (by `solacelive proxy` in front of any Moshi server, or by SolaceLive on',
    '               /api/chat) message for message; a packet-protocol one frame by frame;',
    '               print its timing as the proxy measures it (lag p50/p99, growth, stalls,',
    '               missing audio) beside the recording\'s. Against SolaceLive with the same model,',
    '               the recorded seed is asked for (or the one the recorded server announced) and',
    '               the server\'s replies are compared with the recorded ones: every audio page and',
    '               text piece identical is bit-exact, the same text token-exact. Exit 0 when every',
    '               frame was answered and the verdict, if any, is met',
    '  --jobs N     corpus: engine workers at once (default: one per core)',
    '  --no-pipeline  one session: run every step on one engine worker, as the live server does',
    '  --json       the whole report as JSON',
    '  --dashboard  show progress while it runs: steps done/total, speed against real time, the',
    '               verdict so far and the first divergence the moment it happens (an Ink view on',
    '               a terminal; plain `replay key=value` lines otherwise), then the report',
    '  --no-save    do not write the result to SESSION/replays/<time>-replay.json (written by',
    '               default when SESSION is a folder; `solacelive view` shows the newest). A',
    '               session inside the package (a committed fixture) is left as it is: its',
    '               result goes to ~/.local/state/solacelive/replays/NAME-KEY/ ($XDG_STATE_HOME,',
    '               $SOLACELIVE_STATE); the path is printed',
    '',
    'Before anything runs, every file is verified (checksums in the manifest, and the files',
    'against each other: input.wav against the client audio in packets.bin, output.wav against',
    'the PCM hashes in steps.jsonl, the manifest against the server\'s ready message, step',
    'indices). Damage is an error naming the file and place (SESSION_ERR_DAMAGED), never a',
    'verdict about the model.',
    '',
    'Exit: 0 verdict met, 1 not met, refused or damaged, 2 usage.',
  ].join('\n'),
  run,
};
