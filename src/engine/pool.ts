// N engine worker processes behind the server's one EnginePort, so the model work of
// concurrent sessions spreads over the cores. A session lives on one worker for its whole
// life (its model state is there, and its numerics stay those of one pinned process, so
// bit-exact replay holds); a worker that dies takes only its own sessions with it and
// restarts as a lone EngineHost does, while the others keep serving.
import { EventEmitter } from 'node:events';
import { EngineError } from './errors.ts';
import { EngineHost, type EngineHostEvents, type EngineHostOptions, type WorkerFigures } from './host.ts';
import type { EngineInfo, EngineState, SessionOptions, StepInput, StepOutput } from './types.ts';

export interface EnginePoolOptions extends EngineHostOptions {
  /** Worker processes, each loading the model with the same options. */
  readonly engines: number;
}

/** A worker's figures plus its place in the pool. */
export interface PoolWorkerFigures extends WorkerFigures {
  readonly index: number;
}

/** Most hopeful first: a pool is as available as its most available worker. */
const STATE_ORDER: readonly EngineState[] = ['ok', 'starting', 'restarting', 'degraded', 'stopped'];

/** Two workers compute alike only if they load the same weights on the same platform. */
function sameEngine(a: EngineInfo, b: EngineInfo): boolean {
  return a.model === b.model && JSON.stringify(a.weightsSha256) === JSON.stringify(b.weightsSha256) && JSON.stringify(a.fingerprint) === JSON.stringify(b.fingerprint);
}

export class EnginePool extends EventEmitter<EngineHostEvents> {
  readonly hosts: readonly EngineHost[];
  /** Which worker holds each open session. */
  private readonly owner = new Map<string, EngineHost>();
  /** Opens in flight per worker: they count as load, so concurrent opens spread. */
  private readonly opening = new Map<EngineHost, number>();
  /** Workers taken out of service because they disagree with the others (why). */
  private readonly refused = new Map<EngineHost, string>();
  private reference: EngineInfo | null = null;
  /** Until start() has compared the workers, the pool is starting, whatever its first worker says. */
  private checked = false;
  /** Shutting down: workers stop one by one, which is not news until all have. */
  private closing = false;
  private last: { state: EngineState; reason: string | null };

  constructor(opts: EnginePoolOptions) {
    super();
    if (!(Number.isInteger(opts.engines) && opts.engines >= 1)) throw new RangeError(`engines must be a positive integer, got ${opts.engines}`);
    this.hosts = Array.from({ length: opts.engines }, () => new EngineHost(opts));
    this.last = { state: 'stopped', reason: null };
    this.hosts.forEach((h, i) => {
      h.on('state', (s) => this.onWorkerState(h, s));
      h.on('sessions-lost', (ids, why) => {
        for (const id of ids) this.owner.delete(id);
        this.emit('sessions-lost', ids, `worker ${i}: ${why}`);
      });
    });
  }

  private stateOf(h: EngineHost): EngineState {
    return this.refused.has(h) ? 'degraded' : h.state;
  }
  private reasonOf(h: EngineHost): string | null {
    return this.refused.get(h) ?? h.reason;
  }

  /** 'ok' while any worker can take a session; otherwise the most hopeful state of the workers. */
  get state(): EngineState {
    if (!this.checked && this.hosts.some((h) => h.state !== 'stopped')) return 'starting';
    const states = this.hosts.map((h) => this.stateOf(h));
    return STATE_ORDER.find((s) => states.includes(s)) ?? 'stopped';
  }

  /** Null when every worker is ok; else which are not and why (also while the others serve). */
  get reason(): string | null {
    if (this.state === 'starting' || this.closing) return null;
    const down = this.hosts.flatMap((h, i) => (this.stateOf(h) === 'ok' ? [] : [`worker ${i} ${this.stateOf(h)}${this.reasonOf(h) ? `: ${this.reasonOf(h)}` : ''}`]));
    if (down.length === 0) return null;
    const serving = this.hosts.length - down.length;
    return `${down.length} of ${this.hosts.length} engine workers not serving${serving ? ` (sessions go to the other ${serving})` : ''}; ${down.join('; ')}`;
  }

