// The forwarding loop's side of the measuring worker (measure-worker.ts): one worker thread per
// proxy; per connection a MeasuredConnection that posts a copy of each forwarded message and
// the connection's events, in order, and gets the figures and the recording's end back when
// the connection ends. Two things it guards: a worker that falls behind by more than a bound
// stops being fed that connection (said in an event and on the console) instead of holding
// ever more messages; a worker that dies is logged, its open connections end with reports
// saying so (and keep forwarding), and the next connection starts a new one; a worker alive but
// stuck (no progress at all with work waiting, hang-watch.ts) is taken for dead and terminated.
import { Worker } from 'node:worker_threads';
import type { Libopus } from '../../src/audio/opus/index.ts';
import { MoshiMeter, type ConnectionEvent, type ConnectionFigures, type MeterOptions, type Side } from '../measure/index.ts';
import { ProxyError } from './errors.ts';
import { HangWatch } from './hang-watch.ts';
import { PROGRESS_BYTES, PROGRESS_MESSAGES, PROGRESS_STOP, type FromWorker, type RecordPlan, type RecordingEnd, type ToWorker, type WorkerSetup } from './measure-protocol.ts';

// A .ts module run by Node's type stripping in the worker, as bin/solacelive.mjs runs the CLI.
const WORKER_URL = new URL('./measure-worker.ts', import.meta.url);
const MAX_KEPT_CONTROLS = 1000;

export interface MeasurerOptions {
  /** Messages the worker may be behind on one connection before its measuring stops. */
  readonly maxBacklog: number;
  /** Bytes the worker may be behind on one connection before its measuring stops. */
  readonly maxBacklogBytes: number;
  /** How long the worker may make no progress at all while it has work before it is taken for hung. */
  readonly hangMs: number;
  /** TEST-ONLY hooks; testCrashAt, testHangAt and testHangAtStart apply to the first worker only. */
  readonly test: WorkerSetup;
  /** For the figures of a connection whose worker died (its events and close only). */
  readonly lib: Libopus;
  /** A line for the console; id: the connection it is about, or null. */
  readonly log: (id: string | null, line: string) => void;
}

export interface MeasuredEnd {
  readonly figures: ConnectionFigures;
  readonly recording: RecordingEnd;
}

export class Measurer {
  private readonly o: MeasurerOptions;
  private worker: Worker | null = null;
  private starting: Promise<Worker> | null = null;
  private readonly live = new Map<string, MeasuredConnection>();
  private spawned = 0;
  private closing = false;
  /** For the hang watch: messages heard from the worker, and messages measured on connections since finished. */
  private heard = 0;
  private retired = 0;
  private watch: HangWatch;
  private readonly watchTimer: NodeJS.Timeout;

  private constructor(o: MeasurerOptions) {
    this.o = o;
    this.watch = new HangWatch(o.hangMs);
    this.watchTimer = setInterval(() => this.checkHung(), Math.max(10, o.hangMs / 4)).unref();
  }

  static async start(o: MeasurerOptions): Promise<Measurer> {
    const m = new Measurer(o);
    await m.ensure();
    return m;
  }

  /** Registers a connection (t0: its start as performance.timeOrigin + performance.now()) and, with `record`, creates its recording. */
  async open(id: string, t0: number, meter: Omit<MeterOptions, 'onFrame'>, record: RecordPlan | null): Promise<MeasuredConnection> {
    const progress = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
    let worker: Worker | null = null;
    let why = '';
    try {
      worker = await this.ensure();
    } catch (err) {
      why = (err as Error).message;
    }
    const c = new MeasuredConnection(id, t0, worker, progress, record !== null, this.o);
    if (worker === null) {
      c.workerFailed(why);
      return c;
    }
    this.live.set(id, c);
    c.post({ k: 'open', id, t0, meter, record, progress });
    await c.opened;
    return c;
  }

