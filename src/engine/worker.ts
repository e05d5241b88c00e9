// The engine worker: a child process that owns MLX. It loads one model, keeps one
// pipeline state per session, and answers the host's requests one at a time (a step
// computes synchronously; MLX must not see two at once). It never talks to sockets.
// If MLX aborts the process, the host restarts it; nothing here tries to survive that.
import { EngineError } from './errors.ts';
import type { Hello, Reply, Request } from './ipc.ts';
import { Pipeline } from './pipeline.ts';

if (!process.send) {
  console.error('src/engine/worker.ts is started by the engine host (fork with an IPC channel), not run directly.');
  process.exit(2);
}
// A reply the host can no longer take (it disconnected to stop this worker) is dropped: the
// callback keeps EPIPE from becoming an uncaught 'error' that kills the worker noisily.
const send = (m: Reply | Hello) => {
  if (process.connected) process.send!(m, undefined, {}, () => undefined);
};

let pipeline: Pipeline | null = null;
let steps = 0;
/** TEST-ONLY (EngineHostOptions.testStepBurnMs): CPU time each step burns on top of the model's. */
let burnMs = 0;

async function handle(req: Request): Promise<Reply> {
  switch (req.kind) {
    case 'load': {
      pipeline = await Pipeline.load(req.spec);
      burnMs = req.testStepBurnMs ?? 0;
      return { id: req.id, ok: true, kind: 'load', info: pipeline.info };
    }
    case 'open':
      need().open(req.session, req.options, req.split === true);
      return { id: req.id, ok: true, kind: 'open' };
    case 'step': {
      const t0 = performance.now();
      const output = await need().step(req.input, { deferRelease: true });
      if (burnMs > 0) burnCpu(burnMs);
      steps++;
      return { id: req.id, ok: true, kind: 'step', output, workerMs: performance.now() - t0 };
    }
    case 'stage':
      return { id: req.id, ok: true, kind: 'stage', output: need().stage(req.input) };
    case 'close':
      need().close(req.session);
      return { id: req.id, ok: true, kind: 'close' };
    case 'stats':
      return { id: req.id, ok: true, kind: 'stats', stats: { rssBytes: process.memoryUsage.rss(), sessions: pipeline?.sessionCount ?? 0, steps, cpuUs: cpuUs(), atMs: performance.now() } };
  }
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Spins until this process has used `ms` more CPU time: a known per-step cost whatever the machine's load. */
function burnCpu(ms: number): void {
  const end = cpuUs() + ms * 1000;
  while (cpuUs() < end) { /* burn */ }
}

function need(): Pipeline {
  if (!pipeline) throw new EngineError('ENGINE_ERR_NOT_READY', 'no model loaded in the engine worker');
  return pipeline;
}

// Requests run strictly in arrival order.
let chain: Promise<void> = Promise.resolve();
process.on('message', (req: Request) => {
  chain = chain.then(async () => {
    try {
      send(await handle(req));
      // After the reply, so that freeing the step's memory overlaps the round trip.
      if (req.kind === 'step' || req.kind === 'stage') await pipeline?.releaseMemory();
    } catch (err) {
      const e = err as Error & { code?: string };
      send({ id: req.id, ok: false, error: { code: e.code ?? 'ENGINE_ERR_STEP', message: e.message } });
    }
  });
});
process.on('disconnect', () => process.exit(0));
send({ kind: 'hello', pid: process.pid });
