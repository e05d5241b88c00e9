// The packet client refused over HTTP (before any WebSocket): the server's reason is in the
// error, as the Moshi client gives it.
import { afterEach, describe, expect, it } from 'vitest';
import { ClientError } from '../../src/client/client.ts';
import { connect } from '../../src/client/connect.ts';
import { createServer, type SolaceServer } from '../../src/server/server.ts';

const servers: SolaceServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('connect refused over HTTP', () => {
  it('a wrong token: HTTP 401 with the server\'s reason', async () => {
    const server = createServer({ host: '127.0.0.1', port: 0, token: 'secret-1234', noEngineReason: 'no weights in this test' }, null);
    servers.push(server);
    const { url } = await server.start();
    const err = await connect(url, { token: 'wrong-token-5678' }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe('CLIENT_ERR_HTTP_401');
    expect((err as ClientError).message).toMatch(/server answered HTTP 401 Unauthorized \(unauthorized: send "Authorization: Bearer <token>" or \?token=<token>\)$/);
  });
});
