// The server-side handle on the engine worker: forks it (so a native abort inside MLX
// kills only the worker), matches replies to requests, and restarts a dead worker while
// the server keeps running. Sessions open in a dead worker are reported lost: their
// model state is gone, and the server tells their clients.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { blasEnv, DEFAULT_BLAS, type BlasPinning } from './blas.ts';
import { EngineError } from './errors.ts';
import { RollingWindow } from '../telemetry/window.ts';


/** The shortest worker-clock interval a CPU rate is taken over. */
const MIN_CPU_WINDOW_MS = 100;
export { DEFAULT_BLAS, type BlasPinning };
import type { Hello, Reply, Request, WorkerStats } from './ipc.ts';
import type { ModelSpec } from './model-spec.ts';
import type { StageInput, StageOutput } from './stages.ts';
import type { EngineInfo, EngineState, SessionOptions, StepInput, StepOutput } from './types.ts';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));


export interface EngineHostOptions {
  readonly spec: ModelSpec | null;
  /** Why there is no spec (shown on /health and to clients), when spec is null. */
  readonly noModelReason?: string;
  readonly blas?: BlasPinning;
  /** Restart back-off: first delay, doubled up to maxRestartDelayMs. */
  readonly restartDelayMs?: number;
  readonly maxRestartDelayMs?: number;
  /** How often the host asks the worker for its CPU time (for /health's cpu figure). */
  readonly cpuSampleMs?: number;
  /**
   * TEST-ONLY: a module URL the worker imports before its own code (node --import), e.g. one
   * that slows every step down (test/server/live/slow-steps.ts) to make overload deterministic.
   * serve never sets it; production code reads no switch for it.
   */
  readonly testPreload?: string;
  /**
   * TEST-ONLY: CPU time (ms) the worker burns after each step, so tests get a known per-step
   * CPU cost on any machine (a sleep costs time but no CPU). Never set from the CLI.
   */
  readonly testStepBurnMs?: number;
}

/** What /health and the dashboard show of one engine worker process. */
export interface WorkerFigures {
  readonly state: EngineState;
  readonly reason: string | null;
  readonly pid: number | null;
  /** Sessions whose model state lives in this worker. */
  readonly sessions: number;
  readonly restarts: number;
  /** Steps this worker computed, across its restarts. */
  readonly steps: number;
  /** Wall time those steps took inside the worker (ms, summed): wall per step = Δ stepWallMs / Δ steps. */
  readonly stepWallMs: number;
  /** p99 of this worker's own step.total over its last steps (ms); null before its first. */
  readonly stepP99Ms: number | null;
  /** Worker process CPU time per wall-clock second over the last sample (1 = one core busy); null until sampled. */
  readonly cpu: number | null;
  /** CPU time the current worker process has used (ms); null until sampled. */
  readonly cpuMs: number | null;
  /** Steps the current worker process had computed when cpuMs was sampled (same reply): CPU per step = Δ cpuMs / Δ cpuSteps. */
  readonly cpuSteps: number | null;
}

/** Steps the per-worker step.total p99 covers. */
const WORKER_STEP_WINDOW = 500;

export interface EngineHostEvents {
  state: [EngineState, string | null];
  'sessions-lost': [readonly string[], string];
}

interface Pending {
  readonly resolve: (r: Reply) => void;
  readonly reject: (e: Error) => void;
  readonly sentAt: number;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;


export class EngineHost extends EventEmitter<EngineHostEvents> {
  private child: ChildProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly sessions = new Set<string>();
  private _state: EngineState = 'stopped';
  private _reason: string | null = null;
  private _info: EngineInfo | null = null;
  private stopping = false;
  private restartDelay: number;
  private restarts = 0;
  private steps = 0;
  private stepWallMs = 0;
  private readonly stepTotals = new RollingWindow(WORKER_STEP_WINDOW);
  private cpuTimer: NodeJS.Timeout | null = null;
  private cpuSample: { readonly child: ChildProcess; readonly at: number; readonly us: number; readonly steps: number } | null = null;
  private cpuRate: number | null = null;
  /** Round-trip minus worker compute, per step: the cost of the process boundary. */
  readonly ipcOverheadMs: number[] = [];
  private readonly opts: Required<Omit<EngineHostOptions, 'noModelReason' | 'testPreload' | 'testStepBurnMs'>> & { noModelReason: string; testPreload: string | null; testStepBurnMs: number };

