// Who the view server answers: serve's rules (src/server/request-guard.ts, auth.ts,
// options.ts). Loopback Host names only on a loopback bind, whatever spelling of loopback
// the bind uses; loopback browser Origins unless allowed; the token on every API request
// when there is one; and no non-loopback bind without a token.
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startViewServer, type ViewServer } from '../../../harness/view/index.ts';

const FIXTURE = new URL('../../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
const TOKEN = 'view-token-0123';

let root: string, sessions: string, dist: string;
const started: ViewServer[] = [];

async function start(o: { host?: string; token?: string | null; allowOrigins?: string[] } = {}): Promise<ViewServer> {
  const s = await startViewServer({ sessionsDir: sessions, port: 0, distDir: dist, ...o });
  started.push(s);
  return s;
}

function get(s: ViewServer, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // Connect to where it listens, whatever Host header the test sends.
    const req = request({ host: s.host, port: s.port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'view-access-'));
  sessions = join(root, 'sessions');
  await mkdir(sessions);
  await cp(FIXTURE, join(sessions, 'hello.session'), { recursive: true });
  dist = join(root, 'dist');
  await mkdir(dist);
  await writeFile(join(dist, 'index.html'), '<!doctype html><title>viewer</title>');
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('view server Host and Origin rules', () => {
  it.each(['127.0.0.1', '::1', '::ffff:127.0.0.1', '127.0.0.2'])('refuses a foreign Host on loopback bind %s', async (host) => {
    const s = await start({ host });
    const port = s.port;
    for (const h of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`]) {
      const r = await get(s, '/api/sessions', { host: h });
      expect(r.status, `${host} with Host ${h}`).toBe(403);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'HTTP_ERR_HOST' } });
    }
    expect((await get(s, '/', { host: 'evil.example' })).status).toBe(403);
    for (const h of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) expect((await get(s, '/api/sessions', { host: h })).status, h).toBe(200);
  });

  it('refuses browser Origins other than loopback ones unless allowed', async () => {
    const s = await start({ allowOrigins: ['https://viewer.example'] });
    const evil = await get(s, '/api/sessions', { origin: 'http://evil.example' });
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body)).toMatchObject({ error: { code: 'HTTP_ERR_ORIGIN' } });
    expect((await get(s, '/api/sessions', { origin: 'null' })).status).toBe(403);
    expect((await get(s, '/api/sessions', { origin: 'http://localhost:5173' })).status).toBe(200);
    expect((await get(s, '/api/sessions', { origin: 'https://viewer.example' })).status).toBe(200);
    expect((await get(s, '/api/sessions')).status).toBe(200); // no Origin: not a browser
  });
});

describe('view server token', () => {
  it('asks every API request for the token, as a header or ?token=, and serves the page without it', async () => {
    const s = await start({ token: TOKEN });
    const none = await get(s, '/api/sessions');
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toMatchObject({ error: { code: 'VIEW_ERR_TOKEN' } });
    expect((await get(s, '/api/sessions', { authorization: 'Bearer wrong-token-0000' })).status).toBe(401);
    expect((await get(s, '/api/sessions/hello.session/manifest.json')).status).toBe(401);
    expect((await get(s, '/api/sessions/hello.session/replay?token=nope-nope-nope')).status).toBe(401);
    expect((await get(s, '/api/sessions', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await get(s, `/api/sessions/hello.session/manifest.json?token=${TOKEN}`)).status).toBe(200);
    // The built page is public code; the page then sends the token on its API calls.
    expect((await get(s, '/')).status).toBe(200);
  });

  it('refuses a non-loopback bind without a token, and a short token', async () => {
    await expect(start({ host: '0.0.0.0' })).rejects.toMatchObject({ name: 'ServerOptionsError', code: 'SERVER_ERR_INSECURE_BIND' });
    await expect(start({ host: '::' })).rejects.toMatchObject({ code: 'SERVER_ERR_INSECURE_BIND' });
    await expect(start({ token: 'short' })).rejects.toMatchObject({ code: 'SERVER_ERR_OPTIONS' });
  });

  it('binds a non-loopback address with a token, and asks for it', async () => {
    const s = await start({ host: '0.0.0.0', token: TOKEN });
    const port = s.port;
    expect((await get(s, '/api/sessions', { host: `viewer.lan:${port}` })).status).toBe(401);
    expect((await get(s, '/api/sessions', { host: `viewer.lan:${port}`, authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });
});