  /** Ends the worker; one stuck in a system call may not go, and after hangMs the close goes on without it (said on the log). */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.watchTimer);
    const w = this.worker;
    this.worker = null;
    if (w === null) return;
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([w.terminate().then(() => true, () => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), this.o.hangMs)))]);
    clearTimeout(timer);
    if (!gone) {
      this.o.log(null, `the measuring worker did not end within ${this.o.hangMs} ms of terminate(); left behind`);
      w.unref();
    }
  }

  private ensure(): Promise<Worker> {
    if (this.worker) return Promise.resolve(this.worker);
    this.starting ??= this.spawn().finally(() => (this.starting = null));
    return this.starting;
  }

  private spawn(): Promise<Worker> {
    const setup: WorkerSetup = this.spawned++ === 0 ? this.o.test : { ...this.o.test, testCrashAt: 0, testHangAt: 0, testHangAtStart: false };
    const w = new Worker(WORKER_URL, { workerData: setup });
    return new Promise<Worker>((resolve, reject) => {
      let settled = false;
      const notStarted = (why: string) => {
        settled = true;
        clearTimeout(startup);
        reject(new ProxyError('PROXY_ERR_MEASURE_WORKER', `the measuring worker did not start: ${why}`));
      };
      // A worker stuck before it is ready would hold every connection waiting for it: the same bound as a hung one.
      const startup = setTimeout(() => {
        notStarted(`it did not become ready within ${this.o.hangMs} ms`);
        w.removeAllListeners('message');
        void w.terminate().catch(() => undefined);
      }, this.o.hangMs);
      w.once('error', (err) => notStarted(err.stack ?? String(err)));
      w.once('exit', (code) => notStarted(`it exited with code ${code}`));
      w.on('message', (m: FromWorker) => {
        if (m.k === 'ready') {
          if (settled) return;
          clearTimeout(startup);
          w.removeAllListeners('error').removeAllListeners('exit');
          w.on('error', (err) => this.failed(w, err.stack ?? String(err)));
          w.on('exit', (code) => this.failed(w, `it exited with code ${code}`));
          this.worker = w;
          this.watch = new HangWatch(this.o.hangMs);
          resolve(w);
          return;
        }
        this.onMessage(m);
      });
    });
  }

  private onMessage(m: FromWorker): void {
    if (m.k === 'ready') return;
    this.heard++;
    const c = this.live.get(m.id);
    if (m.k === 'log') this.o.log(m.id, m.line);
    else if (m.k === 'opened') c?.isOpen(m.path);
    else if (m.k === 'finished') {
      this.retired += c?.measured() ?? 0;
      this.live.delete(m.id);
      c?.finished({ figures: m.figures, recording: m.recording });
    }
  }

  private failed(w: Worker, why: string, hung = false): void {
    if (this.worker !== w) return;
    this.worker = null;
    if (this.closing) return;
    const open = [...this.live.values()];
    this.live.clear();
    this.o.log(null, `measuring worker ${hung ? 'hung' : 'failed'}: ${why}\n  ${open.length} open connection(s) go on forwarding unmeasured; the next connection starts a new worker`);
    for (const c of open) c.workerFailed(why.split('\n')[0]!, hung);
  }

  /** The watchdog: a worker holding work whose progress has not moved for longer than hangMs is ended as a dead one. */
  private checkHung(): void {
    const w = this.worker;
    if (w === null) return;
    let waiting = false;
    let progress = this.heard + this.retired;
    for (const c of this.live.values()) {
      waiting ||= c.waiting();
      progress += c.measured();
    }
    const stuck = this.watch.look(waiting, progress, performance.now());
    if (stuck === null) return;
    w.removeAllListeners('message');
    this.failed(w, `it made no progress for ${Math.round(stuck)} ms with work waiting (bound ${this.o.hangMs} ms); terminating it`, true);
    // Not awaited: a thread stuck in a system call may take long to go, and nothing waits on it.
    w.terminate().then(
      () => this.o.log(null, 'hung measuring worker terminated'),
      (err: unknown) => this.o.log(null, `hung measuring worker could not be terminated: ${String(err)}`),
    );
  }
}

/** One connection as the forwarding loop feeds it to the worker. */
export class MeasuredConnection {
  readonly id: string;
  /** The session folder once created, else null. */
  path: string | null = null;
  readonly opened: Promise<void>;
  private readonly t0: number;
  private worker: Worker | null;
  private readonly progress: Int32Array;
  private readonly recordPlanned: boolean;
  private readonly o: MeasurerOptions;
  private posted = 0;
  private postedBytes = 0;
  private stopped = false;
  private failure: string | null = null;
  private hung = false;
  private openAnswered = false;
  private endAnswered = false;
  /** Events and close, kept to report them if the worker dies. */
  private readonly controls: ToWorker[] = [];
  private resolveOpened!: () => void;
  private resolveEnd: ((e: MeasuredEnd) => void) | null = null;

  constructor(id: string, t0: number, worker: Worker | null, progress: Int32Array, recordPlanned: boolean, o: MeasurerOptions) {
    this.id = id;
    this.t0 = t0;
    this.worker = worker;
    this.progress = progress;
    this.recordPlanned = recordPlanned;
    this.o = o;
    this.opened = new Promise((r) => (this.resolveOpened = r));
  }

