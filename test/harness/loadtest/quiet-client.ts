// One load-test client alone in a worker thread of its own (quietClientLag): the reference a
// crowd of clients in the test's process is compared with. Same code, same server, same
// machine load at the same time; only its event loop serves nobody else.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';
import { DEFAULT_INPUT, parseTarget, runLevel, wavInput } from '../../../harness/loadtest/index.ts';
import type { Percentiles } from '../../../harness/measure/index.ts';

interface Plan {
  readonly url: string;
  readonly durationS: number;
}

/** The lag one quiet client measures against `url` over `durationS`. */
export async function quietClientLag(url: string, durationS: number): Promise<Percentiles> {
  const w = new Worker(new URL(import.meta.url), { workerData: { url, durationS } satisfies Plan });
  try {
    return await new Promise<Percentiles>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`the quiet client's thread exited with code ${code}`)));
    });
  } finally {
    await w.terminate();
  }
}

async function run(p: Plan): Promise<void> {
  const r = await runLevel({
    target: parseTarget(p.url, 'moshi'), clients: 1, durationS: p.durationS, rampS: 0, inputs: [wavInput(DEFAULT_INPUT)], budgetMs: 1000,
    lib: await loadLibopusNode(), connectTimeoutMs: 10_000, record: null, runId: 'quiet', serverHealth: false,
  });
  parentPort!.postMessage(r.figures.lag);
}

if (!isMainThread && parentPort) await run(workerData as Plan);
