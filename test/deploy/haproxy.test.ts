// Scale-out behind HAProxy, as a user runs it: the shipped deploy/haproxy.cfg (only its
// addresses substituted) in front of two real `solacelive serve --engines 1` processes on
// loopback, recording into one shared folder. Sessions spread over both; one server killed
// (SIGKILL) drops its own sessions only, new sessions go to the survivor, the health check
// takes the dead server out and puts it back when it is restarted on the same port (and a
// server whose /health says 503 is kept out until it says 200); a server that is full (its
// admission would refuse the next session) is taken out while its sessions go on through
// their tunnels, and put back once it has room; the recordings of both servers are one list in `view`.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, startHaproxy, type RunningHaproxy } from '../../deploy/haproxy.ts';
import { startViewServer } from '../../harness/view/index.ts';
import { connect } from '../../src/client/connect.ts';
import type { SessionResult, SolaceClient } from '../../src/client/client.ts';
import { CliProcesses } from '../cli-process.ts';

const cli = new CliProcesses();
let dir: string;
let recordDir: string;
let haproxy: RunningHaproxy | null = null;
const ports: Record<string, number> = {};
const servers: Record<string, { child: ChildProcess; log: () => string }> = {};

/**
 * Routing and failover are under test here, not admission: a fixed session bound, so the
 * measured-cost admission (which on a loaded machine holds 3 tiny sessions per worker) does not
 * refuse the sessions this test spreads and moves.
 */
const ADMIT = ['--admission', 'max-sessions', '--max-sessions', '16'];

/** `solacelive serve` for server `name` on its fixed port (a restart takes the same one), model loaded. */
async function serve(name: string): Promise<void> {
  const s = await cli.serve(['--port', String(ports[name]), '--engines', '1', ...ADMIT, '--record', recordDir], 90_000, true);
  servers[name] = s;
}

async function health(name: string): Promise<{ status: string; sessions: { active: number; list: { id: string }[] } }> {
  const res = await fetch(`http://127.0.0.1:${ports[name]}/health`);
  return (await res.json()) as never;
}

/** Which server holds each of these session ids, from the servers' own /health. */
async function whereAre(ids: readonly string[], names: readonly string[]): Promise<Record<string, string>> {
  const at: Record<string, string> = {};
  for (const n of names) for (const s of (await health(n)).sessions.list) if (ids.includes(s.id)) at[s.id] = n;
  return at;
}

/** A frame of a quiet tone. */
function frames(n: number): Float32Array[] {
  return Array.from({ length: n }, (_, k) => Float32Array.from({ length: 1920 }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 220 * (k * 1920 + i)) / 24000)));
}

/**
 * Opens `n` sessions through HAProxy one after another, each streaming `count` frames from the
 * moment it is ready and ending right after (a real-time session is stepped on time whether its
 * client sends or not: an idle client gets silent steps for its missing frames). One after
 * another because leastconn counts a connection on its server only after choosing it: two
 * connections at once, on HAProxy's two threads, can both be sent to the same least-loaded server
 * (seen once in CI). A connect resolves on 'ready', by which time its server counts it, so each
 * next choice sees the ones before. Resolves once all are open; `results` once all have ended.
 */
async function open(n: number, count: number, url = haproxy!.url): Promise<{ clients: SolaceClient[]; results: Promise<SessionResult[]> }> {
  const opened: { c: SolaceClient; result: Promise<SessionResult> }[] = [];
  for (let i = 0; i < n; i++) {
    const c = await connect(url, { seed: i + 1, pace: 'realtime', connectTimeoutMs: 30_000 });
    opened.push({ c, result: c.stream(frames(count)).then(() => c.end()) });
  }
  return { clients: opened.map((o) => o.c), results: Promise.all(opened.map((o) => o.result)) };
}

/**
 * Went on to a normal end: every frame sent was answered with audio (all but the warm-up step's)
 * and the server closed with 1000. Not `ok`: under load a late frame is stepped as silence and
 * answered too, which `ok` (answers == frames) counts against the session.
 */
