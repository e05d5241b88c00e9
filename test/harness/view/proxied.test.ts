// A proxied session in the view server and the helpers the viewer draws it with, on a session
// recorded here by the real proxy in front of the test Moshi upstream (real sockets on
// loopback) that pauses its replies once: the list marks it with proxy.json's figures (and
// says what is wrong when proxy.json is missing or damaged), the API serves proxy.json, and
// the lag points, stall band and markers land on the frames the figures say.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMoshi } from '../../../src/client/moshi.ts';
import { PROXY_FILE } from '../../../harness/format/index.ts';
import { openSession } from '../../../harness/format/node.ts';
import { startProxy, type MoshiProxy } from '../../../harness/proxy/index.ts';
import { listSessions, startViewServer, type ViewServer } from '../../../harness/view/index.ts';
import { lagMarks, lagPoints, lineAt, measuredSession, parseProxyFile, ProxyFileError, type ProxyFile } from '../../../harness/view/proxied.ts';
import { testFrames } from '../../server/live/engine.ts';
import { startTestUpstream, type TestUpstream } from '../proxy/moshi-upstream.ts';

const FIXTURE = new URL('../../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
const PAUSE_AT = 10;
const PAUSE_MS = 900;

let root: string, sessions: string, up: TestUpstream, proxy: MoshiProxy, view: ViewServer;
let name: string, path: string, text: string, file: ProxyFile, steps: number;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'view-proxied-'));
  sessions = join(root, 'sessions');
  await mkdir(sessions);
  up = await startTestUpstream();
  proxy = await startProxy({ upstream: up.url, record: sessions, log: () => undefined });
  const c = await connectMoshi(`${proxy.url}/api/chat`, { query: { pauseAt: PAUSE_AT, pauseMs: PAUSE_MS } });
  await c.run(testFrames(30, 2));
  const deadline = performance.now() + 20_000;
  while (proxy.reports.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  path = proxy.reports[0]!.path!;
  name = basename(path);
  text = await readFile(join(path, PROXY_FILE), 'utf8');
  file = parseProxyFile(text);
  steps = 0;
  for await (const _ of (await openSession(path)).steps()) steps++;
  await cp(FIXTURE, join(sessions, 'engine.session'), { recursive: true });
  view = await startViewServer({ sessionsDir: sessions, port: 0 });
}, 60_000);

afterAll(async () => {
  await view?.close();
  await proxy?.close();
  await up?.close();
  await rm(root, { recursive: true, force: true });
});

