// serve --trust-proxy: behind a balancer on this machine, the per-address bound on connections
// that have not started a session counts the client address the balancer puts last in
// X-Forwarded-For, not the balancer's own; off (the default) the header is ignored, since any
// client can send one. A real server on loopback with real WebSocket peers.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type SolaceServer } from '../../src/server/server.ts';
import type { ServerOptions } from '../../src/server/options.ts';
import { Peer } from './wire.ts';

const servers: SolaceServer[] = [];
const peers: Peer[] = [];

async function serve(options: ServerOptions) {
  const server = createServer({ host: '127.0.0.1', port: 0, noEngineReason: 'no weights in this test', maxPendingPerAddress: 2, maxPendingConnections: 8, pressureHandshakeMs: 10_000, ...options }, null);
  servers.push(server);
  return { server, url: (await server.start()).url };
}

async function peer(url: string, xff: string): Promise<Peer> {
  const p = new Peer(url, { 'x-forwarded-for': xff });
  peers.push(p);
  await p.opened;
  return p;
}

afterEach(async () => {
  for (const p of peers.splice(0)) p.ws.terminate();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** Lets the server act on what it has; a closed peer has closeInfo set. */
const settle = () => new Promise((r) => setTimeout(r, 200));

describe('per-address limits behind a proxy', () => {
  it('with trustProxy, counts each forwarded client apart: two clients fill their own bounds, not one shared', async () => {
    const { server, url } = await serve({ trustProxy: true });
    const a = [await peer(url, '192.0.2.1'), await peer(url, '192.0.2.1')];
    const b = [await peer(url, '192.0.2.2'), await peer(url, '192.0.2.2')];
    await settle();
    for (const p of [...a, ...b]) expect(p.closeInfo).toBeNull();
    // A third from client A: A's oldest goes, B's stay.
    await peer(url, '192.0.2.1');
    const c = await a[0]!.closeWithin(3000);
    expect(c.code).toBe(1013);
    expect(a[0]!.errors()).toMatchObject([{ code: 'TOO_MANY_PENDING', message: expect.stringContaining('from 192.0.2.1') }]);
    await settle();
    for (const p of [a[1]!, ...b]) expect(p.closeInfo).toBeNull();
    expect(server.stats.counters.pending_evicted).toBe(1);
  });

  it('with trustProxy, reads the entry the proxy appended (the last), not one the client put first', async () => {
    const { url } = await serve({ trustProxy: true });
    // The client forges 203.0.113.9 in front; the proxy appends the real address.
    const a = [await peer(url, '203.0.113.9, 192.0.2.1'), await peer(url, '198.51.100.7, 192.0.2.1')];
    await peer(url, '203.0.113.9, 192.0.2.1');
    expect((await a[0]!.closeWithin(3000)).code).toBe(1013);
    expect(a[0]!.errors()[0]!.message).toContain('from 192.0.2.1');
  });

  it('without trustProxy (the default), ignores the header: every loopback connection is one address', async () => {
    const { url } = await serve({});
    const first = await peer(url, '192.0.2.1');
    await peer(url, '192.0.2.2');
    await peer(url, '192.0.2.3');
    expect((await first.closeWithin(3000)).code).toBe(1013);
    expect(first.errors()[0]!.message).toContain('from 127.0.0.1');
  });
});
