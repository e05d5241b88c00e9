// Session slots against the real engine: only started sessions hold them, so sockets that
// never start cannot lock real clients out (an idle attacker that keeps reconnecting
// included), and a start beyond maxSessions is refused with SERVER_FULL.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../../src/client/connect.ts';
import type { EnginePort } from '../../../src/server/engine-port.ts';
import type { ServerOptions } from '../../../src/server/options.ts';
import { createServer, type SolaceServer } from '../../../src/server/server.ts';
import { Peer } from '../wire.ts';
import { startEngine, testFrames } from './engine.ts';

let engine: EnginePort;
const servers: SolaceServer[] = [];
const peers: Peer[] = [];

beforeAll(async () => {
  engine = await startEngine();
});
afterAll(async () => {
  await engine?.close();
});
afterEach(async () => {
  for (const p of peers.splice(0)) p.ws.terminate();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serve(options: ServerOptions = {}) {
  const server = createServer({ port: 0, ...options }, engine);
  servers.push(server);
  return { server, url: (await server.start()).url };
}

async function idle(url: string): Promise<Peer> {
  const p = new Peer(url);
  peers.push(p);
  await p.opened;
  return p;
}

describe('session slots', () => {
  it('a client starts and streams while idle sockets (more than maxSessions) sit connected', async () => {
    const { url } = await serve({ maxSessions: 2 });
    for (let i = 0; i < 4; i++) await idle(url);
    const c = await connect(url, { seed: 1, pace: 'fast' });
    const r = await c.run(testFrames(5));
    expect(r.ok).toBe(true);
    expect(r.ended).toMatchObject({ steps: 5 });
  });

  it('real clients get through while an attacker keeps maxSessions idle sockets open, reconnecting as they close', async () => {
    const { url } = await serve({ maxSessions: 4, maxPendingConnections: 8, maxPendingPerAddress: 8, pressureHandshakeMs: 300, handshakeTimeoutMs: 2000 });
    let stop = false;
    const attacker = async () => {
      while (!stop) {
        const p = await idle(url).catch(() => null);
        if (p) await p.closed;
      }
    };
    const attackers = [0, 1, 2, 3].map(() => attacker());
    await new Promise((r) => setTimeout(r, 200));
    const outcomes: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await connect(url, { seed: i, pace: 'fast' }).then((c) => c.run(testFrames(3)), () => null);
      outcomes.push(r?.ok === true);
    }
    stop = true;
    for (const p of peers) p.ws.terminate();
    await Promise.all(attackers);
    expect(outcomes).toEqual([true, true, true]);
  });

  it('refuses a start beyond maxSessions with SERVER_FULL and 1013, and admits again once a session leaves', async () => {
    const { server, url } = await serve({ maxSessions: 1 });
    const first = await connect(url, { seed: 1, pace: 'fast' });
    const err = await connect(url, { seed: 2, pace: 'fast' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SERVER_FULL' });
    expect(String((err as Error).message)).toMatch(/server full: 1 of 1/);
    expect(server.stats.counters.sessions_rejected).toBe(1);
    await first.run(testFrames(2));
    const deadline = performance.now() + 3000;
    while (server.sessions.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const third = await connect(url, { seed: 3, pace: 'fast' });
    expect((await third.run(testFrames(2))).ok).toBe(true);
  });
});
