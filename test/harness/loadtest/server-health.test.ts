// The load test's read of the server's own /health: a SolaceLive server's figures come back
// (session cost, admission capacity, workers' CPU and step p99, e2e p99); any other server
// (no /health, another JSON shape, not JSON, nothing listening) gives why not, never a throw.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../deploy/haproxy.ts';
import { healthUrl, parseTarget, readServerHealth, serverLine } from '../../../harness/loadtest/index.ts';

let http: Server;
let port: number;
let current = '';
const bodies: Record<string, { status: number; type: string; body: string }> = {};

beforeAll(async () => {
  http = createServer((req, res) => {
    const b = bodies[current] ?? { status: 404, type: 'text/plain', body: 'not found' };
    res.writeHead(req.url === '/health' ? b.status : 404, { 'content-type': b.type });
    res.end(b.body);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  port = (http.address() as { port: number }).port;
});
afterAll(() => http?.close());

const serve = (name: string, status: number, type: string, body: string) => {
  bodies[name] = { status, type, body };
  current = name;
};

describe('readServerHealth', () => {
  it('reads /health on the target\'s host and port over http, whatever the WebSocket path', () => {
    expect(healthUrl(parseTarget(`ws://127.0.0.1:${port}`, 'moshi'))).toBe(`http://127.0.0.1:${port}/health`);
    expect(healthUrl(parseTarget('wss://example.org/x?token=1', 'solacelive'))).toBe('https://example.org/health');
  });

  it('a SolaceLive /health: its figures, and a line naming them', async () => {
    serve('solace', 200, 'application/json', JSON.stringify({
      admission: { costMs: 41.5, capacity: 3 },
      engine: { workers: [{ cpu: 0.52, stepP99Ms: 44 }, { cpu: null, stepP99Ms: null }] },
      spans: { e2e: { p99: 61 }, 'step.total': { p99: 47 } },
    }));
    const h = await readServerHealth(parseTarget(`ws://127.0.0.1:${port}`, 'moshi'));
    expect('figures' in h, JSON.stringify(h)).toBe(true);
    const f = (h as { figures: Parameters<typeof serverLine>[0] }).figures;
    expect(f).toMatchObject({ sessionCostMs: 41.5, admissionCapacity: 3, workerCpu: [0.52, null], workerStepP99Ms: [44, null], e2eP99Ms: 61, stepTotalP99Ms: 47 });
    expect(serverLine(f)).toBe('server /health: session cost 41.5 ms/step, admission capacity 3, worker cpu 0.52/-, worker step p99 44/- ms, e2e p99 61 ms, step.total p99 47 ms');
  });

  it('another server: 404, another JSON shape, not JSON, nothing listening: why, not an error', async () => {
    const target = parseTarget(`ws://127.0.0.1:${port}`, 'moshi');
    serve('404', 404, 'text/plain', 'no');
    expect(await readServerHealth(target)).toEqual({ none: `http://127.0.0.1:${port}/health answered HTTP 404` });
    serve('other', 200, 'application/json', JSON.stringify({ status: 'ok' }));
    expect(await readServerHealth(target)).toEqual({ none: `http://127.0.0.1:${port}/health is not a SolaceLive /health (no spans and engine workers)` });
    serve('html', 200, 'text/html', '<html>hi</html>');
    expect(await readServerHealth(target)).toEqual({ none: `http://127.0.0.1:${port}/health did not answer JSON` });
    const off = await freePort();
    const none = await readServerHealth(parseTarget(`ws://127.0.0.1:${off}`, 'moshi'));
    expect('none' in none && none.none).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${off}/health: `));
  });
});
