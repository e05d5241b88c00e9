// Faults on either side of the proxy, each over real loopback sockets: the upstream cannot be
// reached, refuses, never answers, closes mid-session or sends garbage; the client vanishes;
// either side floods a peer that does not read. Each ends with a report in the session and on
// the console, what was recorded opens in the session reader, and the proxy goes on serving.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMoshi } from '../../../src/client/moshi.ts';
import { encodeMoshi } from '../../../src/protocol/moshi/index.ts';
import { openSession } from '../../../harness/format/node.ts';
import { PROXY_FILE } from '../../../harness/format/index.ts';
import { startProxy, type ConnectionReport, type MoshiProxy, type ProxyOptions } from '../../../harness/proxy/index.ts';
import { testFrames } from '../../server/live/engine.ts';
import { startTestUpstream, type TestUpstream } from './moshi-upstream.ts';

const dir = mkdtempSync(join(tmpdir(), 'solacelive-proxy-faults-'));
let up: TestUpstream;
const proxies: MoshiProxy[] = [];
const logs: string[] = [];
let main: MoshiProxy;
let silentTcp: TcpServer;
const held: Socket[] = [];

async function proxyFor(upstream: string, o: Partial<ProxyOptions> = {}): Promise<MoshiProxy> {
  const p = await startProxy({ upstream, record: dir, log: (l) => logs.push(l), ...o });
  proxies.push(p);
  return p;
}

