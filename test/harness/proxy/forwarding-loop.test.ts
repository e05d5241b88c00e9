// The proxy's forwarding loop only stamps, forwards and hands a copy on: measuring, decoding
// and recording run in its measuring worker. Pinned by making that worker slow on purpose
// (testMeasureBurnMs: CPU burnt per message) far beyond what real decoding costs: messages
// still cross the proxy promptly and in order both ways; when the worker falls behind by more
// than maxMeasureBacklog, the report and the console say measuring stopped; when the worker
// dies, the report says so and forwarding goes on; when it hangs (alive, doing nothing with work
// waiting), the watchdog terminates it and says so, and a slow worker is not taken for a hung
// one. Real sockets on loopback.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMoshi, decodeMoshi } from '../../../src/protocol/moshi/index.ts';
import { openSession } from '../../../harness/format/node.ts';
import { startProxy, type ConnectionReport, type MoshiProxy, type ProxyOptions } from '../../../harness/proxy/index.ts';

const EVERY_MS = 20;
const COUNT = 40;
const BURN_MS = 50;
/** The watchdog's bound in these tests: 20 of the slow worker's messages. */
const HANG_MS = 20 * BURN_MS;

/** An upstream that stamps each client message's arrival and sends COUNT numbered text messages, one every EVERY_MS. */
let http: Server;
let upstreamUrl: string;
interface Stamp { readonly seq: number; readonly t: number }
let upRx: Stamp[] = [];
let upTx: Stamp[] = [];
const dir = mkdtempSync(join(tmpdir(), 'solacelive-proxy-loop-'));
const proxies: MoshiProxy[] = [];
const logs: string[] = [];