  /** One forwarded message (call after sending it on): a copy goes to the worker, as ws may still be sending `bytes`. */
  message(side: Side, bytes: Uint8Array, isBinary: boolean, t: number): void {
    if (this.stopped || this.worker === null) return;
    const behind = this.posted - Atomics.load(this.progress, PROGRESS_MESSAGES);
    const behindBytes = (this.postedBytes - Atomics.load(this.progress, PROGRESS_BYTES)) >>> 0;
    if (behind >= this.o.maxBacklog || behindBytes + bytes.length > this.o.maxBacklogBytes) {
      this.stop(behind, behindBytes, t);
      return;
    }
    const copy = new Uint8Array(bytes);
    // Counted before posting: the worker may measure it before postMessage returns.
    this.posted++;
    this.postedBytes = (this.postedBytes + copy.length) | 0;
    this.worker.postMessage({ k: 'msg', id: this.id, side, bytes: copy, isBinary, t } satisfies ToWorker, [copy.buffer]);
  }

  upstreamOpen(t: number): void {
    this.control({ k: 'upstream-open', id: this.id, t });
  }

  event(e: ConnectionEvent): void {
    this.control({ k: 'event', id: this.id, e });
  }

  end(by: Side | 'proxy', code: number, reason: string, t: number): void {
    this.control({ k: 'end', id: this.id, by, code, reason, t });
  }

  /** The connection is over: its figures and recording's end once the worker has measured everything it was given. */
  finish(upstream: string): Promise<MeasuredEnd> {
    if (this.failure !== null) return Promise.resolve(this.fallback());
    const done = new Promise<MeasuredEnd>((r) => (this.resolveEnd = r));
    this.post({ k: 'finish', id: this.id, upstream });
    return done;
  }

  /** @internal */
  post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  /** @internal */
  isOpen(path: string | null): void {
    this.path = path;
    this.openAnswered = true;
    this.resolveOpened();
  }

  /** @internal */
  finished(e: MeasuredEnd): void {
    this.endAnswered = true;
    this.resolveEnd?.(e);
  }

  /** @internal Messages the worker has measured. */
  measured(): number {
    return Atomics.load(this.progress, PROGRESS_MESSAGES);
  }

  /** @internal Whether the worker holds work of this connection: its opening, messages it still measures, or its end. */
  waiting(): boolean {
    return !this.openAnswered || (!this.stopped && this.posted > this.measured()) || (this.resolveEnd !== null && !this.endAnswered);
  }

  /** @internal The worker died, hung (or could not start): from here the connection is only forwarded. */
  workerFailed(why: string, hung = false): void {
    this.worker = null;
    this.hung = hung;
    this.failure = `${why} (at ${Math.round(this.now())} ms)`;
    this.resolveOpened();
    this.resolveEnd?.(this.fallback());
  }

  private now(): number {
    return performance.timeOrigin + performance.now() - this.t0;
  }

  private control(m: ToWorker): void {
    if (this.controls.length < MAX_KEPT_CONTROLS) this.controls.push(m);
    this.post(m);
  }

  private stop(behind: number, behindBytes: number, t: number): void {
    this.stopped = true;
    Atomics.store(this.progress, PROGRESS_STOP, 1);
    const bound = behind >= this.o.maxBacklog ? `more than ${this.o.maxBacklog} messages behind` : `more than ${this.o.maxBacklogBytes} bytes behind`;
    const message = `measuring stopped: the measuring worker fell ${bound} (${behind} messages, ${behindBytes} bytes); the connection goes on forwarding, unmeasured and unrecorded from ${Math.round(t)} ms`;
    this.event({ kind: 'measure-backlog', atMs: Math.round(t * 100) / 100, side: 'proxy', message, code: behind });
    this.o.log(this.id, message);
  }

  /** Figures of what the forwarding loop itself knows: the events and the close, and that measuring failed. */
  private fallback(): MeasuredEnd {
    const meter = new MoshiMeter(this.o.lib);
    for (const m of this.controls) {
      if (m.k === 'upstream-open') meter.upstreamOpen(m.t);
      else if (m.k === 'event') meter.event(m.e);
      else if (m.k === 'end') meter.end(m.by, m.code, m.reason, m.t);
    }
    const message = `the measuring worker ${this.hung ? 'hung' : 'failed'}: ${this.failure}; this connection was forwarded but its figures hold only its events and close`;
    meter.event({ kind: this.hung ? 'measure-worker-hung' : 'measure-worker-failed', atMs: Math.round(this.now() * 100) / 100, side: 'proxy', message });
    return {
      figures: meter.figures(),
      recording: this.recordPlanned ? { status: 'failed', error: { code: this.hung ? 'PROXY_ERR_MEASURE_WORKER_HUNG' : 'PROXY_ERR_MEASURE_WORKER', message } } : null,
    };
  }
}
