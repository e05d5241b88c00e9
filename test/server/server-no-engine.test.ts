// The server over real WebSockets on loopback with no engine at all (createServer(…, null)):
// everything that does not need a model — HTTP, handshake refusal, bad input, limits,
// liveness, auth, shutdown, hooks. Steps and audio are in test/server/live/.
import { afterEach, describe, expect, it } from 'vitest';
import { ClientError } from '../../src/client/client.ts';
import { connect } from '../../src/client/connect.ts';
import { AUDIO_SAMPLES, encodePacket, PACKET_TYPES, type Packet } from '../../src/protocol/index.ts';
import type { SessionHooks } from '../../src/server/hooks.ts';
import { createServer, type SolaceServer } from '../../src/server/server.ts';
import type { ServerOptions } from '../../src/server/options.ts';
import { Peer } from './wire.ts';

const servers: SolaceServer[] = [];
const peers: Peer[] = [];

async function serve(options: ServerOptions = {}, hooks: SessionHooks = {}) {
  const server = createServer({ host: '127.0.0.1', port: 0, noEngineReason: 'no weights in this test', ...options }, null, hooks);
  servers.push(server);
  const addr = await server.start();
  return { server, url: addr.url, http: addr.url.replace('ws:', 'http:') };
}

async function peer(url: string, headers?: Record<string, string>): Promise<Peer> {
  const p = new Peer(url, headers);
  peers.push(p);
  await p.opened;
  return p;
}