  constructor(opts: EngineHostOptions) {
    super();
    this.opts = {
      spec: opts.spec,
      noModelReason: opts.noModelReason ?? 'no model configured',
      blas: opts.blas ?? DEFAULT_BLAS,
      restartDelayMs: opts.restartDelayMs ?? 200,
      maxRestartDelayMs: opts.maxRestartDelayMs ?? 5000,
      cpuSampleMs: opts.cpuSampleMs ?? 1000,
      testPreload: opts.testPreload ?? null,
      testStepBurnMs: opts.testStepBurnMs ?? 0,
    };
    this.restartDelay = this.opts.restartDelayMs;
  }

  get state(): EngineState {
    return this._state;
  }
  /** Why the engine is degraded or restarting, if it is. */
  get reason(): string | null {
    return this._reason;
  }
  get info(): EngineInfo | null {
    return this._info;
  }
  get restartCount(): number {
    return this.restarts;
  }
  get pid(): number | null {
    return this.child?.pid ?? null;
  }
  /** Sessions open in the worker now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** This worker, as /health lists it (an EngineHost is a pool of one). */
  get workers(): readonly WorkerFigures[] {
    return [this.figures()];
  }

  figures(): WorkerFigures {
    const live = this.cpuSample !== null && this.cpuSample.child === this.child;
    return {
      state: this._state,
      reason: this._reason,
      pid: this.pid,
      sessions: this.sessions.size,
      restarts: this.restarts,
      steps: this.steps,
      stepWallMs: this.stepWallMs,
      stepP99Ms: this.stepTotals.total > 0 ? this.stepTotals.stats().p99 : null,
      cpu: live ? this.cpuRate : null,
      cpuMs: live ? this.cpuSample!.us / 1000 : null,
      cpuSteps: live ? this.cpuSample!.steps : null,
    };
  }

  /** Asks the worker for its CPU time now and then: a stats request costs the worker microseconds between steps. */
  private sampleCpu(): void {
    const child = this.child;
    if (!child) return;
    this.stats().then((s) => {
      if (child !== this.child) return;
      // The worker's clock: replies that queued behind steps and arrive together would make a
      // host-side interval near zero and the rate absurd (10164 % of a core was seen).
      const at = s.atMs;
      const prev = this.cpuSample;
      // Requests that queued behind a step are answered back to back, microseconds apart on the
      // worker's clock too, and CPU time read that close is mostly the kernel's accounting step
      // (other threads' time lands in ticks): 6 cores on a 2-core VM. Rate over a real window only.
      if (prev && prev.child === child && at - prev.at < MIN_CPU_WINDOW_MS) return;
      this.cpuRate = prev && prev.child === child ? (s.cpuUs - prev.us) / 1000 / (at - prev.at) : null;
      this.cpuSample = { child, at, us: s.cpuUs, steps: s.steps };
    }, () => undefined);
  }

  private stopCpuSampling(): void {
    if (this.cpuTimer) clearInterval(this.cpuTimer);
    this.cpuTimer = null;
  }

  private setState(s: EngineState, reason: string | null): void {
    this._state = s;
    this._reason = reason;
    this.emit('state', s, reason);
  }

  /** Starts the worker and loads the model. Resolves with the model info, or null when degraded. */
  async start(): Promise<EngineInfo | null> {
    this.stopping = false;
    if (!this.opts.spec) {
      this.setState('degraded', this.opts.noModelReason);
      return null;
    }
    this.setState('starting', null);
    return this.spawnAndLoad();
  }

