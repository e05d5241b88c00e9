// Offline replay: a recorded session's input frames and events go through the same engine
// (an EngineHost child process, as the live server runs it, so the float path is the
// server's) and the same step loop as a live session (src/server/step-loop.ts, fed the
// recorded frames with their recorded pre-step events on a virtual clock), with the
// recorded seed and sampling, as fast as the engine steps; every finished step's input
// codes, text token, audio codes and PCM hash are compared with the recording.
// Steps are fed strictly in order from step 0: model state is the product of all earlier
// steps, and the sampling keys of step k depend only on (seed, k).
import { randomUUID } from 'node:crypto';
import { CodedError } from '../src/errors.ts';
import { DEFAULT_BLAS, EngineHost, type BlasPinning } from '../src/engine/host.ts';
import { resolveHubModel, resolveModel } from '../src/engine/models.ts';
import type { ModelSpec } from '../src/engine/model-spec.ts';
import { preStepEvents, stepRecordOf, type FinishedStep, type StepRecord } from '../src/engine/step-record.ts';
import type { EngineInfo } from '../src/engine/types.ts';
import type { EnginePort } from '../src/server/engine-port.ts';
import { StepLoop, type Timers } from '../src/server/step-loop.ts';
import { VirtualClock } from '../src/telemetry/clock.ts';
import { Comparator, viewOf, type Comparison } from './compare.ts';
import type { ReplayProgress } from './dashboard/events.ts';
import { openSession, SessionWriter, type SessionManifest, type SessionRecovery } from './format/node.ts';
import { canonicalJson, proxyMetaOf } from './format/index.ts';
import { manifestFromEngine, softwareInfo } from './recorder.ts';
import { PipelineEngines, pipelinedStepper, windowedStepper, type OfflineStepper } from './replay/pipelined.ts';
import { assertUndamaged, verifySession, type IntegrityReport } from './verify.ts';

export type ReplayErrorCode =
  | 'REPLAY_ERR_MISMATCH' // model config, weights or package version differ (without --force)
  | 'REPLAY_ERR_MODEL_ID' // the manifest's model.id is not a model name (a path, `..`): only --model may name a folder
  | 'REPLAY_ERR_ENGINE' // the engine could not start or a step failed
  | 'REPLAY_ERR_SESSION' // nothing replayable (no whole step, steps not from 0)
  | 'REPLAY_ERR_PROXIED'; // recorded by `solacelive proxy`: the model that answered is not in the session

export class ReplayError extends CodedError<ReplayErrorCode> {
  readonly mismatches: readonly string[];
  override readonly name = 'ReplayError';
  constructor(code: ReplayErrorCode, message: string, mismatches: readonly string[] = []) {
    super(code, message);
    this.mismatches = mismatches;
  }
}

export interface ReplayOptions {
  /** Replay even when config/weights/version differ; the verdict is then labelled forced. */
  readonly force?: boolean;
  /** A started engine to use (tests share one); else one is started with the recorded BLAS pinning. */
  readonly engine?: EnginePort;
  /**
   * Where an engine for the recorded model and BLAS pinning comes from when `engine` is not
   * given (a corpus replay reuses one worker per core across sessions); the caller owns it.
   */
  readonly engines?: ReplayEngineSource;
  /** Where the model is (default: the manifest's model id, e.g. "tiny" or a hub repo; never a folder named by the manifest). */
  readonly model?: string;
  /** Steps of context shown on each side of a divergence (default 3). */
  readonly context?: number;
  /** Skip corrupt records, and replay a damaged session anyway (its damage is listed and the verdict labelled). */
  readonly salvage?: boolean;
  /**
   * Compare from this step on. Earlier steps still run (model state is the product of every
   * step before, and the engine has no way to load a state), with the recorded inputs, seed
   * and events, so the state at STEP is the recorded one; they are just not compared.
   */
  readonly from?: number;
  readonly log?: (msg: string) => void;
  /**
   * Write the replay as a new session folder here (it must not exist): the recorded input,
   * this engine's output and per-step records, this engine's manifest, and no packets (an
   * offline replay has no wire). Every whole step runs, past a divergence too, so that
   * `sessions diff` and the viewer can compare the two sessions whole.
   */
  readonly out?: string;
  /**
   * Run the step's stages on two workers at once (harness/replay/pipelined.ts): Mimi encode
   * ahead of the LM and decode behind it, same numerics. Only when this call starts its own
   * engine (no `engine`, no `engines`).
   */
  readonly pipeline?: boolean;
  /** Steps in flight at once in a pipelined replay (default PIPELINE_WINDOW). */
  readonly pipelineWindow?: number;
  /**
   * Not pipelined: send this many steps ahead to the one engine worker (which runs them in
   * order, so the results are the same) instead of stepping through the live step loop one
   * at a time (1, the default).
   */
  readonly window?: number;
  /** After every step (and once at the end): steps done, speed, verdict so far, the first divergence as soon as it is seen. */
  readonly onProgress?: (p: ReplayProgress) => void;
}