beforeAll(async () => {
  up = await startTestUpstream();
  main = await proxyFor(up.url, { maxBufferedBytes: 1024 * 1024, closeGraceMs: 500 });
  silentTcp = createTcpServer((s) => held.push(s));
  await new Promise<void>((r) => silentTcp.listen(0, '127.0.0.1', () => r()));
});
afterAll(async () => {
  for (const s of held) s.destroy();
  await Promise.all(proxies.map((p) => p.close()));
  silentTcp.close();
  await up?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function reportOf(p: MoshiProxy, before: number): Promise<ConnectionReport> {
  const deadline = performance.now() + 15_000;
  while (p.reports.length <= before) {
    if (performance.now() > deadline) throw new Error(`no report:\n${logs.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return p.reports[before]!;
}

/** The session folder opens, is whole, and its proxy.json holds the figures reported. */
async function expectReadable(r: ConnectionReport): Promise<void> {
  const s = await openSession(r.path!, { strict: true });
  expect(s.manifest.status).toBe('complete');
  const file = JSON.parse(readFileSync(join(r.path!, PROXY_FILE), 'utf8')) as { figures: unknown };
  expect(file.figures).toEqual(JSON.parse(JSON.stringify(r.figures)));
}

/** A normal session still goes through `p` after a fault. */
async function expectServing(p: MoshiProxy): Promise<void> {
  const before = p.reports.length;
  const c = await connectMoshi(`${p.url}/api/chat`);
  const res = await c.run(testFrames(6, 1));
  expect(res.ok).toBe(true);
  expect((await reportOf(p, before)).figures.lag.count).toBe(5);
}

async function refusedWith(url: string): Promise<{ code: string; message: string }> {
  return connectMoshi(url).then(() => ({ code: 'connected', message: '' }), (e: { code: string; message: string }) => ({ code: e.code, message: e.message }));
}

describe('who may connect to the proxy', () => {
  it("serve's Host and Origin rules: a foreign page or Host name is refused (403) before anything goes upstream", async () => {
    const before = up.received.length;
    const origin = await connectMoshi(`${main.url}/api/chat`, { headers: { origin: 'https://evil.example' } }).then(() => null, (e: { code: string; message: string }) => e);
    expect(origin?.code).toBe('CLIENT_ERR_HTTP_403');
    expect(origin?.message).toMatch(/HTTP_ERR_ORIGIN/);
    const host = await connectMoshi(`${main.url}/api/chat`, { headers: { host: 'evil.example' } }).then(() => null, (e: { code: string; message: string }) => e);
    expect(host?.code).toBe('CLIENT_ERR_HTTP_403');
    expect(host?.message).toMatch(/HTTP_ERR_HOST/);
    expect(up.received.length).toBe(before);
    expect(logs.filter((l) => /refused a connection: HTTP_ERR_(ORIGIN|HOST)/.test(l))).toHaveLength(2);
    await expectServing(main);
  }, 30_000);
});

describe('upstream faults before the WebSocket', () => {
  it('an unreachable upstream: the client gets HTTP 502 naming it; the session says so', async () => {
    const dead = createTcpServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const port = (dead.address() as { port: number }).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const p = await proxyFor(`ws://127.0.0.1:${port}/api/chat`);
    const e = await refusedWith(`${p.url}/api/chat`);
    expect(e.code).toBe('CLIENT_ERR_HTTP_502');
    expect(e.message).toMatch(/no server is listening/);
    const r = await reportOf(p, 0);
    expect(r.figures.events[0]).toMatchObject({ kind: 'upstream-unreachable', code: 502 });
    expect(r.figures.end).toMatchObject({ by: 'proxy', code: 502 });
    expect(logs.some((l) => l.includes('upstream-unreachable'))).toBe(true);
    await expectReadable(r);
  });

  it('a refusing upstream: its HTTP status and reason are passed on', async () => {
    const p = await proxyFor(up.url.replace('/api/chat', '/refuse/403'));
    const e = await refusedWith(`${p.url}/api/chat`);
    expect(e.code).toBe('CLIENT_ERR_HTTP_403');
    expect(e.message).toMatch(/TEST_REFUSED: go away/);
    const r = await reportOf(p, 0);
    expect(r.figures.events[0]).toMatchObject({ kind: 'upstream-refused', code: 403 });
    await expectReadable(r);
  });

  it('an upstream that accepts TCP and never answers: HTTP 504 after the upstream timeout', async () => {
    const p = await proxyFor(`ws://127.0.0.1:${(silentTcp.address() as { port: number }).port}/api/chat`, { upstreamTimeoutMs: 400 });
    const e = await refusedWith(`${p.url}/api/chat`);
    expect(e.code).toBe('CLIENT_ERR_HTTP_504');
    const r = await reportOf(p, 0);
    expect(r.figures.events[0]).toMatchObject({ kind: 'upstream-timeout', code: 504 });
    await expectReadable(r);
  });
});

describe('the client leaves early', () => {
  it('before the upstream answered: the upstream attempt is dropped, the report says the client left', async () => {
    const p = await proxyFor(`ws://127.0.0.1:${(silentTcp.address() as { port: number }).port}/api/chat`, { upstreamTimeoutMs: 20_000 });
    const ws = new WebSocket(`${p.url}/api/chat`);
    ws.on('error', () => undefined);
    const heldBefore = held.length;
    while (held.length === heldBefore) await new Promise((r) => setTimeout(r, 20)); // the proxy reached the upstream
    ws.terminate();
    const r = await reportOf(p, 0);
    expect(r.figures.end).toMatchObject({ by: 'client', code: 1006 });
    await expectReadable(r);
  }, 30_000);
});

describe('faults during a session', () => {
  it('the upstream closes mid-session: the client gets its close code, the report says who closed and what went unanswered', async () => {
    const before = main.reports.length;
    const c = await connectMoshi(`${main.url}/api/chat`, { query: { closeAt: 10, closeCode: 1011 } });
    const res = await c.run(testFrames(30, 2));
    expect(res.close.code).toBe(1011);
    const r = await reportOf(main, before);
    expect(r.figures.end).toMatchObject({ by: 'server', code: 1011, reason: 'test upstream closes' });
    expect(r.figures.client.audioFrames).toBeGreaterThanOrEqual(10);
    expect(r.figures.missing.count).toBeGreaterThan(0);
    await expectReadable(r);
    await expectServing(main);
  }, 30_000);

  it('garbage from the upstream is forwarded as is and reported: a text frame, an unknown kind, undecodable audio', async () => {
    const before = main.reports.length;
    const c = await connectMoshi(`${main.url}/api/chat`, { query: { garbage: 1 } });
    // The client's own decoder stops at the broken page too, so it cannot wait for its replies: it closes after a while.
    await c.stream(testFrames(8, 2));
    await c.settle({ maxWaitMs: 1000 });
    const res = c.result();
    expect(res.ignored).toBeGreaterThanOrEqual(1); // the client saw the unknown kind: forwarded
    const r = await reportOf(main, before);
    const kinds = r.figures.events.map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['not-moshi', 'unknown-kind', 'audio-undecodable']));
    expect(r.figures.server.audioError).toMatch(/\S/);
    expect(r.figures.server.byKind['text-frame']).toBe(1);
    await expectReadable(r);
    await expectServing(main);
  }, 30_000);

  it('the client vanishes (its socket destroyed): the proxy closes upstream and reports 1006 from the client', async () => {
    const before = main.reports.length;
    const ws = new WebSocket(`${main.url}/api/chat`);
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (d: Buffer) => d[0] === 0 && resolve());
      ws.on('error', reject);
    });
    (ws as unknown as { _socket: Socket })._socket.destroy();
    const r = await reportOf(main, before);
    expect(r.figures.end).toMatchObject({ by: 'client', code: 1006 });
    await expectReadable(r);
    await expectServing(main);
  }, 30_000);

  it('the upstream floods a client that does not read: the proxy closes the connection (1013) saying so', async () => {
    const before = main.reports.length;
    const ws = new WebSocket(`${main.url}/api/chat?flood=${64 * 1024 * 1024}`);
    ws.on('open', () => (ws as unknown as { _socket: Socket })._socket.pause());
    ws.on('error', () => undefined);
    const r = await reportOf(main, before);
    expect(r.figures.events.map((e) => e.kind)).toContain('client-not-reading');
    expect(r.figures.end).toMatchObject({ by: 'proxy', code: 1013 });
    expect(logs.some((l) => /the client is not reading/.test(l))).toBe(true);
    ws.terminate();
    await expectReadable(r);
    await expectServing(main);
  }, 60_000);

  it('a client floods an upstream that does not read: the proxy closes the connection (1013) saying so', async () => {
    const before = main.reports.length;
    const ws = new WebSocket(`${main.url}/api/chat?noread=1`);
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('error', () => undefined);
    await new Promise<void>((resolve) => ws.on('message', (d: Buffer) => d[0] === 0 && resolve()));
    const junk = encodeMoshi({ kind: 'audio', data: new Uint8Array(256 * 1024) });
    for (let i = 0; i < 256 && ws.readyState === WebSocket.OPEN; i++) {
      ws.send(junk);
      await new Promise((r) => setImmediate(r));
    }
    expect(await closed).toBe(1013);
    const r = await reportOf(main, before);
    expect(r.figures.events.map((e) => e.kind)).toContain('server-not-reading');
    await expectReadable(r);
    await expectServing(main);
  }, 60_000);
});
