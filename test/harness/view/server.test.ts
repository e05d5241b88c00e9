// The view server's API: what it serves (sessions list, files with byte ranges, replay
// results) and what it refuses — every traversal shape we know (raw and encoded dot
// segments, double encoding, backslashes, absolute paths, symlinks out of the folder).
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveReplayResult, startViewServer, type ViewServer } from '../../../harness/view/index.ts';
import type { ReplayResult } from '../../../harness/view/index.ts';
import { isBudgetMiss } from '../../../harness/view/stats.ts';

const FIXTURE = new URL('../../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
const SECRET = 'TOP-SECRET-OUTSIDE-THE-SESSIONS-FOLDER';

let root: string, sessions: string, server: ViewServer;

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** A raw request: fetch() would normalise `..` away before it left the client. */
function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'view-api-'));
  sessions = join(root, 'sessions');
  await mkdir(sessions);
  await cp(FIXTURE, join(sessions, 'hello.session'), { recursive: true });
  await writeFile(join(root, 'secret.txt'), SECRET);
  // A session folder outside, reachable only through a symlink inside: must not be served.
  await cp(FIXTURE, join(root, 'outside.session'), { recursive: true });
  await writeFile(join(root, 'outside.session', 'steps.jsonl'), SECRET);
  await symlink(join(root, 'outside.session'), join(sessions, 'evil.session'));
  // A session inside whose data file is a symlink to a file outside.
  await cp(FIXTURE, join(sessions, 'linked.session'), { recursive: true });
  await rm(join(sessions, 'linked.session', 'steps.jsonl'));
  await symlink(join(root, 'secret.txt'), join(sessions, 'linked.session', 'steps.jsonl'));
  const dist = join(root, 'dist');
  await mkdir(join(dist, 'live'), { recursive: true });
  await writeFile(join(dist, 'index.html'), '<!doctype html><title>viewer</title>');
  await writeFile(join(dist, 'live', 'index.html'), '<!doctype html><title>live</title>');
  await symlink(join(root, 'secret.txt'), join(dist, 'leak.txt'));
  server = await startViewServer({ sessionsDir: sessions, port: 0, distDir: dist });
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

