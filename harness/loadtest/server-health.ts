// The server's own figures beside the clients': when the target is SolaceLive, its GET /health
// (same host:port, http) read at the end of a level, so the capacity the clients find can be
// held against what the server measured of itself (session cost, admission capacity, workers'
// CPU and step p99, e2e p99). Any other server (no /health, another shape) yields why not.
import type { Target } from './target.ts';

export interface ServerFigures {
  /** Where they were read. */
  readonly url: string;
  /** Admission's measured cost of one session per 80 ms step (ms); null before it measured one. */
  readonly sessionCostMs: number | null;
  /** Sessions admission holds at that cost. */
  readonly admissionCapacity: number | null;
  /** Each engine worker's process CPU per wall second (1 = a core); null until sampled. */
  readonly workerCpu: readonly (number | null)[];
  /** Each engine worker's own step.total p99 (ms). */
  readonly workerStepP99Ms: readonly (number | null)[];
  /** The server's e2e p99 (frame in → reply out) and step.total p99 over its window (ms). */
  readonly e2eP99Ms: number | null;
  readonly stepTotalP99Ms: number | null;
}

export type ServerHealth = { readonly figures: ServerFigures } | { readonly none: string };

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Record<string, unknown> | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

/** The /health URL of a target: http(s) on its host and port. */
export function healthUrl(t: Target): string {
  const u = new URL(t.url);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = '/health';
  u.search = '';
  return u.href;
}

/** The figures of a parsed /health body, or why it is not SolaceLive's. */
export function serverFigures(url: string, body: unknown): ServerHealth {
  const h = obj(body);
  const spans = obj(h?.spans);
  const engine = obj(h?.engine);
  if (!h || !spans || !engine || !Array.isArray(engine.workers)) return { none: `${url} is not a SolaceLive /health (no spans and engine workers)` };
  const admission = obj(h.admission);
  const workers = engine.workers.map(obj);
  return {
    figures: {
      url,
      sessionCostMs: num(admission?.costMs),
      admissionCapacity: num(admission?.capacity),
      workerCpu: workers.map((w) => num(w?.cpu)),
      workerStepP99Ms: workers.map((w) => num(w?.stepP99Ms)),
      e2eP99Ms: num(obj(spans.e2e)?.p99),
      stepTotalP99Ms: num(obj(spans['step.total'])?.p99),
    },
  };
}

/** GET /health of the target (token as the clients send it); never throws: a failure is why there are no figures. */
export async function readServerHealth(t: Target, token?: string, timeoutMs = 3000): Promise<ServerHealth> {
  const url = healthUrl(t);
  try {
    // One connection per read (read once a level): a kept-alive one the server idles out as it is reused fails the read.
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { connection: 'close', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    if (!res.ok) return { none: `${url} answered HTTP ${res.status}` };
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      return { none: `${url} did not answer JSON` };
    }
    return serverFigures(url, body);
  } catch (err) {
    return { none: `${url}: ${(err as Error).message}` };
  }
}

const ms = (v: number | null): string => (v === null ? '-' : String(Math.round(v)));
const list = (xs: readonly (number | null)[], f: (x: number) => string) => (xs.length ? xs.map((x) => (x === null ? '-' : f(x))).join('/') : '-');

/** One line of the server's own figures. */
export function serverLine(f: ServerFigures): string {
  return `server /health: session cost ${f.sessionCostMs === null ? '-' : f.sessionCostMs.toFixed(1)} ms/step, admission capacity ${f.admissionCapacity ?? '-'}, ` +
    `worker cpu ${list(f.workerCpu, (x) => x.toFixed(2))}, worker step p99 ${list(f.workerStepP99Ms, (x) => String(Math.round(x)))} ms, e2e p99 ${ms(f.e2eP99Ms)} ms, step.total p99 ${ms(f.stepTotalP99Ms)} ms`;
}