function wentOn(r: SessionResult): void {
  expect(r.close.code, `${r.session}: ${JSON.stringify(r.close)}`).toBe(1000);
  expect(r.ended, r.session).not.toBeNull();
  expect(r.audioFrames, r.session).toBeGreaterThanOrEqual(r.framesSent - 1);
}

const recordedIn = (name: string) => [...servers[name]!.log().matchAll(/session recorded: (\S+)/g)].map((m) => m[1]!);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'haproxy-test-'));
  recordDir = join(dir, 'sessions');
  ports.s1 = await freePort();
  ports.s2 = await freePort();
  await Promise.all([serve('s1'), serve('s2')]);
  haproxy = await startHaproxy({ bind: `127.0.0.1:${await freePort()}`, servers: { s1: `127.0.0.1:${ports.s1}`, s2: `127.0.0.1:${ports.s2}` }, stats: `127.0.0.1:${await freePort()}` });
  await haproxy.waitFor((s) => s.s1?.status === 'UP' && s.s2?.status === 'UP', 20_000, 'both servers UP');
}, 180_000);

afterAll(async () => {
  await haproxy?.stop();
  cli.killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('two solacelive serve behind the shipped HAProxy config', () => {
  it('spreads sessions over both servers, survives the loss of one, and takes it back when it returns', async () => {
    const N = 2;
    // 2N sessions, one after another: leastconn gives each server N.
    const { clients: first, results: firstResults } = await open(2 * N, 25);
    const ids = first.map((c) => c.session);
    const at = await whereAre(ids, ['s1', 's2']);
    expect(Object.keys(at)).toHaveLength(2 * N);
    expect(Object.values(at).filter((n) => n === 's1')).toHaveLength(N);
    expect(Object.values(at).filter((n) => n === 's2')).toHaveLength(N);

    // Everyone streams for a while, then s2 dies mid-session.
    await new Promise((r) => setTimeout(r, 800));
    const exited = new Promise((r) => servers.s2!.child.once('exit', r));
    servers.s2!.child.kill('SIGKILL');
    await exited;
    // New sessions right away, while HAProxy still has s2 in rotation (two failed checks, at least
    // 500 ms apart, take it out) and leastconn prefers it (fewer connections): its refused
    // connections are retried on the survivor (retries + redispatch), unseen by the clients.
    expect((await haproxy!.states()).s2!.status).toMatch(/^UP/);
    const { clients: during, results: duringResults } = await open(2, 25);
    expect(Object.values(await whereAre(during.map((c) => c.session), ['s1']))).toEqual(['s1', 's1']);
    for (const r of await duringResults) wentOn(r);
    const results = await firstResults;
    for (const r of results) {
      if (at[r.session] === 's2') {
        // HAProxy cannot send a WebSocket close frame for a dead server: it closes the client's
        // TCP connection, which the client sees as 1006 (closed without a close frame).
        expect(r.close.code).toBe(1006);
        expect(r.ok).toBe(false);
      } else {
        wentOn(r);
      }
    }

    // The health check takes the dead server out, and has the survivor in rotation: with its
    // sessions ended it can take more (while they ran it was out if they fell behind, as a
    // loaded machine makes four sessions on one engine do: /health 503 "degraded").
    const down = await haproxy!.waitFor((s) => s.s2?.status === 'DOWN' && s.s1?.status === 'UP', 15_000, 's2 DOWN, s1 UP');
    expect(down.s2!.check).toMatch(/^L4/); // its TCP connect is refused

    // ...and puts it back once it is restarted on the same port and its /health says 200.
    await serve('s2');
    await haproxy!.waitFor((s) => s.s2?.status === 'UP', 20_000, 's2 UP again');
    await haproxy!.waitFor((s) => s.s1?.current === 0 && s.s2?.current === 0, 10_000, 'no tunnels left open');
    const { clients: after, results: afterResults } = await open(2, 25);
    const back = await whereAre(after.map((c) => c.session), ['s1', 's2']);
    expect(Object.values(back).sort()).toEqual(['s1', 's2']);
    for (const r of await afterResults) wentOn(r);

    // Both servers recorded into one folder, and `view` lists every session once, whichever
    // server had it (s2's killed sessions too, as cut short).
    const all = [...ids, ...during.map((c) => c.session), ...after.map((c) => c.session)];
    const deadline = performance.now() + 15_000;
    while ((recordedIn('s1').length < N + 2 + 1 || recordedIn('s2').length < 1) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(recordedIn('s1').length).toBeGreaterThanOrEqual(N + 2 + 1);
    expect(recordedIn('s2').length).toBeGreaterThanOrEqual(1);
    const view = await startViewServer({ sessionsDir: recordDir, port: 0, distDir: join(dir, 'no-dist') });
    try {
      const { sessions: list } = (await (await fetch(`${view.url}/api/sessions`)).json()) as { sessions: { name: string; error: unknown }[] };
      for (const id of all) expect(list.filter((e) => e.name.includes(id)), id).toHaveLength(1);
      expect(list).toHaveLength(all.length);
      // Whole sessions read cleanly; only those cut short by the kill may say so.
      const killed = ids.filter((id) => at[id] === 's2');
      for (const e of list) if (!killed.some((id) => e.name.includes(id))) expect(e.error, e.name).toBeNull();
    } finally {
      await view.close();
    }
  }, 240_000);

  it("takes a server whose /health says 503 out of rotation, and puts it back once it says 200", async () => {
    // s3 listens but cannot serve (no such model): /health 503, status degraded.
    const port = await freePort();
    const degraded = await cli.serve(['--port', String(port), '--engines', '1', ...ADMIT, '--model', join(dir, 'no-such-model')], 60_000);
    const h = await startHaproxy({ bind: `127.0.0.1:${await freePort()}`, servers: { s1: `127.0.0.1:${ports.s1}`, s3: `127.0.0.1:${port}` }, stats: `127.0.0.1:${await freePort()}` });
    try {
      const out = await h.waitFor((s) => s.s1?.status === 'UP' && s.s3?.status === 'DOWN', 20_000, 's1 UP, s3 DOWN');
      expect(out.s3!.check).toBe('L7STS'); // the check reached it and got a status other than 200
      // Every session goes to s1, though s3 has fewer connections.
      const opened = await Promise.all([1, 2].map(async (seed) => {
        const c = await connect(h.url, { seed, pace: 'realtime', connectTimeoutMs: 30_000 });
        return { c, result: c.stream(frames(10)).then(() => c.end()) };
      }));
      expect(Object.values(await whereAre(opened.map((o) => o.c.session), ['s1']))).toEqual(['s1', 's1']);
      for (const o of opened) wentOn(await o.result);
      expect((await h.states()).s3!.total).toBe(0);
      // The same port now serving: back in rotation.
      const gone = new Promise((r) => degraded.child.once('exit', r));
      degraded.child.kill('SIGKILL');
      await gone;
      await cli.serve(['--port', String(port), '--engines', '1', ...ADMIT], 90_000, true);
      await h.waitFor((s) => s.s3?.status === 'UP', 20_000, 's3 UP once its /health says 200');
    } finally {
      await h.stop();
    }
  }, 180_000);

  it('takes a full server out of rotation without cutting its sessions, and puts it back once it has room', async () => {
    // s4 holds one session (its admission bound), so one session makes it full: /health 503
    // "full". Few sessions in all: a machine too loaded to keep them on time would make the
    // servers "degraded" (also out of rotation), which is not what this test is about.
    const port = await freePort();
    await cli.serve(['--port', String(port), '--engines', '1', '--admission', 'max-sessions', '--max-sessions', '1'], 90_000, true);
    const h = await startHaproxy({ bind: `127.0.0.1:${await freePort()}`, servers: { s1: `127.0.0.1:${ports.s1}`, s4: `127.0.0.1:${port}` }, stats: `127.0.0.1:${await freePort()}` });
    const s4Health = async () => (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { status: string; reason: string };
    const on = async (ids: readonly string[], name: string, p: number) => {
      const list = ((await (await fetch(`http://127.0.0.1:${p}/health`)).json()) as { sessions: { list: { id: string }[] } }).sessions.list;
      return ids.filter((id) => list.some((x) => x.id === id)).length;
    };
    try {
      await h.waitFor((s) => s.s1?.status === 'UP' && s.s4?.status === 'UP', 20_000, 's1 and s4 UP');
      // Two long sessions through HAProxy: leastconn gives each server one, which fills s4.
      const { clients: first, results: firstResults } = await open(2, 100, h.url);
      const ids = first.map((c) => c.session);
      expect(await on(ids, 's4', port)).toBe(1);
      expect(await on(ids, 's1', ports.s1!)).toBe(1);
      const full = await s4Health();
      expect(full.status).toBe('full');
      expect(full.reason).toMatch(/^full: server full: 1 of 1 sessions in use.*capacity 1 .*sessions 1 live/);
      // The check takes s4 out (its /health answers 503)...
      const out = await h.waitFor((s) => s.s4?.status === 'DOWN', 15_000, 's4 DOWN while full');
      expect(out.s4!.check).toBe('L7STS');
      // ...while its tunnel stays open: HAProxy still counts it, and it keeps streaming.
      expect(out.s4!.current).toBe(1);
      // Two new sessions both go to s1: in rotation, s4 would get one (leastconn, fewer connections).
      const { clients: during, results: duringResults } = await open(2, 25, h.url);
      expect(await on(during.map((c) => c.session), 's1', ports.s1!)).toBe(2);
      for (const r of await duringResults) wentOn(r);
      // Both first sessions go on to their normal end, s4's included.
      for (const r of await firstResults) wentOn(r);
      // With its sessions ended s4 has room: /health 200, and the check puts it back...
      await h.waitFor((s) => s.s4?.status === 'UP', 20_000, 's4 UP once it has room');
      expect((await s4Health()).status).toBe('ok');
      // ...and it gets new sessions again: once HAProxy has let go of the ended sessions' tunnels
      // (leastconn counts them until both sides have closed), two new sessions go one to each.
      const idle = await h.waitFor((s) => s.s1?.current === 0 && s.s4?.current === 0, 10_000, 'no tunnels left open');
      const { clients: after, results: afterResults } = await open(2, 25, h.url);
      const placed = `HAProxy before ${JSON.stringify(idle)}, after ${JSON.stringify(await h.states())}; on s1 ${await on(after.map((c) => c.session), 's1', ports.s1!)}`;
      expect(await on(after.map((c) => c.session), 's4', port), placed).toBe(1);
      for (const r of await afterResults) wentOn(r);
    } finally {
      await h.stop();
    }
  }, 180_000);

  it('forwards Host and Origin unchanged: a loopback page reaches a loopback server through HAProxy, a foreign one is refused', async () => {
    await haproxy!.waitFor((s) => s.s1?.status === 'UP', 20_000, 's1 UP');
    const upgrade = (path: string, origin: string) =>
      new Promise<{ status: number; handshake?: boolean }>((resolve, reject) => {
        const ws = new WebSocket(`${haproxy!.url}${path}`, { origin, perMessageDeflate: false });
        ws.on('unexpected-response', (_req, res) => {
          resolve({ status: res.statusCode! });
          res.resume();
        });
        ws.on('message', (data: Buffer) => {
          // Moshi kind 0: the handshake (after the server's metadata, kind 4).
          if (data[0] !== 0) return;
          resolve({ status: 101, handshake: true });
          ws.terminate();
        });
        ws.on('open', () => {
          // The packet protocol waits for the client's start: say nothing and take the upgrade as the answer.
          if (!path.startsWith('/api/chat')) {
            resolve({ status: 101 });
            ws.terminate();
          }
        });
        ws.on('error', (e) => reject(e));
        setTimeout(() => reject(new Error(`no answer to the upgrade of ${path}`)), 20_000);
      });
    // The packet protocol at any path, from a page on localhost.
    expect((await upgrade('/', 'http://localhost:5178')).status).toBe(101);
    // The Moshi protocol at /api/chat: the server speaks first, and its handshake comes through.
    expect(await upgrade('/api/chat', 'http://127.0.0.1:5178')).toEqual({ status: 101, handshake: true });
    // A page elsewhere is refused by the server itself (HAProxy passes the 403 on).
    expect((await upgrade('/', 'http://evil.example')).status).toBe(403);
  }, 60_000);
});
