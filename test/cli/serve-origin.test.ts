// `solacelive serve --allow-origin` as a user runs it: the flag reaches the server (a page
// from that origin connects, another does not), and a value that is no origin is refused.
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CliProcesses } from '../cli-process.ts';

const cli = new CliProcesses();
afterAll(() => cli.killAll());

function upgrade(url: string, origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { origin } });
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

describe('serve --allow-origin', () => {
  it('lets pages from the given origin (and loopback ones) connect, and no others', async () => {
    const { child: serve, url } = await cli.serve(['--port', '0', '--allow-origin', 'https://moshi.example.com']);
    expect(await upgrade(url, 'https://moshi.example.com')).toBe(101);
    expect(await upgrade(url, 'http://localhost:5173')).toBe(101);
    expect(await upgrade(url, 'https://evil.example')).toBe(403);
    serve.kill('SIGINT');
  });

  it('refuses a value that is not an origin, naming it', async () => {
    const r = await cli.run(['serve', '--port', '0', '--allow-origin', 'moshi.example.com'], 30_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--allow-origin "moshi\.example\.com" is not an origin/);
  });
});