export interface ReplayReport {
  readonly session: string;
  readonly comparison: Comparison;
  /** The verdict as printed: comparison.verdict, plus " (forced: …)" when --force overrode a mismatch. */
  readonly verdict: string;
  readonly forced: boolean;
  /** What differs between the recording and this engine (empty unless forced). */
  readonly mismatches: readonly string[];
  /** What the platform fingerprints allow: bit-exact only when they match. */
  readonly expected: 'bit-exact' | 'token-exact';
  readonly fingerprintDiffs: readonly string[];
  /** Steps in the session that can be replayed (min of step lines and WAV frames). */
  readonly wholeSteps: number;
  readonly stepsReplayed: number;
  /** First compared step (--from). */
  readonly from: number;
  readonly recoveries: readonly SessionRecovery[];
  /** What verifySession found: damage (non-empty only with salvage), what was checked, what could not be. */
  readonly integrity: IntegrityReport;
  readonly wallMs: number;
  /** Replayed audio time / wall time. */
  readonly speed: number;
  /** The new session written (--out), or null. */
  readonly out: string | null;
}

/** Paths (a.b[2]) where two JSON values differ, at most `max`. */
function jsonDiffs(a: unknown, b: unknown, path: string, out: string[], max = 5): void {
  if (out.length >= max || canonicalJson(a) === canonicalJson(b)) return;
  const objs = a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b);
  if (!objs) {
    out.push(`${path || '(root)'}: recorded ${JSON.stringify(a)?.slice(0, 60)}, engine ${JSON.stringify(b)?.slice(0, 60)}`);
    return;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) jsonDiffs(ao[k], bo[k], Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k, out, max);
}

/** What makes the engine unfit to replay the session: config, weights, package version. */
export function modelMismatches(m: SessionManifest, info: EngineInfo, version: string): string[] {
  const out: string[] = [];
  const cfg: string[] = [];
  jsonDiffs(m.model.config, info.config, '', cfg);
  out.push(...cfg.map((d) => `config ${d}`));
  const names = new Set([...Object.keys(m.model.weights), ...Object.keys(info.weightsSha256)]);
  for (const n of names) {
    const a = m.model.weights[n];
    const b = info.weightsSha256[n];
    if (a !== b) out.push(`weights ${n}: recorded sha256 ${a ?? '(none)'}, engine ${b ?? '(none)'}`);
  }
  if (m.software.version !== version) out.push(`package version: recorded ${m.software.package} ${m.software.version}, running ${version}`);
  return out;
}

/** Fingerprint fields that change float results (design.md); any difference → token-exact at best. */
export function fingerprintDiffs(recorded: unknown, current: unknown): string[] {
  const r = (recorded ?? {}) as Record<string, unknown> & { blas?: Record<string, unknown> };
  const c = (current ?? {}) as Record<string, unknown> & { blas?: Record<string, unknown> };
  const out: string[] = [];
  for (const k of ['os', 'arch', 'cpuModel', 'mlxDevice']) if (r[k] !== c[k]) out.push(`${k}: recorded ${String(r[k])}, here ${String(c[k])}`);
  for (const k of ['library', 'threads', 'coreType']) if (r.blas?.[k] !== c.blas?.[k]) out.push(`blas.${k}: recorded ${String(r.blas?.[k])}, here ${String(c.blas?.[k])}`);
  return out;
}

/** Model ids a recording may name: the built-in one, or a hub repo `owner/name` (no path parts). */
const HUB_ID = /^[A-Za-z0-9][\w-]*(?:\.[\w-]+)*\/[A-Za-z0-9][\w-]*(?:\.[\w-]+)*$/;

/**
 * The model a replay runs: --model as the user gave it (a name, a repo or a folder), else the
 * manifest's model.id, which must be "tiny" or a hub repo id. A manifest is data from
 * anywhere: its id is never looked up as a path (`../../etc` would read /etc/model.json).
 */