  /** The model every worker loaded (they are checked to agree, so it is each session's own worker's too). */
  get info(): EngineInfo | null {
    return this.reference;
  }
  get restartCount(): number {
    return this.hosts.reduce((n, h) => n + h.restartCount, 0);
  }
  /** Worker 0's process (the first session goes there); every worker's is in `workers`. */
  get pid(): number | null {
    return this.hosts[0]!.pid;
  }
  get workers(): readonly PoolWorkerFigures[] {
    return this.hosts.map((h, index) => ({ ...h.figures(), state: this.stateOf(h), reason: this.reasonOf(h), index }));
  }
  /** The worker a session runs on, or undefined when it is not open. */
  workerOf(session: string): number | undefined {
    const h = this.owner.get(session);
    return h ? this.hosts.indexOf(h) : undefined;
  }

  private onWorkerState(h: EngineHost, s: EngineState): void {
    if (this.closing) return;
    // A worker that came back different (other weights or platform) must not serve: its
    // sessions would not replay like the ones the server announced.
    if (s === 'ok' && this.reference && h.info && !sameEngine(h.info, this.reference)) this.refuse(h);
    this.publish();
  }

  private refuse(h: EngineHost): void {
    this.refused.set(h, `it loaded another model or platform than the pool serves (weights or fingerprint differ); stopped`);
    void h.close();
  }

  /** Tells listeners when the pool's own state or reason changed. */
  private publish(): void {
    const now = { state: this.state, reason: this.reason };
    if (now.state === this.last.state && now.reason === this.last.reason) return;
    this.last = now;
    this.emit('state', now.state, now.reason);
  }

  /** Starts every worker; resolves with the model info, or null when none can serve. */
  async start(): Promise<EngineInfo | null> {
    const started = await Promise.allSettled(this.hosts.map((h) => h.start()));
    const infos = this.hosts.flatMap((h) => (h.state === 'ok' && h.info ? [h.info] : []));
    const first = infos[0];
    if (first && infos.some((x) => !sameEngine(x, first))) {
      // Refuse rather than serve sessions whose numerics depend on which worker they land on.
      const odd = this.hosts.flatMap((h, i) => (h.state === 'ok' && h.info && !sameEngine(h.info, first) ? [i] : []));
      const ref = this.hosts.findIndex((h) => h.info === first);
      for (const h of this.hosts) this.refused.set(h, `engine workers disagree on weights or platform fingerprint (worker ${odd.join(', ')} against worker ${ref}); the pool refuses to serve`);
      await Promise.all(this.hosts.map((h) => h.close()));
      this.checked = true;
      this.publish();
      return null;
    }
    this.reference = first ?? null;
    this.checked = true;
    this.publish();
    if (!first) {
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
    return this.reference;
  }

  /** The least loaded serving worker: fewest sessions (open or opening), ties to the lowest index. */
  private pick(): EngineHost {
    let best: EngineHost | null = null;
    let bestLoad = Infinity;
    for (const h of this.hosts) {
      if (this.stateOf(h) !== 'ok') continue;
      const load = h.sessionCount + (this.opening.get(h) ?? 0);
      if (load < bestLoad) {
        best = h;
        bestLoad = load;
      }
    }
    if (!best) throw new EngineError('ENGINE_ERR_NOT_READY', `engine is ${this.state}${this.reason ? `: ${this.reason}` : ''}`);
    return best;
  }

  async openSession(session: string, options: SessionOptions): Promise<void> {
    if (this.owner.has(session)) throw new EngineError('ENGINE_ERR_SESSION', `session ${session} is already open`);
    const h = this.pick();
    this.opening.set(h, (this.opening.get(h) ?? 0) + 1);
    try {
      await h.openSession(session, options);
      this.owner.set(session, h);
    } finally {
      this.opening.set(h, this.opening.get(h)! - 1);
    }
  }

  step(input: StepInput): Promise<StepOutput> {
    const h = this.owner.get(input.session);
    if (!h) return Promise.reject(new EngineError('ENGINE_ERR_SESSION', `session ${input.session} is not open on any engine worker`));
    return h.step(input);
  }

  async closeSession(session: string): Promise<void> {
    const h = this.owner.get(session);
    if (!h) return;
    this.owner.delete(session);
    await h.closeSession(session);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.hosts.map((h) => h.close()));
    this.publish();
  }
}
