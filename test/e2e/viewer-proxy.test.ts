// The web viewer in real Chromium on a session recorded in this test by the real proxy
// (harness/proxy) in front of a real SolaceLive server (createServer + an engine child with
// the tiny model), a real-time Moshi client talking through it. The engine is slowed by a
// test-only preload (viewer-proxy-steps.ts): every step sleeps past the 80 ms frame, so the
// lag grows on any machine, and one step sleeps STALL_MS more: one stall, long enough for
// the client-timeout event (its threshold lowered here). The page must say what the session
// is, show no engine panel, draw the lag lane with proxy.json's figures and a marker for each
// stall, timeout and the close; the sessions list marks it. Expectations come from the
// recorded proxy.json, never pinned.
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMoshi, moshiQuery } from '../../src/client/moshi.ts';
import { blasFromEnv } from '../../src/engine/blas.ts';
import { EngineHost } from '../../src/engine/host.ts';
import { resolveModel } from '../../src/engine/models.ts';
import { createServer, type SolaceServer } from '../../src/server/server.ts';
import { openSession } from '../../harness/format/node.ts';
import { startProxy, type ConnectionReport, type MoshiProxy } from '../../harness/proxy/index.ts';
import { endText, lagMarks, lagPoints, parseProxyFile, slopeText, type ProxyFile } from '../../harness/view/proxied.ts';
import { startViewServer, type ViewServer } from '../../harness/view/index.ts';
import { fmtMs } from '../../viewer/src/lib/colors.ts';
import { testFrames } from '../server/live/engine.ts';
import { launchChromium } from './chromium.ts';
import { LAG_TRACK, STALLS_TRACK } from '../../src/telemetry/chrome-trace.ts';