  private async spawnAndLoad(): Promise<EngineInfo | null> {
    const spec = this.opts.spec!;
    const env = blasEnv(process.env, this.opts.blas);
    const child = fork(WORKER, [], {
      serialization: 'advanced',
      // --expose-gc: the worker collects MLX wrappers explicitly to keep native memory flat.
      execArgv: ['--expose-gc', ...(this.opts.testPreload ? ['--import', this.opts.testPreload] : [])],
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    child.on('message', (m: Reply | Hello) => this.onMessage(m));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    await new Promise<void>((resolve, reject) => {
      const onHello = (m: Hello | Reply) => {
        if ((m as Hello).kind === 'hello') {
          child.off('message', onHello);
          resolve();
        }
      };
      child.on('message', onHello);
      child.once('exit', (code, signal) => reject(new EngineError('ENGINE_ERR_CRASHED', `engine worker exited during start (code ${code}, signal ${signal})`)));
    }).catch((err: EngineError) => {
      this.setState('degraded', err.message);
      throw err;
    });
    try {
      const r = await this.request({ kind: 'load', spec, ...(this.opts.testStepBurnMs > 0 ? { testStepBurnMs: this.opts.testStepBurnMs } : {}) });
      if (r.ok && r.kind === 'load') {
        this._info = r.info;
        this.restartDelay = this.opts.restartDelayMs;
        this.stopCpuSampling();
        this.sampleCpu();
        this.cpuTimer = setInterval(() => this.sampleCpu(), this.opts.cpuSampleMs).unref();
        this.setState('ok', null);
        return r.info;
      }
    } catch (err) {
      const e = err as EngineError;
      this.setState('degraded', `${e.code ?? 'ENGINE_ERR_LOAD'}: ${e.message}`);
      // A worker that cannot load stays useless; stop it rather than keep a process idle.
      this.stopping = true;
      child.kill();
      this.stopping = false;
      return null;
    }
    return null;
  }

  private onMessage(m: Reply | Hello): void {
    if ((m as Hello).kind === 'hello') return;
    const r = m as Reply;
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (r.ok) p.resolve(r);
    else p.reject(new EngineError(r.error.code as EngineError['code'], r.error.message));
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.child = null;
    this.stopCpuSampling();
    const why = `engine worker exited (${signal ? `signal ${signal}` : `code ${code}`})`;
    for (const [, p] of this.pending) p.reject(new EngineError('ENGINE_ERR_CRASHED', why));
    this.pending.clear();
    const lost = [...this.sessions];
    this.sessions.clear();
    if (lost.length) this.emit('sessions-lost', lost, why);
    if (this.stopping || this._state === 'degraded') {
      if (this.stopping) this.setState('stopped', null);
      return;
    }
    this.restarts++;
    this.setState('restarting', why);
    const delay = this.restartDelay;
    this.restartDelay = Math.min(this.restartDelay * 2, this.opts.maxRestartDelayMs);
    setTimeout(() => {
      if (this.stopping) return;
      this.spawnAndLoad().catch(() => undefined);
    }, delay).unref();
  }

  private request(body: DistributiveOmit<Request, 'id'>): Promise<Reply> {
    const child = this.child;
    if (!child || !child.connected) return Promise.reject(new EngineError('ENGINE_ERR_NOT_READY', `engine is ${this._state}${this._reason ? `: ${this._reason}` : ''}`));
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, sentAt: performance.now() });
      child.send({ ...body, id } as Request, (err) => {
        if (err && this.pending.delete(id)) reject(new EngineError('ENGINE_ERR_CRASHED', `could not reach the engine worker: ${err.message}`));
      });
    });
  }

  private ready(): void {
    if (this._state !== 'ok') throw new EngineError('ENGINE_ERR_NOT_READY', `engine is ${this._state}${this._reason ? `: ${this._reason}` : ''}`);
  }

  /** `split`: separate encoder and decoder state, for stage requests (stages.ts). */
  async openSession(session: string, options: SessionOptions, split = false): Promise<void> {
    this.ready();
    await this.request({ kind: 'open', session, options, ...(split ? { split } : {}) });
    this.sessions.add(session);
  }

  /** One stage of a step (the offline replay's pipeline). Sent at once: several may be in flight, run in order. */
  async stage(input: StageInput): Promise<StageOutput> {
    this.ready();
    const r = await this.request({ kind: 'stage', input });
    if (!(r.ok && r.kind === 'stage')) throw new EngineError('ENGINE_ERR_STEP', 'unexpected reply to stage');
    return r.output;
  }

  async step(input: StepInput): Promise<StepOutput> {
    this.ready();
    const t0 = performance.now();
    const r = await this.request({ kind: 'step', input });
    if (!(r.ok && r.kind === 'step')) throw new EngineError('ENGINE_ERR_STEP', 'unexpected reply to step');
    this.ipcOverheadMs.push(performance.now() - t0 - r.workerMs);
    this.steps++;
    this.stepWallMs += r.workerMs;
    const total = r.output.spans['step.total'];
    if (total !== undefined) this.stepTotals.push(total);
    if (this.ipcOverheadMs.length > 10_000) this.ipcOverheadMs.splice(0, 5_000);
    return r.output;
  }

  async closeSession(session: string): Promise<void> {
    if (!this.sessions.delete(session) || !this.child) return;
    await this.request({ kind: 'close', session }).catch(() => undefined);
  }

  async stats(): Promise<WorkerStats> {
    const r = await this.request({ kind: 'stats' });
    if (!(r.ok && r.kind === 'stats')) throw new EngineError('ENGINE_ERR_STEP', 'unexpected reply to stats');
    return r.stats;
  }

  /** Kills the worker (for tests of crash recovery and for shutdown). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child?.kill(signal);
  }

  async close(): Promise<void> {
    this.stopping = true;
    this.stopCpuSampling();
    const child = this.child;
    if (!child) {
      this.setState('stopped', null);
      return;
    }
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.disconnect();
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    });
  }
}
