// Both protocols measured the same way against one real server whose every step sleeps a
// known time first (test-only preload, test/server/live/slow-steps.ts): no reply can leave
// before its frame's step has slept, so every lag either client reports is at least the
// sleep, on any machine (a client that paired a reply with the wrong frame would report
// less), and never less than the server's own e2e for that frame's session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';
import type { Libopus } from '../../../src/audio/opus/index.ts';
import { blasFromEnv } from '../../../src/engine/blas.ts';
import { EngineHost } from '../../../src/engine/host.ts';
import { resolveModel } from '../../../src/engine/models.ts';
import type { SolaceServer } from '../../../src/server/server.ts';
import { DEFAULT_INPUT, parseTarget, runLevel, wavInput, type LoadProtocol } from '../../../harness/loadtest/index.ts';
import { e2eOf, serveWithFigures, type ServedSession } from './server-figures.ts';

const SLEEP_MS = 60;
let engine: EngineHost;
let server: SolaceServer;
let url: string;
let sessions: Map<string, ServedSession>;
let lib: Libopus;

beforeAll(async () => {
  engine = new EngineHost({ spec: resolveModel(undefined), blas: blasFromEnv(), testPreload: new URL(`../../server/live/slow-steps.ts?ms=${SLEEP_MS}`, import.meta.url).href });
  await engine.start();
  if (engine.state !== 'ok') throw new Error(`engine did not come up: ${engine.state} ${engine.reason ?? ''}`);
  ({ server, url, sessions } = await serveWithFigures(engine, { maxSessions: 8, admission: 'max-sessions', maxLagMs: 120_000 }));
  lib = await loadLibopusNode();
}, 90_000);
afterAll(async () => {
  await server?.stop();
  await engine?.close();
});

describe('lag against a server with a known per-step sleep', () => {
  it.each(['moshi', 'solacelive'] as LoadProtocol[])('%s: every frame\'s lag is at least the sleep and at least the server\'s e2e', async (protocol) => {
    const before = new Set(sessions.keys());
    const l = await runLevel({
      target: parseTarget(url, protocol), clients: 1, durationS: 3, rampS: 0, inputs: [wavInput(DEFAULT_INPUT)], budgetMs: 30_000,
      lib, connectTimeoutMs: 20_000, record: null, runId: 'delay', meter: { stallMs: 30_000 },
    });
    const r = l.reports[0]!;
    expect(r.status, JSON.stringify(r.error)).toBe('done');
    const f = r.figures!;
    expect(f.lag.count).toBeGreaterThan(30);
    expect(f.missing.count).toBe(0);
    expect(r.disconnected).toBe(false);
    expect(f.end).toMatchObject({ by: 'server', code: 1000 });
    expect(Math.min(...f.lag.series.map(([, lag]) => lag))).toBeGreaterThanOrEqual(SLEEP_MS);
    const served = [...sessions.entries()].filter(([id]) => !before.has(id)).map(([, s]) => s);
    expect(served.length).toBe(1);
    const e2e = e2eOf(served[0]!, f.lag.warmupFrames);
    expect(e2e.p50!).toBeGreaterThanOrEqual(SLEEP_MS);
    expect(f.lag.p50!).toBeGreaterThanOrEqual(e2e.p50! - 1);
    expect(f.handshakeMs).not.toBeNull();
    expect(f.firstAudioMs!).toBeGreaterThanOrEqual(f.handshakeMs!);
  }, 60_000);
});