const SHOTS = process.env.SOLACELIVE_SCREENSHOTS ?? fileURLToPath(new URL('../../.ci/results/screenshots/', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../fixtures/sessions/hello-2s.session', import.meta.url));
const STEP_SLEEP_MS = 90;
const STALL_AT = 15;
const STALL_MS = 1500;
const TIMEOUT_MS = 1000;
const FRAMES = 40;
const BIN = fileURLToPath(new URL('../../bin/solacelive.mjs', import.meta.url));

let dir: string, engine: EngineHost, server: SolaceServer, proxy: MoshiProxy, view: ViewServer, browser: Browser, page: Page;
let name: string, file: ProxyFile, report: ConnectionReport, packets: number;
const pageErrors: string[] = [];
const logs: string[] = [];

const poll = <T,>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 20_000, interval: 100 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'viewer-proxy-e2e-'));
  const sessions = join(dir, 'sessions');
  await mkdir(sessions);
  engine = new EngineHost({
    spec: resolveModel(process.env.SOLACELIVE_TEST_MODEL, () => undefined),
    blas: blasFromEnv(),
    testPreload: new URL(`./viewer-proxy-steps.ts?ms=${STEP_SLEEP_MS}&stallAt=${STALL_AT}&stallMs=${STALL_MS}`, import.meta.url).href,
  });
  const [info, b] = await Promise.all([engine.start(), launchChromium()]);
  browser = b;
  if (!info || engine.state !== 'ok') throw new Error(`engine did not come up: ${engine.state}: ${engine.reason}`);
  // Falling behind on purpose: no FALLING_BEHIND close, no heartbeat inside the stall (it would end the silence).
  server = createServer({ port: 0, maxSessions: 1, admission: 'max-sessions', maxLagMs: 600_000, heartbeatMs: 600_000, deadPeerMs: 1_200_000 }, engine);
  const upstream = `${(await server.start()).url}/api/chat`;
  // A few seconds of session: the growth's minimum span lowered from 20 s so the lane draws one.
  proxy = await startProxy({ upstream, record: sessions, meter: { clientTimeoutMs: TIMEOUT_MS, growthMinMs: 2000 }, log: (l) => logs.push(l) });
  const c = await connectMoshi(`${proxy.url}/api/chat`, { query: moshiQuery({ seed: 5 }) });
  await c.run(testFrames(FRAMES, 3));
  const deadline = performance.now() + 30_000;
  while (proxy.reports.length === 0) {
    if (performance.now() > deadline) throw new Error(`no proxy report:\n${logs.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  report = proxy.reports[0]!;
  expect(report.recording?.status, logs.join('\n')).toBe('complete');
  name = basename(report.path!);
  file = parseProxyFile(await readFile(join(report.path!, 'proxy.json'), 'utf8'));
  packets = 0;
  for await (const _ of (await openSession(report.path!)).packets()) packets++;
  // An engine-recorded session beside it: the list must tell the two apart.
  await cp(FIXTURE, join(sessions, basename(FIXTURE)), { recursive: true });
  view = await startViewServer({ sessionsDir: sessions, port: 0 });
  page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await mkdir(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await view?.close();
  await proxy?.close();
  await server?.stop();
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

/** RGBA of the lag lane's canvas at CSS pixel (x, y). */
async function pixel(x: number, y: number): Promise<number[]> {
  return page.getByTestId('lag-lane').evaluate((el, [px, py]) => {
    const c = el as HTMLCanvasElement;
    const k = c.width / c.clientWidth;
    return [...c.getContext('2d')!.getImageData(Math.round(px! * k), Math.round(py! * k), 1, 1).data];
  }, [x, y]);
}
const BACKGROUND = [0x15, 0x17, 0x1c];
const isBackground = (p: number[]) => p.slice(0, 3).every((v, i) => Math.abs(v - BACKGROUND[i]!) <= 2);

describe('viewer on a proxied session, in Chromium', () => {
  it('the recording has what the lane must show: growing lag, the injected stall, a client-timeout silence, the close', () => {
    const f = file.figures;
    expect(f.lag.count).toBeGreaterThan(FRAMES / 2);
    // Every step takes longer than a frame: the server falls further behind the real-time client.
    expect(f.lag.slopeMsPerMin!).toBeGreaterThan(0);
    expect(f.stalls.list.some((s) => s.durationMs >= STALL_MS)).toBe(true);
    expect(f.clientTimeouts.count).toBeGreaterThanOrEqual(1);
    expect(f.end).not.toBeNull();
  });

  it('the sessions list marks the proxied session and shows its lag p99 where an engine session has step figures', async () => {
    await page.goto(view.url);
    const row = page.getByTestId('session-row').filter({ hasText: name });
    await row.waitFor();
    expect(await row.getAttribute('data-measured')).toBe('proxied');
    expect(await row.getByTestId('measured-badge').innerText()).toBe('proxied');
    expect(await row.getByTestId('measured-lag').innerText()).toBe(`lag p99 ${fmtMs(file.figures.lag.p99)} · ${file.figures.stalls.count} stalls`);
    expect((await row.locator('td').allInnerTexts())[5]).toBe('n/a');
    const engineRow = page.getByTestId('session-row').filter({ hasText: basename(FIXTURE) });
    expect(await engineRow.getAttribute('data-measured')).toBe('');
    expect(await engineRow.getByTestId('measured-badge').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('the page says it is proxied, names the upstream, and shows no engine panel or budget verdict', async () => {
    await page.getByRole('link', { name }).click();
    await page.getByTestId('lag-lane').waitFor();
    const banner = page.getByTestId('measured');
    expect(await banner.getAttribute('data-kind')).toBe('proxied');
    expect(await page.getByTestId('upstream').innerText()).toBe(file.upstream);
    expect(await banner.innerText()).toMatch(/no 80 ms budget verdict/);
    for (const engineOnly of ['timeline', 'token-lane', 'span-table', 'keeps-up', 'misses', 'rtf']) expect(await page.getByTestId(engineOnly).count(), engineOnly).toBe(0);
    expect(await page.getByTestId('figures-error').count()).toBe(0);
    expect(await page.getByTestId('problems').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('the lag lane shows proxy.json\'s figures and draws every reply, p50 and p99', async () => {
    const lag = file.figures.lag;
    const value = async (id: string) => page.getByTestId(id).getAttribute('data-value');
    expect(await value('lag-p50')).toBe(String(lag.p50));
    expect(await value('lag-p99')).toBe(String(lag.p99));
    expect(await value('lag-slope')).toBe(String(lag.slopeMsPerMin));
    expect(await page.getByTestId('lag-slope').innerText()).toBe(slopeText(lag.slopeMsPerMin));
    expect(await page.getByTestId('lag-p99').innerText()).toBe(fmtMs(lag.p99));
    expect(await value('lag-stalls')).toBe(String(file.figures.stalls.count));
    expect(await value('lag-timeouts')).toBe(String(file.figures.clientTimeouts.count));
    const lane = page.getByTestId('lag-lane');
    // The first view holds the whole (short) session: every reply is a point of the line.
    await poll(() => lane.getAttribute('data-points')).toBe(String(lag.series.length));
    const p50y = Number(await lane.getAttribute('data-p50-y'));
    const p99y = Number(await lane.getAttribute('data-p99-y'));
    // Higher lag is higher up; both levels are drawn (dashes start at x = 0).
    expect(p99y).toBeLessThan(p50y);
    expect(isBackground(await pixel(2, p50y))).toBe(false);
    expect(isBackground(await pixel(2, p99y))).toBe(false);
    // Hovering a reply's frame names its lag.
    const p = lagPoints(file.figures)[Math.floor(lag.series.length / 2)]!;
    const box = (await lane.boundingBox())!;
    const steps = Number(await page.getByTestId('session-page').getAttribute('data-steps'));
    await page.mouse.move(box.x + ((p.line + 0.5) / steps) * box.width, box.y + box.height / 2);
    await poll(() => page.locator('.lag-lane .tooltip').innerText()).toContain(`frame ${p.line}`);
    expect(await page.locator('.lag-lane .tooltip').innerText()).toContain(`lag ${fmtMs(p.lagMs)}`);
    await page.mouse.move(0, 0);
  });

  it('each stall is a band, the client-timeout silence and the close are markers, listed in the table', async () => {
    const f = file.figures;
    const lane = page.getByTestId('lag-lane');
    const xs = (attr: string) => lane.getAttribute(attr).then((v) => (v ? v.split(',').map(Number) : []));
    const stallXs = await xs('data-stall-xs');
    expect(stallXs).toHaveLength(f.stalls.count);
    // Down the band's middle column (the plot: below the 14 px marker row, above the 18 px
    // axis), most pixels are its orange; the lines drawn over it cross only a few rows.
    const height = await lane.evaluate((el) => el.clientHeight);
    for (const x of stallXs) {
      const ys = Array.from({ length: Math.floor((height - 18 - 16) / 4) }, (_, i) => 16 + 4 * i);
      const orange = (await Promise.all(ys.map((y) => pixel(x, y)))).filter(([r, g, b]) => r! - b! > 40 && r! > g!).length;
      expect(orange, `stall band at x=${x}`).toBeGreaterThan(ys.length * 0.7);
    }
    // The injected stall's band lies on the jump it makes in the lag line: between the reply
    // before the gap and the first after it, the one whose lag jumped the most.
    const steps = await openSession(report.path!).then(async (r) => { let n = 0; for await (const _ of r.steps()) n++; return n; });
    const marks = lagMarks(f, steps);
    const points = lagPoints(f);
    const rise = (i: number) => points[i]!.lagMs - points[i - 1]!.lagMs;
    let j = 1;
    for (let i = 2; i < points.length; i++) if (rise(i) > rise(j)) j = i;
    const jump = points[j]!;
    const injected = marks.stalls.reduce((a, b) => (b.durationMs > a.durationMs ? b : a));
    // (Times in proxy.json are rounded to 0.01 ms: a line's thousandth is rounding, not placement.)
    expect(injected.fromLine).toBeLessThan(jump.line + 0.5);
    expect(injected.toLine).toBeGreaterThan(jump.line + 0.5 - 1e-3);
    expect(await xs('data-timeout-xs')).toHaveLength(f.clientTimeouts.count);
    expect(await lane.getAttribute('data-end-x')).not.toBe('');
    const rows = page.getByTestId('mark-row');
    expect(await rows.filter({ has: page.locator('b', { hasText: /^stall$/ }) }).count()).toBe(f.stalls.count);
    expect(await page.locator('[data-testid=mark-row][data-kind=client-timeout]').count()).toBe(f.clientTimeouts.count);
    expect(await page.locator('[data-testid=mark-row][data-kind=close]').innerText()).toContain(endText(f.end));
    // A row selects the frame the client was sending then, on every lane.
    await page.locator('[data-testid=mark-row][data-kind=stall]').first().getByRole('link').click();
    const first = marks.stalls[0]!;
    await poll(() => page.locator('.viewbar').innerText()).toContain(`selected frame ${Math.min(Math.floor((first.fromLine + first.toLine) / 2), steps - 1)}`);
    await page.screenshot({ path: join(SHOTS, 'viewer-proxy.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('opened from disk, a picked folder or a .zip, it has the same lane: proxy.json comes along', async () => {
    const zip = join(dir, 'proxied.zip');
    await new Promise<void>((resolve, reject) => {
      const c = spawn('zip', ['-qr', zip, name], { cwd: join(dir, 'sessions'), stdio: 'inherit' });
      c.on('error', reject);
      c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`zip exited ${code}`))));
    });
    for (const [input, what] of [['pick-folder', report.path!], ['pick-zip', zip]] as const) {
      await page.goto(view.url);
      const apiCalls: string[] = [];
      const onRequest = (r: { url(): string }) => {
        if (r.url().includes('/api/sessions/')) apiCalls.push(r.url());
      };
      page.on('request', onRequest);
      await page.getByTestId(input).setInputFiles(what);
      await page.getByTestId('lag-lane').waitFor();
      expect(await page.getByTestId('lag-p99').getAttribute('data-value'), input).toBe(String(file.figures.lag.p99));
      await poll(() => page.getByTestId('lag-lane').getAttribute('data-points')).toBe(String(file.figures.lag.series.length));
      expect(await page.getByTestId('figures-error').count()).toBe(0);
      page.off('request', onRequest);
      expect(apiCalls, input).toEqual([]);
    }
    await page.goto(`${view.url}#/s/${encodeURIComponent(name)}`);
    await page.getByTestId('lag-lane').waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('both waveforms, turn-taking, the text and every message are there', async () => {
    await poll(() => page.getByTestId('wave-input').getAttribute('data-loaded')).toBe('yes');
    await poll(() => page.getByTestId('wave-output').getAttribute('data-loaded')).toBe('yes');
    await poll(() => page.getByTestId('packet-count').innerText()).toBe(`${packets} of ${packets} messages`);
    const t = file.figures.turns;
    expect(await page.getByTestId('turn-segments').innerText()).toBe(`user ${t.userSegments} · model ${t.modelSegments}`);
    const text = page.getByTestId('text-times');
    if (file.figures.text.count === 0) expect(await text.innerText()).toBe('The server sent no text messages.');
    else expect(await page.getByTestId('text-piece').count()).toBe(file.figures.text.pieces.length);
    expect(await page.getByTestId('measured-summary').innerText()).toContain(file.upstream);
    expect(pageErrors).toEqual([]);
  });
  it('exports for Perfetto the trace `export-trace` writes: lag slices and stalls from proxy.json, no engine stages', async () => {
    const download = page.waitForEvent('download');
    await page.getByTestId('export-trace').click();
    const fromPage = JSON.parse(await readFile(await (await download).path(), 'utf8')) as { traceEvents: { ph: string; name: string; cat?: string; tid: number; args?: { name?: string } }[] };
    const out = join(dir, 'cli.trace.json');
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'export-trace', report.path!, '--out', out], { stdio: 'ignore' });
      child.once('exit', resolve);
    });
    expect(code).toBe(0);
    // One converter behind both: the page's file is the command's, event for event.
    expect(fromPage).toEqual(JSON.parse(await readFile(out, 'utf8')));
    const threads = new Map(fromPage.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid, e.args!.name!]));
    const on = (track: string) => fromPage.traceEvents.filter((e) => e.ph === 'X' && threads.get(e.tid)?.startsWith(track)).length;
    expect(on(LAG_TRACK)).toBe(file.figures.lag.series.length);
    expect(on(STALLS_TRACK)).toBe(file.figures.stalls.list.length);
    expect([...threads.values()].some((t) => t.startsWith('mimi.encode'))).toBe(false);
    expect(pageErrors).toEqual([]);
  });
});