beforeAll(async () => {
  http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    ws.send(encodeMoshi({ kind: 'handshake', payload: new Uint8Array([0, 0]) }));
    ws.on('message', (d: Buffer) => upRx.push({ seq: seqOf(d), t: performance.now() }));
    let k = 0;
    const t0 = performance.now();
    const tick = () => {
      if (ws.readyState !== WebSocket.OPEN || k >= COUNT) return;
      upTx.push({ seq: k, t: performance.now() });
      ws.send(encodeMoshi({ kind: 'text', text: String(k++) }));
      setTimeout(tick, Math.max(0, t0 + k * EVERY_MS - performance.now()));
    };
    setTimeout(tick, EVERY_MS / 2);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  upstreamUrl = `ws://127.0.0.1:${(http.address() as { port: number }).port}/api/chat`;
});
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await new Promise((r) => http.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const seqOf = (d: Buffer): number => {
  const m = decodeMoshi(d);
  return m.kind === 'text' ? Number(m.text) : -1;
};

async function proxyWith(o: Partial<ProxyOptions>): Promise<MoshiProxy> {
  const p = await startProxy({ upstream: upstreamUrl, record: dir, log: (l) => logs.push(l), ...o });
  proxies.push(p);
  return p;
}

async function reportOf(p: MoshiProxy, before: number): Promise<ConnectionReport> {
  const deadline = performance.now() + 30_000;
  while (p.reports.length <= before) {
    if (performance.now() > deadline) throw new Error(`no report:\n${logs.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return p.reports[before]!;
}

interface Run { readonly up: number[]; readonly down: number[]; readonly upSeq: number[]; readonly downSeq: number[] }

/** One connection through `p`: COUNT numbered messages each way, one every EVERY_MS; one-way delays by sequence number. */
async function converse(p: MoshiProxy): Promise<Run> {
  upRx = [];
  upTx = [];
  const tx: Stamp[] = [];
  const rx: Stamp[] = [];
  const ws = new WebSocket(`${p.url}/api/chat`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (d: Buffer) => (d[0] === 0 ? resolve() : rx.push({ seq: seqOf(d), t: performance.now() })));
    ws.on('error', reject);
  });
  const t0 = performance.now();
  for (let k = 0; k < COUNT; k++) {
    const wait = t0 + k * EVERY_MS - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    tx.push({ seq: k, t: performance.now() });
    ws.send(encodeMoshi({ kind: 'text', text: String(k) }));
  }
  const deadline = performance.now() + 5000;
  while ((upRx.length < COUNT || rx.length < COUNT) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  ws.close();
  await new Promise((r) => ws.once('close', r));
  const delays = (sent: Stamp[], got: Stamp[]) => got.map((g) => g.t - sent.find((s) => s.seq === g.seq)!.t);
  return { up: delays(tx, upRx), down: delays(upTx, rx), upSeq: upRx.map((s) => s.seq), downSeq: rx.map((s) => s.seq) };
}

/** This process's threads' nice values (Linux /proc; empty elsewhere). */
function threadNices(): number[] {
  if (!existsSync('/proc/self/task')) return [];
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      return [Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16])];
    } catch {
      return []; // the thread ended meanwhile
    }
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const inOrder = Array.from({ length: COUNT }, (_, k) => k);


/** The proxy's second connection, after its first worker failed: forwarded in order and measured whole by a fresh worker. */
async function measuredAgain(p: MoshiProxy): Promise<void> {
  const again = await converse(p);
  expect(again.upSeq).toEqual(inOrder);
  const r = await reportOf(p, 1);
  expect(r.figures.client.messages).toBe(COUNT);
  expect(r.figures.events).toEqual([]);
  expect(r.recording?.status).toBe('complete');
}
describe('the forwarding loop does not measure', () => {
  it(`a measuring worker burning ${BURN_MS} ms a message (4x slower than the traffic) leaves forwarding prompt and in order; every message is still measured, and the watchdog does not take it for hung`, async () => {
    // Behind for seconds (COUNT*2 messages * BURN_MS of work for COUNT*EVERY_MS of traffic), yet progressing every BURN_MS: only "no progress at all" may trip.
    const p = await proxyWith({ testMeasureBurnMs: BURN_MS, measureHangMs: HANG_MS });
    const run = await converse(p);
    expect(run.upSeq).toEqual(inOrder);
    expect(run.downSeq).toEqual(inOrder);
    // Measuring on the forwarding loop makes a message wait for the one being measured: ~BURN_MS/2 on average.
    expect(median(run.up), JSON.stringify(run.up)).toBeLessThan(BURN_MS / 5);
    expect(median(run.down), JSON.stringify(run.down)).toBeLessThan(BURN_MS / 5);
    const r = await reportOf(p, 0);
    expect(r.figures.client.messages).toBe(COUNT);
    expect(r.figures.server.messages).toBe(COUNT + 1);
    expect(r.figures.text.pieces.map((x) => x.text)).toEqual(inOrder.map(String));
    expect(r.figures.events.filter((e) => e.kind === 'measure-backlog' || e.kind === 'measure-worker-hung')).toEqual([]);
    expect(r.recording?.status).toBe('complete');
    expect(logs.some((l) => /measuring worker hung/.test(l))).toBe(false);
  }, 60_000);

  it('where nice is per thread (Linux), the measuring worker runs at nice 10 (or the nicer one it had) and forwarding keeps its priority', async () => {
    const mine = getPriority();
    const worker = Math.max(10, mine);
    const before = threadNices().filter((n) => n === worker).length;
    await proxyWith({});
    const after = threadNices().filter((n) => n === worker).length;
    expect(after - before).toBe(existsSync('/proc/thread-self') ? 1 : 0);
    expect(getPriority()).toBe(mine);
  });

  it('a worker more than maxMeasureBacklog messages behind: measuring stops for that connection, the report and the console say so, forwarding goes on', async () => {
    const p = await proxyWith({ testMeasureBurnMs: BURN_MS, maxMeasureBacklog: 10 });
    const run = await converse(p);
    expect(run.upSeq).toEqual(inOrder);
    expect(run.downSeq).toEqual(inOrder);
    expect(median(run.up), JSON.stringify(run.up)).toBeLessThan(BURN_MS / 5);
    expect(median(run.down), JSON.stringify(run.down)).toBeLessThan(BURN_MS / 5);
    const r = await reportOf(p, 0);
    const backlog = r.figures.events.filter((e) => e.kind === 'measure-backlog');
    expect(backlog).toHaveLength(1);
    expect(backlog[0]!.message).toMatch(/more than 10 messages behind/);
    expect(r.figures.client.messages + r.figures.server.messages).toBeLessThan(2 * COUNT);
    expect(logs.some((l) => l.includes(`[proxy ${r.id}]`) && /measuring stopped/.test(l))).toBe(true);
    // What was recorded up to there stays readable.
    expect((await openSession(r.path!, { strict: true })).manifest.status).toBe('complete');
  }, 60_000);

  it('the bound in bytes as well: a worker more than maxMeasureBacklogBytes behind stops measuring the connection, saying so', async () => {
    const p = await proxyWith({ testMeasureBurnMs: BURN_MS, maxMeasureBacklogBytes: 64 });
    const run = await converse(p);
    expect(run.upSeq).toEqual(inOrder);
    expect(run.downSeq).toEqual(inOrder);
    const r = await reportOf(p, 0);
    const backlog = r.figures.events.filter((e) => e.kind === 'measure-backlog');
    expect(backlog).toHaveLength(1);
    expect(backlog[0]!.message).toMatch(/more than 64 bytes behind/);
  }, 60_000);

  it('a measuring worker that dies: logged, the open connection keeps forwarding and its report says measuring failed; the next connection is measured again', async () => {
    const p = await proxyWith({ testMeasureCrashAt: 5 });
    const run = await converse(p);
    expect(run.upSeq).toEqual(inOrder);
    expect(run.downSeq).toEqual(inOrder);
    const r = await reportOf(p, 0);
    expect(r.figures.events.some((e) => e.kind === 'measure-worker-failed' && /test crash/.test(e.message))).toBe(true);
    expect(r.recording).toMatchObject({ status: 'failed', error: { code: 'PROXY_ERR_MEASURE_WORKER' } });
    expect(r.figures.end).not.toBeNull();
    expect(logs.some((l) => /measuring worker failed/.test(l) && /test crash/.test(l))).toBe(true);
    // A fresh worker measures the next connection (the crash hook is the first worker's only).
    await measuredAgain(p);
  }, 60_000);

  it('a measuring worker that hangs (alive, no progress with work waiting): the watchdog logs and terminates it, the open connection keeps forwarding and its report says it hung; the next connection gets a fresh worker', async () => {
    const p = await proxyWith({ testMeasureHangAt: 5, measureHangMs: HANG_MS });
    const run = await converse(p);
    expect(run.upSeq).toEqual(inOrder);
    expect(run.downSeq).toEqual(inOrder);
    const r = await reportOf(p, 0);
    const hung = r.figures.events.filter((e) => e.kind === 'measure-worker-hung');
    expect(hung, JSON.stringify(r.figures.events)).toHaveLength(1);
    expect(hung[0]!.message).toMatch(new RegExp(`no progress for \\d+ ms .*bound ${HANG_MS} ms`));
    expect(r.recording).toMatchObject({ status: 'failed', error: { code: 'PROXY_ERR_MEASURE_WORKER_HUNG' } });
    expect(r.figures.end).not.toBeNull();
    expect(logs.some((l) => /measuring worker hung/.test(l))).toBe(true);
    // The stuck thread is gone, not only abandoned.
    const deadline = performance.now() + 10_000;
    while (!logs.some((l) => /hung measuring worker terminated/.test(l)) && performance.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(logs.some((l) => /hung measuring worker terminated/.test(l))).toBe(true);
    // A fresh worker measures the next connection (the hang hook is the first worker's only).
    await measuredAgain(p);
  }, 60_000);

  it('a measuring worker that never becomes ready: the proxy does not wait on it for ever, it refuses to start, naming why', async () => {
    const started = startProxy({ upstream: upstreamUrl, log: (l) => logs.push(l), testMeasureHangAtStart: true, measureHangMs: HANG_MS });
    // Stopped if it ever starts, so the test leaves nothing running.
    void started.then((p) => p.close(), () => undefined);
    await expect(started).rejects.toMatchObject({ code: 'PROXY_ERR_MEASURE_WORKER', message: expect.stringMatching(new RegExp(`did not become ready within ${HANG_MS} ms`)) });
  }, 30_000);
});
