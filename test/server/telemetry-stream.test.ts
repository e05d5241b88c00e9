// GET /telemetry: the snapshots a dashboard subscribes to, over real HTTP on loopback —
// first without an engine (stream mechanics, rate bound, auth, shutdown), then with the
// real tiny engine and a real client session (per-session figures, series, events).
// tapHooks is tested on its own: the recorder is a class instance and must keep `this`.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SseParser } from '../../harness/dashboard/source.ts';
import { connect } from '../../src/client/connect.ts';
import type { EnginePort } from '../../src/server/engine-port.ts';
import type { FinishedStep } from '../../src/engine/step-record.ts';
import type { SessionHooks } from '../../src/server/hooks.ts';
import type { ServerOptions } from '../../src/server/options.ts';
import { createServer, type SolaceServer } from '../../src/server/server.ts';
import { tapHooks, TELEMETRY_MAX_STREAMS, type TelemetrySnapshot } from '../../src/server/telemetry-stream.ts';
import { startEngine, testFrames } from './live/engine.ts';

const servers: SolaceServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serve(options: ServerOptions = {}, engine: EnginePort | null = null) {
  const server = createServer({ host: '127.0.0.1', port: 0, noEngineReason: 'no weights in this test', ...options }, engine);
  servers.push(server);
  const addr = await server.start();
  return { server, http: addr.url.replace('ws:', 'http:'), url: addr.url };
}