afterEach(async () => {
  for (const p of peers.splice(0)) p.ws.terminate();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const hb = (extra: Partial<Packet> = {}) => ({ type: 'HEARTBEAT', ...extra }) as Partial<Packet>;
const acked = (p: Peer, seq: number) => p.received.some((r) => r.packet.type === 'ACK' && r.packet.ackSequence === seq);

describe('HTTP', () => {
  it('GET /health says degraded and why, with sessions and telemetry fields; /metrics is Prometheus text', async () => {
    const { http } = await serve();
    const h = await fetch(`${http}/health`);
    expect(h.status).toBe(503);
    const body = await h.json();
    expect(body).toMatchObject({
      status: 'degraded', reason: 'no weights in this test', model: null, engine: { state: 'none' },
      sessions: { active: 0, max: 32 }, budgetMs: 80, steps: 0, budgetMisses: 0, realTimeFactor: null, spans: {},
    });
    expect(body.eventLoopLagMs).toHaveProperty('p99');
    // Nothing measured: admission by maxSessions, and says so.
    expect(body.admission).toMatchObject({ mode: 'cost', basis: 'prior', costMs: null, capacity: 32, live: 0, full: false, admitted: 0, refused: { busy: 0, full: 0 } });
    const m = await fetch(`${http}/metrics`);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await m.text();
    expect(text).toMatch(/^solacelive_engine_up 0$/m);
    expect(text).toMatch(/^# TYPE solacelive_steps_total counter$/m);
    expect(text).toMatch(/^solacelive_sessions_max 32$/m);
    expect(text).toMatch(/^solacelive_admission_capacity 32$/m);
  });

  it('answers unknown paths with 404 and other methods with 405', async () => {
    const { http } = await serve();
    expect((await fetch(`${http}/nope`)).status).toBe(404);
    expect((await fetch(`${http}/health`, { method: 'POST' })).status).toBe(405);
  });
});

describe('handshake without an engine', () => {
  it('tells the client why no model runs (METADATA error), then closes 1013 with the reason', async () => {
    const { url } = await serve();
    const p = await peer(url);
    p.send({ type: 'METADATA', data: { type: 'start', seed: 1 } } as Partial<Packet>);
    const closed = await p.closeWithin();
    expect(closed.code).toBe(1013);
    expect(closed.reason).toContain('no weights in this test');
    expect(p.errors()).toEqual([{ type: 'error', code: 'ENGINE_UNAVAILABLE', fatal: true, message: 'no model can run: no weights in this test' }]);
    // Nothing else was streamed: no audio, no text.
    expect(p.received.filter((r) => r.packet.type !== 'METADATA' && r.packet.type !== 'HEARTBEAT' && r.packet.type !== 'ACK')).toEqual([]);
  });

  it('makes the client library reject connect() with the server\'s code and reason', async () => {
    const { url } = await serve();
    const err = await connect(url, { seed: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ code: 'ENGINE_UNAVAILABLE', message: 'no model can run: no weights in this test' });
  });

  it('answers a bad start with a non-fatal error; the connection stays usable', async () => {
    const { url } = await serve();
    const p = await peer(url);
    p.send({ type: 'METADATA', data: { type: 'start', seeed: 1 } } as Partial<Packet>);
    await p.until((x) => x.errors().length === 1, 2000, 'BAD_HANDSHAKE');
    expect(p.errors()[0]).toMatchObject({ code: 'BAD_HANDSHAKE', fatal: false, message: expect.stringContaining('seeed') });
    p.send(hb({ requiresAck: true }));
    await p.until((x) => acked(x, 1), 2000, 'ACK of the heartbeat');
  });
});

describe('bad input: a clear error, the connection and nothing already accepted lost', () => {
  it('keeps the valid packets before a bad one in the same message, and locates the bad one', async () => {
    const { url } = await serve();
    const p = await peer(url);
    const good = encodePacket({ type: 'HEARTBEAT', priority: 3, sequence: 0, timestamp: 1, requiresAck: true });
    const bad = new Uint8Array(17);
    bad[0] = 0x7f;
    const msg = new Uint8Array(good.length + bad.length);
    msg.set(good);
    msg.set(bad, good.length);
    p.sendRaw(msg);
    await p.until((x) => acked(x, 0) && x.errors().length === 1, 2000, 'ACK and error');
    expect(p.errors()[0]).toMatchObject({ code: 'PKT_ERR_UNKNOWN_TYPE', fatal: false, offset: 17, index: 1 });
    expect(p.ws.readyState).toBe(p.ws.OPEN);
  });

  it.each([
    ['a wrong audio size', () => {
      const b = encodePacket({ type: 'METADATA', priority: 3, sequence: 0, timestamp: 0, requiresAck: false, data: 'x'.repeat(10) });
      b[0] = PACKET_TYPES.AUDIO_CHUNK;
      return b;
    }, 'PKT_ERR_BAD_AUDIO'],
    ['NaN samples', () => {
      const b = encodePacket({ type: 'AUDIO_CHUNK', priority: 0, sequence: 0, timestamp: 0, requiresAck: false, samples: new Float32Array(AUDIO_SAMPLES) });
      new DataView(b.buffer, b.byteOffset).setFloat32(17 + 4 * 100, NaN, true);
      return b;
    }, 'PKT_ERR_BAD_AUDIO'],
    ['a truncated packet', () => encodePacket({ type: 'HEARTBEAT', priority: 3, sequence: 0, timestamp: 0, requiresAck: false }).subarray(0, 9), 'PKT_ERR_TRUNCATED'],
    ['a bad priority', () => {
      const b = encodePacket({ type: 'HEARTBEAT', priority: 3, sequence: 0, timestamp: 0, requiresAck: false });
      b[1] = 9;
      return b;
    }, 'PKT_ERR_BAD_PRIORITY'],
  ])('%s earns a METADATA error naming it', async (_name, make, code) => {
    const { url } = await serve();
    const p = await peer(url);
    p.sendRaw(make());
    await p.until((x) => x.errors().length === 1, 2000, code);
    expect(p.errors()[0]).toMatchObject({ code, fatal: false });
    p.send({ ...hb({ requiresAck: true }), sequence: 5 });
    await p.until((x) => acked(x, 5), 2000, 'ACK after the error');
  });

  it('refuses packets that make no sense in the session state, each with its own code', async () => {
    const { url } = await serve();
    const p = await peer(url);
    p.send({ type: 'AUDIO_CHUNK', priority: 0, samples: new Float32Array(AUDIO_SAMPLES) } as Partial<Packet>);
    p.send({ type: 'TEXT_PARTIAL', text: 'hi' } as Partial<Packet>);
    p.send({ type: 'METADATA', data: { type: 'dance' } } as Partial<Packet>);
    p.send({ type: 'METADATA', data: { type: 'end' } } as Partial<Packet>);
    p.sendRaw('a text message');
    p.send({ ...hb(), sequence: 2 }); // goes backwards
    await p.until((x) => x.errors().length === 6, 2000, 'six errors');
    expect(p.errors().map((e) => e.type === 'error' && e.code)).toEqual(['NOT_STARTED', 'UNEXPECTED_PACKET', 'UNKNOWN_MESSAGE', 'NOT_STARTED', 'NOT_BINARY', 'SEQ_OUT_OF_ORDER']);
    expect(p.errors().every((e) => e.type === 'error' && !e.fatal)).toBe(true);
  });

  it('closes after too many protocol errors, with the close code of the last one and a reason', async () => {
    const { url } = await serve({ maxProtocolErrors: 3 });
    const p = await peer(url);
    for (let i = 0; i < 5; i++) {
      const b = encodePacket({ type: 'AUDIO_CHUNK', priority: 0, sequence: i, timestamp: 0, requiresAck: false, samples: new Float32Array(AUDIO_SAMPLES) });
      new DataView(b.buffer, b.byteOffset).setFloat32(17, Infinity, true);
      p.sendRaw(b);
    }
    const c = await p.closeWithin();
    expect(c.code).toBe(1007);
    expect(c.reason).toMatch(/4 protocol errors \(limit 3\)/);
    expect(p.errors().at(-1)).toMatchObject({ code: 'TOO_MANY_ERRORS', fatal: true });
  });

  it('closes an oversized message with 1009; another session is unaffected', async () => {
    const { url, server } = await serve({ maxMessageBytes: 20_000 });
    const other = await peer(url);
    const p = await peer(url);
    p.sendRaw(new Uint8Array(20_001));
    expect((await p.closeWithin()).code).toBe(1009);
    other.send(hb({ requiresAck: true }));
    await other.until((x) => acked(x, 0), 2000, 'ACK on the other session');
    await other.until(() => server.sessions.size === 1, 2000, 'the closed session to be gone');
  });

  it('closes a flood beyond the input rate with 1008 and a reason; another session keeps its ACKs and heartbeats', async () => {
    const { url } = await serve({ maxInputRate: 20, inputBurst: 10, heartbeatMs: 100, deadPeerMs: 5000 });
    const calm = await peer(url);
    const flood = await peer(url);
    for (let i = 0; i < 40; i++) flood.send(hb());
    const c = await flood.closeWithin();
    expect(c.code).toBe(1008);
    expect(c.reason).toMatch(/input rate above 20 packets\/s/);
    expect(flood.errors().at(-1)).toMatchObject({ code: 'RATE_LIMITED', fatal: true });
    calm.send(hb({ requiresAck: true }));
    await calm.until((x) => acked(x, 0) && x.received.filter((r) => r.packet.type === 'HEARTBEAT').length >= 2, 2000, 'ACK and heartbeats');
  });
});

describe('liveness', () => {
  it('sends HEARTBEAT every heartbeatMs, with sequence numbers counting up from 0 in its direction', async () => {
    const { url } = await serve({ heartbeatMs: 100, deadPeerMs: 5000 });
    // Before connecting: beats are timed from the connection's start, which is later.
    const t0 = performance.now();
    const p = await peer(url);
    await p.until((x) => x.received.length >= 4, 2000, 'four heartbeats');
    const beats = p.received.slice(0, 4);
    expect(beats.map((r) => r.packet.type)).toEqual(['HEARTBEAT', 'HEARTBEAT', 'HEARTBEAT', 'HEARTBEAT']);
    expect(beats.map((r) => r.packet.sequence)).toEqual([0, 1, 2, 3]);
    expect(beats[3]!.at - t0).toBeGreaterThan(350);
    const ts = beats.map((r) => r.packet.timestamp);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
  });

  it('closes a peer that sends nothing for deadPeerMs, and keeps one that sends heartbeats', async () => {
    const { url } = await serve({ heartbeatMs: 100, deadPeerMs: 400, handshakeTimeoutMs: 5000 });
    // Before connecting: the server counts the silence from the connection's start, which is
    // later than this (same process, same clock), so the close can come no sooner than 400 ms.
    const t0 = performance.now();
    const silent = await peer(url);
    const alive = await peer(url);
    const beat = setInterval(() => alive.send(hb()), 100);
    try {
      const c = await silent.closeWithin(2000);
      expect(c.code).toBe(1008);
      expect(c.reason).toMatch(/nothing received for 400 ms/);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(400);
      await new Promise((r) => setTimeout(r, 300));
      expect(alive.ws.readyState).toBe(alive.ws.OPEN);
    } finally {
      clearInterval(beat);
    }
  });

  it('closes a connection that never starts a session', async () => {
    const { url } = await serve({ handshakeTimeoutMs: 200 });
    const p = await peer(url);
    const c = await p.closeWithin(2000);
    expect(c).toEqual({ code: 1008, reason: 'no start METADATA within 200 ms' });
    expect(p.errors()).toMatchObject([{ code: 'HANDSHAKE_TIMEOUT', fatal: true }]);
  });
});

describe('limits and auth', () => {
  it('with a token, refuses upgrades and HTTP without it (401) and accepts it as a header or a query', async () => {
    const token = 'correct-horse-battery';
    const { url, http } = await serve({ token });
    await expect(peer(url)).rejects.toThrow('HTTP 401');
    await expect(peer(`${url}/?token=wrong-token-value`)).rejects.toThrow('HTTP 401');
    expect((await fetch(`${http}/health`)).status).toBe(401);
    expect((await fetch(`${http}/health?token=${token}`)).status).toBe(503); // authorized, and degraded
    await peer(url, { authorization: `Bearer ${token}` });
    await peer(`${url}/?token=${token}`);
    const err = await connect(url).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CLIENT_ERR_HTTP_401' });
  });

  it('will not listen off loopback without a token', () => {
    expect(() => createServer({ host: '0.0.0.0', port: 0 }, null)).toThrow(expect.objectContaining({ code: 'SERVER_ERR_INSECURE_BIND' }));
  });
});

describe('Host and Origin (a web page the user visits must not drive the server)', () => {
  it('refuses upgrades from foreign browser Origins and foreign Host names with 403, before any session exists', async () => {
    const { url, server } = await serve();
    await expect(peer(url, { origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(peer(url, { host: 'evil.example' })).rejects.toThrow('HTTP 403');
    await expect(peer(url, { host: 'evil.example:8788', origin: 'http://evil.example:8788' })).rejects.toThrow('HTTP 403');
    expect(server.stats.counters.connections).toBe(0);
    expect(server.stats.counters.requests_refused).toBe(3);
  });

  it('answers HTTP only to loopback Host names (DNS rebinding) and loopback Origins', async () => {
    const { http } = await serve();
    const get = (headers: Record<string, string>) => new Promise<number>((resolve, reject) => {
      // fetch() will not set Host; node:http will.
      import('node:http').then(({ get: httpGet }) => httpGet(`${http}/health`, { headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject), reject);
    });
    expect(await get({ host: 'evil.example' })).toBe(403);
    expect(await get({ host: 'localhost', origin: 'https://evil.example' })).toBe(403);
    expect(await get({ host: 'localhost:1', origin: 'http://localhost:5173' })).toBe(503); // allowed, and degraded
    expect(await get({ host: '[::1]' })).toBe(503);
  });

  it('accepts programs (no Origin), pages on any loopback port, and Origins given with allowOrigins', async () => {
    const { url } = await serve({ allowOrigins: ['https://moshi.example.com'] });
    for (const headers of [{} as Record<string, string>, { origin: 'http://localhost:5173' }, { origin: 'http://127.0.0.1:5178' }, { origin: 'http://[::1]:3000' }, { origin: 'https://moshi.example.com' }]) {
      const p = await peer(url, headers);
      p.send(hb({ requiresAck: true }));
      await p.until((x) => acked(x, 0), 2000, `ACK with ${JSON.stringify(headers)}`);
    }
    await expect(peer(url, { origin: 'http://moshi.example.com' })).rejects.toThrow('HTTP 403');
  });

  it('refuses a malformed allowOrigins value at start', () => {
    expect(() => createServer({ port: 0, allowOrigins: ['moshi.example.com'] }, null)).toThrow(expect.objectContaining({ code: 'SERVER_ERR_OPTIONS' }));
  });
});

describe('connections that never start a session', () => {
  it('hold no session slot: /health counts them apart from sessions', async () => {
    const { server, http, url } = await serve({ maxSessions: 1 });
    await Promise.all([1, 2, 3, 4].map(() => peer(url)));
    await peers[0]!.until(() => server.sessions.size === 4, 2000, 'four connections');
    const h = await (await fetch(`${http}/health`)).json();
    expect(h.sessions).toMatchObject({ active: 0, max: 1, pending: 4 });
  });

  it('are bounded per address: past the bound the oldest is closed (1013, TOO_MANY_PENDING) and the newest kept', async () => {
    const { server, url } = await serve({ maxPendingConnections: 6, maxPendingPerAddress: 3, pressureHandshakeMs: 10_000, handshakeTimeoutMs: 10_000 });
    const ps: Peer[] = [];
    for (let i = 0; i < 5; i++) ps.push(await peer(url));
    for (const p of ps.slice(0, 2)) {
      const c = await p.closeWithin();
      expect(c.code).toBe(1013);
      expect(p.errors()).toMatchObject([{ code: 'TOO_MANY_PENDING', fatal: true }]);
    }
    for (const p of ps.slice(2)) {
      p.send(hb({ requiresAck: true }));
      await p.until((x) => acked(x, 0), 2000, 'ACK on a kept connection');
    }
    expect(server.stats.counters.pending_evicted).toBe(2);
  });

  it('are closed sooner than the handshake timeout under pressure (half the bound in use)', async () => {
    const { url } = await serve({ maxPendingConnections: 4, maxPendingPerAddress: 4, pressureHandshakeMs: 150, handshakeTimeoutMs: 10_000 });
    const old = await peer(url);
    await new Promise((r) => setTimeout(r, 250));
    const t0 = performance.now();
    const fresh = await peer(url);
    const c = await old.closeWithin(2000);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(c.code).toBe(1013);
    expect(old.errors()[0]).toMatchObject({ code: 'TOO_MANY_PENDING' });
    expect(old.errors()[0]!.message).toMatch(/within 150 ms/);
    fresh.send(hb({ requiresAck: true }));
    await fresh.until((x) => acked(x, 0), 2000, 'ACK on the fresh connection');
  });
});

describe('shutdown and hooks', () => {
  it('tells every session, closes them with 1001, waits for the close hooks, then stops listening', async () => {
    let hookDone = 0;
    const { server, url } = await serve({}, {
      onSessionClose: async () => {
        await new Promise((r) => setTimeout(r, 100));
        hookDone++;
      },
    });
    const a = await peer(url);
    const b = await peer(url);
    await a.until(() => server.sessions.size === 2, 2000, 'two sessions');
    await server.stop();
    expect(hookDone).toBe(2);
    for (const p of [a, b]) {
      expect(await p.closeWithin()).toEqual({ code: 1001, reason: 'the server is shutting down' });
      expect(p.errors()).toMatchObject([{ code: 'SERVER_SHUTDOWN', fatal: true }]);
    }
    await expect(peer(url)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('shows the raw traffic both ways to the hooks, and survives a hook that throws', async () => {
    const inbound: Uint8Array[] = [];
    const outbound: Uint8Array[] = [];
    const { server, url } = await serve({ heartbeatMs: 100, deadPeerMs: 5000 }, {
      onInbound: (_id, bytes) => {
        inbound.push(Uint8Array.from(bytes));
        throw new Error('recorder broke');
      },
      onOutbound: (_id, bytes) => {
        outbound.push(Uint8Array.from(bytes));
      },
    });
    const p = await peer(url);
    const sent = encodePacket({ type: 'HEARTBEAT', priority: 3, sequence: 0, timestamp: 12.5, requiresAck: true });
    p.sendRaw(sent);
    await p.until((x) => acked(x, 0), 2000, 'ACK despite the throwing hook');
    expect(inbound).toEqual([Uint8Array.from(sent)]);
    expect(outbound.length).toBeGreaterThanOrEqual(1);
    expect(server.stats.counters.hook_errors).toBe(1);
  });
});