describe('view server API', () => {
  it('binds loopback by default and lists the sessions with their summary', async () => {
    expect(server.host).toBe('127.0.0.1');
    const r = await get('/api/sessions');
    expect(r.status).toBe(200);
    const list = (JSON.parse(r.body.toString()) as { sessions: { name: string; steps: number; budgetMisses: number; model: string; error: unknown }[] }).sessions;
    const names = list.map((s) => s.name).sort();
    expect(names).toEqual(['hello.session', 'linked.session']); // evil.session leaves the folder
    const hello = list.find((s) => s.name === 'hello.session')!;
    expect(hello).toMatchObject({ steps: 25, model: 'tiny', error: null });
    const fixtureSteps = (await readFile(join(FIXTURE, 'steps.jsonl'), 'utf8')).trim().split('\n').slice(1).map((l) => JSON.parse(l) as { spans: Record<string, number> });
    // Misses end to end (e2e, derived from the spans of this session recorded before the e2e span).
    expect(hello.budgetMisses).toBe(fixtureSteps.filter((s) => isBudgetMiss(s)).length);
    // linked.session's steps.jsonl points outside: listed (it has a manifest), but its steps are not read.
    expect(list.find((s) => s.name === 'linked.session')!.steps).not.toBe(25);
  });

  it('serves session files whole and by byte range, and HEAD gives the size', async () => {
    const whole = await readFile(join(FIXTURE, 'input.wav'));
    const all = await get('/api/sessions/hello.session/input.wav');
    expect(all.status).toBe(200);
    expect(all.body.equals(whole)).toBe(true);
    const part = await get('/api/sessions/hello.session/input.wav', { range: 'bytes=58-1000' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 58-1000/${whole.length}`);
    expect(part.body.equals(whole.subarray(58, 1001))).toBe(true);
    const tail = await get('/api/sessions/hello.session/input.wav', { range: 'bytes=-16' });
    expect(tail.body.equals(whole.subarray(whole.length - 16))).toBe(true);
    const past = await get('/api/sessions/hello.session/input.wav', { range: `bytes=${whole.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${whole.length}`);
    const head = await get('/api/sessions/hello.session/packets.bin', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe((await readFile(join(FIXTURE, 'packets.bin'))).length);
    expect(head.body.length).toBe(0);
  });

  it('serves the newest saved replay result, 404 when there is none', async () => {
    expect((await get('/api/sessions/hello.session/replay')).status).toBe(404);
    const base: Omit<ReplayResult, 'at' | 'verdict'> = {
      kind: 'replay', expected: 'bit-exact', ok: true, fingerprintDiffs: [], labels: ['recorded', 'replayed'], stepsReplayed: 25,
      comparison: { kind: 'bit-exact', verdict: 'bit-exact', steps: 25, firstPcmDiff: null, divergedAt: null, diffs: [], before: [], at: null, after: [] },
    };
    await saveReplayResult(join(sessions, 'hello.session'), { ...base, at: '2026-01-01T00:00:00.000Z', verdict: 'token-exact' });
    await saveReplayResult(join(sessions, 'hello.session'), { ...base, at: '2026-01-02T00:00:00.000Z', verdict: 'bit-exact' });
    const r = await get('/api/sessions/hello.session/replay');
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body.toString()) as ReplayResult).verdict).toBe('bit-exact');
    const list = JSON.parse((await get('/api/sessions')).body.toString()) as { sessions: { name: string; replay: { verdict: string } | null }[] };
    expect(list.sessions.find((s) => s.name === 'hello.session')!.replay?.verdict).toBe('bit-exact');
  });

  it('serves both pages of the viewer', async () => {
    expect((await get('/')).body.toString()).toContain('<title>viewer</title>');
    expect((await get('/live/')).body.toString()).toContain('<title>live</title>');
    const redirect = await get('/live');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/live/');
  });

  const attacks = [
    '/api/sessions/../secret.txt',
    '/api/sessions/hello.session/../../secret.txt',
    '/api/sessions/%2e%2e/secret.txt',
    '/api/sessions/%2E%2E/%2E%2E/secret.txt',
    '/api/sessions/..%2fsecret.txt',
    '/api/sessions/hello.session/..%2f..%2fsecret.txt',
    '/api/sessions/%252e%252e/%252e%252e/secret.txt',
    '/api/sessions/..%5c..%5csecret.txt',
    '/api/sessions/hello.session%2f..%2f..%2fsecret.txt',
    '/api/sessions/@ROOT@/outside.session/steps.jsonl',
    '/api/sessions//etc/passwd',
    '/api/sessions/evil.session/steps.jsonl',
    '/api/sessions/evil.session/replay',
    '/api/sessions/linked.session/steps.jsonl',
    '/api/sessions/hello.session/steps.jsonl%00.json',
    '/api/sessions/hello.session/..',
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/leak.txt',
    '/@ROOT@/secret.txt',
  ];
  it.each(attacks)('refuses %s', async (shape) => {
    // @ROOT@: the temp folder's absolute path, percent-encoded (only known once it exists).
    const path = shape.replace('@ROOT@/', encodeURIComponent(root + '/'));
    const r = await get(path);
    expect(r.status, `${path} → ${r.status}`).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.body.toString()).not.toContain(SECRET);
    expect(r.body.toString()).not.toContain('root:');
  });

  it('is read-only and answers loopback Host names only', async () => {
    expect((await get('/api/sessions', {}, 'POST')).status).toBe(405);
    expect((await get('/api/sessions', {}, 'DELETE')).status).toBe(405);
    expect((await get('/api/sessions', { host: 'attacker.example:5178' })).status).toBe(403);
    expect((await get('/api/sessions', { host: `localhost:${server.port}` })).status).toBe(200);
  });
});