/** Reads SSE events from GET /telemetry until `until` says stop or `ms` passes. */
async function readEvents(url: string, ms: number, until: (evs: { event: string; data: string; at: number }[]) => boolean = () => false, headers: Record<string, string> = {}) {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal, headers });
  const events: { event: string; data: string; at: number }[] = [];
  const t0 = performance.now();
  const timer = setTimeout(() => ac.abort(), ms);
  const parser = new SseParser();
  const dec = new TextDecoder();
  try {
    for await (const chunk of res.body!) {
      for (const e of parser.push(dec.decode(chunk as Uint8Array, { stream: true }))) events.push({ ...e, at: performance.now() - t0 });
      if (until(events)) break;
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return { res, events };
}

const snaps = (evs: { event: string; data: string }[]) => evs.filter((e) => e.event === 'telemetry').map((e) => JSON.parse(e.data) as TelemetrySnapshot);

describe('GET /telemetry without an engine', () => {
  it('streams snapshots as Server-Sent Events at no more than the asked rate, the first at once', async () => {
    const { http } = await serve();
    const { res, events } = await readEvents(`${http}/telemetry?hz=10`, 1500);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const s = snaps(events);
    expect(events[0]!.at).toBeLessThan(300);
    // 1.5 s at 10 Hz: 15 timer snapshots plus the first one; never more.
    expect(s.length).toBeGreaterThanOrEqual(8);
    expect(s.length).toBeLessThanOrEqual(17);
    expect(s.map((x) => x.seq)).toEqual([...s.map((x) => x.seq)].sort((a, b) => a - b));
    expect(s[0]).toMatchObject({ v: 1, model: null, engine: { state: 'none', reason: 'no weights in this test' }, budgetMs: 80, steps: 0, sessions: [], stepTotals: [] });
  });

  it('says which steps its figures cover: the server-wide window and the per-session one', async () => {
    const { http } = await serve({ statsWindow: 37 });
    const { events } = await readEvents(`${http}/telemetry`, 2000, (evs) => evs.some((e) => e.event === 'telemetry'));
    const [first] = snaps(events);
    expect(first!.window).toBe(37);
    expect(Number.isInteger(first!.sessionWindow) && first!.sessionWindow > 0).toBe(true);
  });

  it('caps the rate at 10 Hz whatever is asked, and refuses a rate that is not a number', async () => {
    const { http } = await serve();
    const { events } = await readEvents(`${http}/telemetry?hz=1000`, 1000);
    expect(snaps(events).length).toBeLessThanOrEqual(12);
    const bad = await fetch(`${http}/telemetry?hz=fast`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/hz must be a number/);
  });

  it('needs the token when the server has one', async () => {
    const token = 'telemetry-token-0123456789abcdef';
    const { http } = await serve({ token });
    expect((await fetch(`${http}/telemetry`)).status).toBe(401);
    const { res, events } = await readEvents(`${http}/telemetry`, 2000, (e) => e.length > 0, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect(snaps(events)).toHaveLength(1);
  });

  it('refuses streams beyond TELEMETRY_MAX_STREAMS with 503 and says why; a closed stream frees its place', async () => {
    const { http } = await serve();
    const open: AbortController[] = [];
    for (let i = 0; i < TELEMETRY_MAX_STREAMS; i++) {
      const ac = new AbortController();
      const res = await fetch(`${http}/telemetry?hz=0.2`, { signal: ac.signal });
      expect(res.status).toBe(200);
      open.push(ac);
    }
    const refused = await fetch(`${http}/telemetry`);
    expect(refused.status).toBe(503);
    expect((await refused.json()).error).toMatch(`limit ${TELEMETRY_MAX_STREAMS}`);
    open.pop()!.abort();
    // The server learns of the abort when the socket closes, a moment later.
    let status = 0;
    for (const t0 = performance.now(); status !== 200 && performance.now() - t0 < 3000; await new Promise((r) => setTimeout(r, 50))) {
      const { res } = await readEvents(`${http}/telemetry`, 3000, (e) => e.length > 0);
      status = res.status;
    }
    expect(status).toBe(200);
    for (const ac of open) ac.abort();
  });

  it('tells subscribers why the stream ends when the server stops, and does not hold the stop up', async () => {
    const { http, server } = await serve();
    const reading = readEvents(`${http}/telemetry?hz=5`, 10_000, (e) => e.some((x) => x.event === 'bye'));
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    await server.stop();
    expect(performance.now() - t0).toBeLessThan(2000);
    const { events } = await reading;
    expect(events.at(-1)).toEqual(expect.objectContaining({ event: 'bye', data: JSON.stringify({ reason: 'server shutting down' }) }));
  });
});

describe('GET /telemetry with the real engine and a client session', () => {
  let engine: EnginePort;
  beforeAll(async () => {
    engine = await startEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('shows the session with its own figures while it runs and after it closed, with the step.total series and its events', async () => {
    const { http, url, server } = await serve({}, engine);
    const during: TelemetrySnapshot[] = [];
    const watching = readEvents(`${http}/telemetry?hz=10`, 60_000, (evs) => {
      const s = snaps(evs).at(-1);
      if (s?.sessions.some((x) => x.state === 'streaming' && x.steps > 0)) during.push(s);
      return s?.sessions.some((x) => x.closedAt !== null) ?? false;
    });
    const c = await connect(url, { seed: 7, pace: 'fast' });
    const r = await c.run(testFrames(30));
    expect(r.ok).toBe(true);
    const { events } = await watching;
    const last = snaps(events).at(-1)!;
    const sess = last.sessions.find((x) => x.id === r.session)!;
    expect(sess).toMatchObject({ state: 'closed', steps: 30, framesReceived: 30, closeReason: '1000 session ended' });
    expect(sess.stepTotal!.count).toBe(30);
    expect(sess.stepTotal!.p50).toBeGreaterThan(0);
    expect(sess.stepTotal!.p99).toBeGreaterThanOrEqual(sess.stepTotal!.p50);
    expect(last.steps).toBe(30);
    expect(last.stepTotals).toHaveLength(30);
    expect(last.stepTotals.every((x) => x > 0)).toBe(true);
    for (const span of ['net.recv', 'queue.wait', 'mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode', 'net.send', 'step.total'] as const) {
      expect(last.spans[span]?.count, span).toBeGreaterThan(0);
    }
    expect(last.engine.state).toBe('ok');
    expect(last.model).toBe(engine.info!.model);
    expect(last.realTimeFactor).toBeGreaterThan(0);
    const kinds = last.events.filter((e) => e.session === r.session).map((e) => e.kind);
    expect(kinds[0]).toBe('session-open');
    expect(kinds.at(-1)).toBe('session-close');
    // While it ran, a snapshot already showed it streaming with steps.
    expect(during.length).toBeGreaterThan(0);
    // The same figures are available in-process (serve --dashboard).
    expect(server.telemetry.snapshot().sessions[0]!.id).toBe(r.session);
  });
});

describe('tapHooks', () => {
  it('runs the tap first, then the inner hook bound to its object; a throwing tap does not stop the inner hook', () => {
    const calls: string[] = [];
    class Rec implements SessionHooks {
      private readonly name = 'rec';
      onStepFinished(id: string) {
        calls.push(`${this.name}:step:${id}`);
      }
      onInbound(id: string) {
        calls.push(`${this.name}:in:${id}`);
      }
      health() {
        return { who: this.name };
      }
    }
    const hooks = tapHooks(new Rec(), {
      onStepFinished: (id) => calls.push(`tap:step:${id}`),
      onEvent: () => {
        throw new Error('tap broke');
      },
    });
    hooks.onStepFinished!('s1', { step: 0 } as FinishedStep);
    hooks.onInbound!('s1', new Uint8Array(), 0);
    expect(() => hooks.onEvent!('s1', { kind: 'error', message: 'x' })).not.toThrow();
    expect(calls).toEqual(['tap:step:s1', 'rec:step:s1', 'rec:in:s1']);
    expect(hooks.health!()).toEqual({ who: 'rec' });
    expect(hooks.onSessionOpen).toBeUndefined();
  });
});