export function replayModel(m: SessionManifest, model: string | undefined, log?: (msg: string) => void): ModelSpec {
  if (model !== undefined) return resolveModel(model, log);
  const id = m.model.id;
  if (id === 'tiny') return resolveModel('tiny', log);
  if (HUB_ID.test(id)) return resolveHubModel(id);
  throw new ReplayError('REPLAY_ERR_MODEL_ID', `the session's model.id ${JSON.stringify(id.slice(0, 200))} is not a model name ("tiny" or a hub repo such as kyutai/moshiko-mlx-q8); a recording never names a folder: pass --model DIR (or the name) to choose the model`);
}

/** The BLAS set-up the recording ran with, so the replay engine computes the same way. */
export function recordedBlas(m: SessionManifest): BlasPinning {
  const threads = Number(m.platform.blas.threads);
  return { threads: Number.isInteger(threads) && threads > 0 ? threads : DEFAULT_BLAS.threads, coreType: m.platform.blas.coreType };
}

/** Hands out a started engine for a model and a BLAS pinning (the caller of replaySession closes it). */
export interface ReplayEngineSource {
  engineFor(spec: ModelSpec, blas: BlasPinning): Promise<EnginePort>;
}

export interface ReplayEngine {
  readonly engine: EnginePort;
  /** The engine this call started (the caller closes it), or null when one was given. */
  readonly own: { close(): Promise<void> } | null;
  /** The two workers of a pipelined replay (own is them), or null. */
  readonly pipeline: PipelineEngines | null;
  readonly info: EngineInfo;
  readonly mismatches: readonly string[];
}

/**
 * The engine a replay runs on: the given one, or a new EngineHost with the recorded model and
 * BLAS pinning. Refuses (REPLAY_ERR_MISMATCH, closing what it started) when config, weights
 * or package version differ, unless forced.
 */
export async function replayEngine(path: string, m: SessionManifest, options: ReplayOptions): Promise<ReplayEngine> {
  let engine = options.engine;
  let own: EngineHost | null = null;
  let pipeline: PipelineEngines | null = null;
  if (!engine && !options.engines && options.pipeline) {
    pipeline = new PipelineEngines(replayModel(m, options.model, options.log), recordedBlas(m));
    try {
      await pipeline.start();
    } catch (e) {
      await pipeline.close();
      throw new ReplayError('REPLAY_ERR_ENGINE', `engine did not start: ${(e as Error).message}`);
    }
    engine = pipeline.lm;
  } else if (!engine && options.engines) {
    const source = options.engines;
    const spec = replayModel(m, options.model, options.log);
    engine = await source.engineFor(spec, recordedBlas(m)).catch((e: Error) => {
      throw e instanceof ReplayError ? e : new ReplayError('REPLAY_ERR_ENGINE', `engine did not start: ${e.message}`);
    });
  } else if (!engine) {
    const spec = replayModel(m, options.model, options.log);
    own = new EngineHost({ spec, blas: recordedBlas(m) });
    engine = own;
  }
  try {
    if (own) {
      const started = await own.start().catch((e: Error) => {
        throw new ReplayError('REPLAY_ERR_ENGINE', `engine did not start: ${e.message}`);
      });
      if (!started) throw new ReplayError('REPLAY_ERR_ENGINE', `engine did not start: ${own.reason ?? own.state}`);
    }
    const info = engine.info;
    if (!info) throw new ReplayError('REPLAY_ERR_ENGINE', `engine is ${engine.state}${engine.reason ? `: ${engine.reason}` : ''}`);
    const mismatches = modelMismatches(m, info, softwareInfo().version);
    if (mismatches.length > 0 && !options.force) {
      throw new ReplayError('REPLAY_ERR_MISMATCH', `refusing to replay ${path}: the engine differs from the recording (--force to try anyway):\n  ${mismatches.join('\n  ')}`, mismatches);
    }
    // The two workers must compute alike, or the pipeline's stages would mix two platforms.
    if (pipeline && modelMismatches(m, pipeline.mimi.info!, softwareInfo().version).join() !== mismatches.join()) throw new ReplayError('REPLAY_ERR_ENGINE', 'the pipeline\'s two engine workers loaded different models');
    if (pipeline && JSON.stringify(pipeline.mimi.info!.fingerprint) !== JSON.stringify(info.fingerprint)) throw new ReplayError('REPLAY_ERR_ENGINE', 'the pipeline\'s two engine workers report different platforms');
    return { engine, own: pipeline ?? own, pipeline, info, mismatches };
  } catch (err) {
    await (pipeline ?? own)?.close();
    throw err;
  }
}

