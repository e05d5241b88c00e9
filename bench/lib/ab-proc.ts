// The parent's end of one `bench ab` child (bench/lib/ab-child.ts): one suite of one side in
// its own process, one request at a time, each answered by one reply (logs aside).
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { benchBlas, blasEnv } from './blas.ts';
import { BenchError } from './errors.ts';
import type { AbChildReply, AbChildRequest, AbRoundValues } from './ab-child.ts';
import type { Side } from './ab-side.ts';

/** A side's suite process. */
export class AbChild {
  private readonly proc: ChildProcess;
  private pending: { resolve: (r: AbChildReply) => void; reject: (e: Error) => void } | null = null;
  private exited: string | null = null;
  readonly side: Side;
  readonly suite: string;

  constructor(side: Side, suite: string, log: (m: string) => void) {
    this.side = side;
    this.suite = suite;
    const env = blasEnv(process.env, benchBlas(1));
    this.proc = fork(join(side.root, 'bench', 'lib', 'ab-child.ts'), [], { cwd: side.root, execArgv: ['--expose-gc'], env, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.proc.on('message', (m: AbChildReply) => {
      if (m.kind === 'log') log(`${side.label} ${suite}: ${m.msg}`);
      else this.settle((p) => p.resolve(m));
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = signal ? `signal ${signal}` : `code ${code}`;
      this.settle((p) => p.reject(new BenchError('BENCH_ERR_SUITE_FAILED', `${this.what()}: its process exited (${this.exited})`)));
    });
  }

  /** The OS process id: a block's two processes are new ones (the report lists them). */
  get pid(): number {
    return this.proc.pid ?? -1;
  }

  what(): string {
    return `suite ${this.suite} of ${this.side.label} ${this.side.ref}${this.side.sha ? ` (${this.side.sha.slice(0, 12)})` : ''}`;
  }

  private settle(f: (p: NonNullable<AbChild['pending']>) => void): void {
    const p = this.pending;
    this.pending = null;
    if (p) f(p);
  }

  async ask(req: AbChildRequest): Promise<AbChildReply> {
    if (this.exited) throw new BenchError('BENCH_ERR_SUITE_FAILED', `${this.what()}: its process exited (${this.exited})`);
    const reply = await new Promise<AbChildReply>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.proc.send(req);
    });
    if (reply.kind === 'error') {
      const code = reply.code === 'BENCH_ERR_AB_SUITE_MISSING' ? reply.code : 'BENCH_ERR_SUITE_FAILED';
      throw new BenchError(code, `${this.what()}: ${reply.message}`);
    }
    return reply;
  }

  async setup(req: Extract<AbChildRequest, { kind: 'setup' }>): Promise<AbChildReply & { kind: 'ready' | 'skipped' }> {
    const r = await this.ask(req);
    if (r.kind !== 'ready' && r.kind !== 'skipped') throw new BenchError('BENCH_ERR_SUITE_FAILED', `${this.what()}: answered ${r.kind} to setup`);
    return r;
  }

  async round(index: number): Promise<AbRoundValues> {
    const r = await this.ask({ kind: 'round', index });
    if (r.kind !== 'round') throw new BenchError('BENCH_ERR_SUITE_FAILED', `${this.what()}: answered ${r.kind} to a round`);
    return r.values;
  }

  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      // A child still busy with a request (its pair failed while it set up) is stopped: asked
      // to close, it would disconnect and then fail to send its answer.
      if (this.pending) this.proc.kill('SIGTERM');
      else this.proc.send({ kind: 'close' });
      // A child stuck in a round is not waited for.
      setTimeout(() => this.proc.kill('SIGKILL'), 30_000).unref();
    });
  }
}
