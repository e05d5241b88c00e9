// Both protocols measured the same way against one real server whose every step sleeps a
// known time first (test-only preload, test/server/live/slow-steps.ts): no reply can leave
// before its frame's step has slept, so every lag either client reports is at least the
// sleep, on any machine (a client that paired a reply with the wrong frame would report
// less), and never less than the server's own e2e for that frame's session. Each connection
// is recorded in the proxy's format, on either protocol, and the session reads back whole.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';
import type { Libopus } from '../../../src/audio/opus/index.ts';
import { blasFromEnv } from '../../../src/engine/blas.ts';
import { EngineHost } from '../../../src/engine/host.ts';
import { resolveModel } from '../../../src/engine/models.ts';
import type { SolaceServer } from '../../../src/server/server.ts';
import { openSession } from '../../../harness/format/node.ts';
import { proxyMetaOf } from '../../../harness/format/index.ts';
import { verifySession } from '../../../harness/verify.ts';
import { DEFAULT_INPUT, parseTarget, runLevel, wavInput, type LoadProtocol } from '../../../harness/loadtest/index.ts';
import { e2eOf, serveWithFigures, type ServedSession } from './server-figures.ts';

const SLEEP_MS = 60;
let engine: EngineHost;
let server: SolaceServer;
let url: string;
let sessions: Map<string, ServedSession>;
let lib: Libopus;
let dir: string;

beforeAll(async () => {
  engine = new EngineHost({ spec: resolveModel(undefined), blas: blasFromEnv(), testPreload: new URL(`../../server/live/slow-steps.ts?ms=${SLEEP_MS}`, import.meta.url).href });
  await engine.start();
  if (engine.state !== 'ok') throw new Error(`engine did not come up: ${engine.state} ${engine.reason ?? ''}`);
  ({ server, url, sessions } = await serveWithFigures(engine, { maxSessions: 8, admission: 'max-sessions', maxLagMs: 120_000 }));
  lib = await loadLibopusNode();
  dir = mkdtempSync(join(tmpdir(), 'loadtest-delay-'));
}, 90_000);
afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await server?.stop();
  await engine?.close();
});

describe('lag against a server with a known per-step sleep', () => {
  it.each(['moshi', 'solacelive'] as LoadProtocol[])('%s: every frame\'s lag is at least the sleep and at least the server\'s e2e', async (protocol) => {
    const before = new Set(sessions.keys());
    const l = await runLevel({
      target: parseTarget(url, protocol), clients: 1, durationS: 3, rampS: 0, inputs: [wavInput(DEFAULT_INPUT)], budgetMs: 30_000,
      lib, connectTimeoutMs: 20_000, record: join(dir, protocol), runId: 'delay', meter: { stallMs: 30_000 },
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
    const e2e = e2eOf(served[0]!, f.lag.warmupFrames, r.framesSent);
    expect(e2e.p50!).toBeGreaterThanOrEqual(SLEEP_MS);
    expect(f.lag.p50!).toBeGreaterThanOrEqual(e2e.p50! - 1);
    expect(f.handshakeMs).not.toBeNull();
    expect(f.firstAudioMs!).toBeGreaterThanOrEqual(f.handshakeMs!);

    expect(r.recording).toMatchObject({ status: 'complete', error: null });
    expect(readdirSync(join(dir, protocol))).toEqual(['delay-n1-c1.session']);
    const session = await openSession(r.recording!.path, { strict: true });
    expect(session.manifest.status).toBe('complete');
    expect(session.manifest.meta.wire).toBe(protocol);
    expect(proxyMetaOf(session.manifest)!.upstream).toBe(url.replace(/\/$/, '') + (protocol === 'moshi' ? '/api/chat' : '/'));
    expect(session.manifest.counts.steps).toBeGreaterThanOrEqual(r.framesSent);
    const v = await verifySession(session, { libopus: loadLibopusNode });
    expect(v.damage).toEqual([]);
  }, 60_000);
});