/** What a progress view shows of a comparison so far (the dashboard's contract, dashboard/events.ts). */
export function replayProgress(session: string, c: Comparison, stepsDone: number, stepsTotal: number, wallMs: number, done: boolean): ReplayProgress {
  const at = c.divergedAt;
  const detail = at === null ? '' : c.diffs.map((d) => `${d.field}${d.index === null ? '' : `[${d.index}]`}: recorded ${JSON.stringify(d.a)}, replayed ${JSON.stringify(d.b)}`).join('\n');
  return {
    kind: 'replay',
    session,
    stepsDone,
    stepsTotal,
    speed: (stepsDone * 80) / Math.max(1e-9, wallMs),
    verdict: c.kind === 'diverged' ? 'diverged' : done ? c.kind : 'running',
    ...(at === null ? {} : { firstDivergence: { step: at, detail } }),
    done,
  };
}

/** Offline replay pushes frames and arms no timer; one armed would be a bug, not a wait. */
const NO_TIMERS: Timers = {
  setTimeout: () => {
    throw new Error('offline replay: the step loop armed a timer');
  },
  clearTimeout: () => undefined,
};

/**
 * The live step loop, driven one recorded frame at a time: the frame with its recorded
 * pre-step events, on a clock set to the step's recorded time (so the finished record's
 * time is the recorded one). Resolves with the finished step; an offline step has no reply
 * to write, so it finishes as the engine answers.
 */
export function offlineStepper(engine: EnginePort, session: string): OfflineStepper {
  const clock = new VirtualClock(0);
  let waiting: { resolve: (f: FinishedStep) => void; reject: (e: Error) => void } | null = null;
  const settle = (fn: (w: NonNullable<typeof waiting>) => void) => {
    const w = waiting;
    waiting = null;
    if (w) fn(w);
  };
  const loop = new StepLoop(session, engine, { pace: 'fast', lateToleranceMs: 0, missingFrameMs: 0, maxQueuedFrames: 1, clock, timers: NO_TIMERS }, {
    beforeStep: () => null,
    stepped: (_input, _out, record) => settle((w) => w.resolve(record)),
    failed: (err) => settle((w) => w.reject(err)),
    overflow: (message) => settle((w) => w.reject(new Error(message))),
    drained: () => undefined,
  });
  return {
    window: 1,
    step(pcm, events, atMs) {
      clock.set(Math.max(clock.now(), atMs));
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        if (loop.push(pcm, events) === 'dropped') settle((w) => w.reject(new Error('the step loop has stopped')));
      });
    },
    stop: () => loop.stop(),
  };
}

