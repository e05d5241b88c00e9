// The Moshi client refusing what is not a Moshi session, in words, at the first message:
// real servers on loopback (SolaceLive's with no engine, and a plain WebSocket server that
// speaks something else), no timeouts waited out.
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ClientError } from '../../src/client/client.ts';
import { connectMoshi, moshiQuery, moshiUrl } from '../../src/client/moshi.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { createServer, type SolaceServer } from '../../src/server/server.ts';
import type { ServerOptions } from '../../src/server/options.ts';

const servers: SolaceServer[] = [];
const others: WebSocketServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  await Promise.all(others.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(options: ServerOptions = {}): Promise<string> {
  const server = createServer({ host: '127.0.0.1', port: 0, noEngineReason: 'no weights in this test', ...options }, null);
  servers.push(server);
  return (await server.start()).url;
}

/** A WebSocket server that greets each client with `greeting`. */
async function other(greeting: Uint8Array | string): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  others.push(wss);
  wss.on('connection', (ws) => ws.send(greeting));
  await new Promise((r) => wss.once('listening', r));
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
}

async function refusal(p: Promise<unknown>): Promise<ClientError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ClientError);
  return err as ClientError;
}

describe('connectMoshi', () => {
  it('ws://host:port goes to /api/chat with the options in the query as Kyutai names them; a path is kept', () => {
    const u = moshiUrl('ws://127.0.0.1:8998', moshiQuery({ seed: 7, sampling: GREEDY, record: true }));
    expect(u.pathname).toBe('/api/chat');
    expect(Object.fromEntries(u.searchParams)).toEqual({
      text_temperature: '0', text_topk: '1', audio_temperature: '0', audio_topk: '1', text_seed: '7', audio_seed: '7', record: '1',
    });
    expect(moshiUrl('http://h:1/x/api/chat', moshiQuery({ seed: 1, audioSeed: 2 })).href).toBe('ws://h:1/x/api/chat?text_seed=1&audio_seed=2');
  });

  it('a SolaceLive packet server (any path but /api/chat) is named as such', async () => {
    const url = await serve();
    const err = await refusal(connectMoshi(`${url}/live`, { connectTimeoutMs: 30_000 }));
    expect(err.code).toBe('CLIENT_ERR_PROTOCOL');
    expect(err.message).toMatch(/\/live does not speak the Moshi protocol: it answered with SolaceLive packets \(HEARTBEAT\); a SolaceLive server speaks Moshi at \/api\/chat/);
  }, 40_000);

  it('a server greeting with a kind outside 0-7, or with text, is not Moshi, said at once', async () => {
    const t0 = performance.now();
    const a = await refusal(connectMoshi(await other(Uint8Array.of(0x30, 0x7b, 0x7d))));
    expect(a.code).toBe('CLIENT_ERR_PROTOCOL');
    expect(a.message).toMatch(/does not speak the Moshi protocol: message kind 48 \(a SolaceLive METADATA packet\?\) is not one of Moshi's 0-7/);
    const b = await refusal(connectMoshi(await other('hello')));
    expect(b.message).toMatch(/does not speak the Moshi protocol: it sent a text message \("hello"\)/);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('HTTP refusals carry the server\'s reason: 401 without the token, 403 for a foreign Origin', async () => {
    const url = await serve({ token: 'secret-1234' });
    const a = await refusal(connectMoshi(url));
    expect(a.code).toBe('CLIENT_ERR_HTTP_401');
    expect(a.message).toMatch(/\/api\/chat: server answered HTTP 401 Unauthorized \(unauthorized: send "Authorization: Bearer <token>"/);
    const b = await refusal(connectMoshi(url, { token: 'secret-1234', headers: { origin: 'http://evil.example' } }));
    expect(b.code).toBe('CLIENT_ERR_HTTP_403');
    expect(b.message).toMatch(/HTTP 403 Forbidden \(HTTP_ERR_ORIGIN: Origin "http:\/\/evil\.example" refused/);
  });

  it('a server with no engine: its 0x05 error becomes the error, with its code', async () => {
    const err = await refusal(connectMoshi(await serve()));
    expect(err.code).toBe('ENGINE_UNAVAILABLE');
    expect(err.message).toMatch(/^ENGINE_UNAVAILABLE: .*no weights in this test/);
  });

  it('no server: connection refused in words, with the errno for the CLI\'s hint', async () => {
    const s = createNetServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const { port } = s.address() as AddressInfo;
    await new Promise((r) => s.close(r));
    const err = await refusal(connectMoshi(`ws://127.0.0.1:${port}`));
    expect(err.code).toBe('CLIENT_ERR_CONNECT');
    expect(err.errno).toBe('ECONNREFUSED');
    expect(err.message).toBe(`ws://127.0.0.1:${port}/api/chat: no server is listening there (connection refused)`);
  });
});
