// A real SolaceLive server on loopback for the load-test tests, with what it measured of
// each session: the client's seed (from its ready) and the e2e span of every step (frame in
// → reply out), so a test can hold the clients' figures against the server's own.
import { finishedSpans } from '../../../src/engine/step-record.ts';
import type { EnginePort } from '../../../src/server/engine-port.ts';
import type { ServerOptions } from '../../../src/server/options.ts';
import { createServer, type SolaceServer } from '../../../src/server/server.ts';
import { percentiles, type Percentiles } from '../../../harness/measure/index.ts';

export interface ServedSession {
  readonly seed: number;
  /** [step, e2e ms] of every finished step. */
  readonly e2e: [number, number][];
}

export async function serveWithFigures(engine: EnginePort, options: ServerOptions): Promise<{ server: SolaceServer; url: string; sessions: Map<string, ServedSession> }> {
  const sessions = new Map<string, ServedSession>();
  const server = createServer({ port: 0, ...options }, engine, {
    onSessionOpen: (id, ready) => sessions.set(id, { seed: ready.seed, e2e: [] }),
    onStepFinished: (id, rec) => {
      const e2e = finishedSpans(rec).e2e;
      if (e2e !== undefined) sessions.get(id)?.e2e.push([rec.step, e2e]);
    },
  });
  const { url } = await server.start();
  return { server, url, sessions };
}

/**
 * The server's e2e percentiles of a session's steps from `fromStep` (the warm-up steps answer no
 * client frame) up to `toStep` (exclusive: the frames the client sent and timed; the EOS page's
 * tail behind the pre-skip is one more step, queued behind the last frame, that it does not time).
 */
export function e2eOf(s: ServedSession, fromStep: number, toStep = Infinity): Percentiles {
  return percentiles(s.e2e.filter(([step]) => step >= fromStep && step < toStep).map(([, ms]) => ms));
}