export async function replaySession(path: string, options: ReplayOptions = {}): Promise<ReplayReport> {
  const reader = await openSession(path, { salvage: options.salvage === true });
  const m = reader.manifest;
  const proxied = proxyMetaOf(m);
  if (proxied) throw new ReplayError('REPLAY_ERR_PROXIED', `${path} was recorded by \`solacelive proxy\` in front of ${proxied.upstream}: the model that answered is not in the session, so it cannot be replayed offline; its figures are in proxy.json, its audio in input.wav/output.wav; \`solacelive replay --paced --against URL\` sends its client side to a server again`);
  // Damage first: a damaged input or manifest would otherwise read as the engine diverging.
  const integrity = await verifySession(reader);
  if (options.salvage !== true) assertUndamaged(path, integrity);
  const report = await reader.scan();
  const whole = report.wholeSteps;
  const from = options.from ?? 0;
  if (!Number.isInteger(from) || from < 0 || (from >= whole && whole > 0)) throw new ReplayError('REPLAY_ERR_SESSION', `--from ${from}: the session has whole steps 0..${whole - 1}`);
  if (whole === 0) throw new ReplayError('REPLAY_ERR_SESSION', `${path}: no whole step to replay (steps.jsonl and input.wav share no complete frame)`);

  const { engine, own, pipeline, info, mismatches } = await replayEngine(path, m, options);
  try {
    const fpDiffs = fingerprintDiffs(m.platform, info.fingerprint);
    const id = `replay-${randomUUID()}`;
    const sessionOptions = { seed: m.seed, ...(m.audioSeed === undefined ? {} : { audioSeed: m.audioSeed }), sampling: m.sampling };
    let stepper: OfflineStepper;
    let closeSession: () => Promise<void>;
    if (pipeline) {
      const p = await pipelinedStepper(pipeline, id, sessionOptions, options.pipelineWindow);
      stepper = p;
      closeSession = () => p.close();
    } else {
      await engine.openSession(id, sessionOptions);
      stepper = (options.window ?? 1) > 1 ? windowedStepper(engine, id, options.window) : offlineStepper(engine, id);
      closeSession = () => engine.closeSession(id);
    }
    const writer = options.out === undefined ? null : await SessionWriter.create(options.out, manifestFromEngine(info, m, softwareInfo(), {
      replayOf: path, replay: 'offline', ...(mismatches.length ? { forced: mismatches } : {}),
    }));
    const cmp = new Comparator(options.context ?? 3);
    const t0 = performance.now();
    let replayed = 0;
    const progress = (done: boolean) => {
      if (options.onProgress) options.onProgress(replayProgress(path, cmp.result(), replayed, whole, performance.now() - t0, done));
    };
    // Steps sent and not yet compared, oldest first (more than one only when the stepper pipelines).
    const inFlight: { rec: StepRecord; done: Promise<FinishedStep> }[] = [];
    const finish = async () => {
      const { rec, done: pending } = inFlight.shift()!;
      const done = await pending.catch((e: Error) => {
        throw new ReplayError('REPLAY_ERR_ENGINE', `step ${rec.step} failed in the engine: ${e.message}`);
      });
      const line = stepRecordOf(done, 0);
      if (rec.step >= from && !cmp.done) cmp.add(viewOf(rec), viewOf(line));
      // The recorded events stay with the step: the replay re-applied them, and decisions
      // taken after it (dropped partials) or outside any step had no wire here to recur on.
      writer?.appendStep({ ...line, events: rec.events }, done.inputPcm, done.pcm);
      replayed++;
      progress(false);
    };
    try {
      const input = await reader.wav('input');
      const frames = input.frames(0);
      let fed = 0;
      for await (const rec of reader.steps()) {
        if (fed >= whole || (cmp.done && !writer)) break;
        if (rec.step !== fed) throw new ReplayError('REPLAY_ERR_SESSION', `${path}: step line ${fed} is step ${rec.step}; an offline replay needs steps from 0 in order`);
        const next = await frames.next();
        if (next.done) break;
        const done = stepper.step(next.value, preStepEvents(rec.events), rec.timeMs);
        done.catch(() => undefined); // awaited in order by finish(); a failure is reported there
        inFlight.push({ rec, done });
        fed++;
        if (inFlight.length >= stepper.window) await finish();
      }
      while (inFlight.length > 0) await finish();
      await frames.return(undefined);
    } finally {
      stepper.stop();
      await Promise.allSettled(inFlight.map((f) => f.done));
      await closeSession().catch(() => undefined);
      const closed = await writer?.close();
      if (closed && closed.status !== 'complete') options.log?.(`--out ${options.out}: ${closed.status}${closed.error ? ` (${closed.error.code}: ${closed.error.message})` : ''}`);
    }
    const wallMs = performance.now() - t0;
    const comparison = cmp.result();
    progress(true);
    const forced = mismatches.length > 0;
    const damaged = integrity.damage.length + integrity.moreDamage;
    const labels = [
      ...(forced ? [`forced: ${mismatches.length} mismatch${mismatches.length > 1 ? 'es' : ''} with the recording`] : []),
      ...(damaged > 0 ? [`salvaged: the session is damaged in ${damaged} place${damaged > 1 ? 's' : ''}`] : []),
    ];
    return {
      session: path,
      comparison,
      verdict: labels.length ? `${comparison.verdict} (${labels.join('; ')})` : comparison.verdict,
      forced,
      mismatches,
      expected: fpDiffs.length === 0 ? 'bit-exact' : 'token-exact',
      fingerprintDiffs: fpDiffs,
      wholeSteps: whole,
      stepsReplayed: replayed,
      from,
      recoveries: report.recoveries,
      integrity,
      wallMs,
      speed: (replayed * 80) / Math.max(1e-9, wallMs),
      out: options.out ?? null,
    };
  } finally {
    await own?.close();
  }
}