describe('a proxied session in the view server', () => {
  it('the list marks it with its upstream and proxy.json\'s lag p99, growth and stalls; an engine session is not marked', async () => {
    const list = await listSessions(sessions);
    const p = list.find((e) => e.name === name)!;
    expect(p.measured).toEqual({ kind: 'proxied', upstream: file.upstream, lagP99Ms: file.figures.lag.p99, slopeMsPerMin: file.figures.lag.slopeMsPerMin, stalls: file.figures.stalls.count, figuresError: null });
    expect(file.figures.stalls.count).toBeGreaterThanOrEqual(1);
    expect(list.find((e) => e.name === 'engine.session')!.measured).toBeNull();
  });

  it('serves proxy.json; a session without one answers 404', async () => {
    const res = await fetch(`${view.url}api/sessions/${encodeURIComponent(name)}/${PROXY_FILE}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(text);
    expect((await fetch(`${view.url}api/sessions/engine.session/${PROXY_FILE}`)).status).toBe(404);
  });

  it('a proxied session whose proxy.json is missing or damaged is still listed, saying so', async () => {
    for (const [copy, damage, message] of [
      ['gone.session', null, /proxy\.json is missing/],
      ['bad.session', '{"format":"solacelive.proxy","version":1,"figures":{"lag":{"series":"no"}}}', /figures\.lag/],
    ] as const) {
      await cp(path, join(sessions, copy), { recursive: true });
      if (damage === null) await rm(join(sessions, copy, PROXY_FILE));
      else await writeFile(join(sessions, copy, PROXY_FILE), damage);
      const e = (await listSessions(sessions)).find((x) => x.name === copy)!;
      expect(e.measured?.kind).toBe('proxied');
      expect(e.measured?.lagP99Ms).toBeNull();
      expect(e.measured?.figuresError).toMatch(message);
      await rm(join(sessions, copy), { recursive: true });
    }
  });
});

describe('what the viewer draws of it', () => {
  it('knows a proxied session from its manifest, and a load test from meta.loadtest', async () => {
    const m = (await openSession(path)).manifest;
    expect(measuredSession(m)).toEqual({ kind: 'proxied', upstream: file.upstream });
    expect(measuredSession({ ...m, meta: { ...m.meta, loadtest: { clients: 4 } } })?.kind).toBe('load test');
    expect(measuredSession((await openSession(FIXTURE)).manifest)).toBeNull();
  });

  it('each lag point sits on the client frame its reply answers', () => {
    const points = lagPoints(file.figures);
    expect(points.map((p) => p.line)).toEqual(file.figures.lag.frames!.map((j) => j + file.figures.lag.warmupFrames));
    expect(points.map((p) => [p.atMs, p.lagMs])).toEqual(file.figures.lag.series);
    // A file from before lag.frames: by order.
    const { frames: _, ...old } = file.figures.lag;
    expect(lagPoints({ ...file.figures, lag: old }).map((p) => p.line)).toEqual(points.map((_p, i) => i + file.figures.lag.warmupFrames));
  });

  it('times map between the replies around them; outside, 80 ms a frame', () => {
    const points = lagPoints(file.figures);
    const [a, b] = [points[3]!, points[4]!];
    expect(lineAt(points, a.atMs)).toBeCloseTo(a.line + 0.5);
    if (b.atMs > a.atMs) expect(lineAt(points, (a.atMs + b.atMs) / 2)).toBeCloseTo(a.line + 0.5 + (b.line - a.line) / 2);
    const last = points[points.length - 1]!;
    expect(lineAt(points, last.atMs + 800)).toBeCloseTo(last.line + 0.5 + 10);
    expect(lineAt(points, points[0]!.atMs - 160)).toBeCloseTo(points[0]!.line + 0.5 - 2);
  });

  it('the paused replies make one stall, banded over the jump in the lag line; the close is at the end', () => {
    const f = file.figures;
    const marks = lagMarks(f, steps);
    const points = lagPoints(f);
    // The pause is the longest stall (the meter's own measure of it is test/harness/proxy/lag.test.ts's).
    const stall = marks.stalls.reduce((x, y) => (y.durationMs > x.durationMs ? y : x));
    // The last reply before the pause and the first after it bound the band.
    // (proxy.json rounds times to 0.01 ms: the stall's end, at + duration, can miss the reply
    // that ended it by that much, and held replies leave in a burst fractions of a ms apart.)
    const before = points.filter((p) => p.atMs <= stall.atMs).at(-1)!;
    const after = points.find((p) => p.atMs >= stall.atMs + stall.durationMs - 0.02)!;
    expect(stall.fromLine).toBe(before.line + 0.5);
    expect(stall.toLine).toBe(after.line + 0.5);
    expect(after.lagMs - before.lagMs).toBeGreaterThan(PAUSE_MS / 2);
    expect(marks.end!.line).toBeLessThanOrEqual(steps);
    expect(marks.end!.line).toBeGreaterThanOrEqual(points.at(-1)!.line);
    expect(marks.end!.code).toBe(f.end!.code);
  });

  it('a damaged proxy.json is refused naming what is wrong', () => {
    const bad = (s: string) => () => parseProxyFile(s);
    expect(bad('not json')).toThrow(ProxyFileError);
    expect(bad('{"format":"other","version":1}')).toThrow(/format must be "solacelive\.proxy"/);
    const j = JSON.parse(text) as { figures: { lag: { frames: number[] }; stalls: unknown } };
    j.figures.lag.frames = j.figures.lag.frames.slice(1);
    expect(bad(JSON.stringify(j))).toThrow(/figures\.lag\.frames/);
    const k = JSON.parse(text) as { figures: { stalls: unknown } };
    k.figures.stalls = { list: [{ atMs: 'soon' }] };
    expect(bad(JSON.stringify(k))).toThrow(/figures\.stalls/);
    let code = '';
    try {
      parseProxyFile('[]');
    } catch (err) {
      code = (err as ProxyFileError).code;
    }
    expect(code).toBe('VIEW_ERR_PROXY_FILE');
  });
});
