// Killing the engine process mid-session: the server stays up, tells the session, reports
// the engine state, restarts it, and serves new sessions.
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../../src/client/connect.ts';
import type { EnginePort } from '../../../src/server/engine-port.ts';
import { createServer, type SolaceServer } from '../../../src/server/server.ts';
import { startEngine, testFrames, waitFor } from './engine.ts';

let engine: EnginePort | undefined;
let server: SolaceServer | undefined;
afterAll(async () => {
  await server?.stop();
  await engine?.close();
});

describe('engine process killed mid-session', () => {
  it('closes the session with ENGINE_RESTARTED (1013), shows the restart on /health, and serves new sessions after', async () => {
    engine = await startEngine();
    const states: string[] = [];
    engine.on('state', (s) => states.push(s));
    server = createServer({ port: 0 }, engine);
    const { url } = await server.start();
    const health = url.replace('ws:', 'http:') + '/health';

    const c = await connect(url, { seed: 1, pace: 'realtime' });
    const streaming = c.stream(testFrames(250));
    await waitFor(() => server!.health().steps >= 10, 30_000, '10 steps');
    const pid = engine.pid;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGKILL');

    const closed = await Promise.race([c.closed, new Promise<never>((_, no) => setTimeout(() => no(new Error('session not closed within 10 s')), 10_000))]);
    expect(closed.code).toBe(1013);
    expect(closed.reason).toMatch(/engine/);
    expect(c.result().errors.at(-1)).toMatchObject({ code: 'ENGINE_RESTARTED', fatal: true });
    await streaming;
    // The server kept answering while the engine was down or coming back.
    const h = await fetch(health);
    expect([200, 503]).toContain(h.status);

    await waitFor(() => engine!.state === 'ok', 60_000, 'the engine to restart');
    expect(states).toContain('restarting');
    expect(engine.restartCount).toBeGreaterThanOrEqual(1);
    expect(engine.pid).not.toBe(pid);
    expect((await fetch(health)).status).toBe(200);

    const r = await (await connect(url, { seed: 1, pace: 'fast' })).run(testFrames(10));
    expect(r.ok).toBe(true);
    expect(r.ended?.steps).toBe(10);
  }, 120_000);
});
