// The live page in real Chromium against a real `solacelive serve` (tiny model, real MLX
// engine process, real WebSocket on loopback). Chromium's fake capture device plays the
// fixture speech into getUserMedia; the page frames it in its AudioWorklet, streams it,
// plays the reply and shows text and latency. With record on, the server writes a session
// folder, which must replay bit-exactly. One browser launch for the whole file.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession } from '../../harness/format/node.ts';
import { replaySession } from '../../harness/replayer.ts';
import { startViewServer, type ViewServer } from '../../harness/view/index.ts';
import { launchChromium } from './chromium.ts';
import { fakeMicWav, startServe, type Serve } from './live-support.ts';

const SHOTS = process.env.SOLACELIVE_SCREENSHOTS ?? fileURLToPath(new URL('../../.ci/results/screenshots/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'solacelive-live-e2e-'));
const sessionsDir = join(dir, 'sessions');
let serve: Serve;
let view: ViewServer;
let browser: Browser;
const pages: Page[] = [];

beforeAll(async () => {
  mkdirSync(sessionsDir);
  mkdirSync(SHOTS, { recursive: true });
  const mic = fakeMicWav(dir);
  // Recording on request only: the page's record toggle is what asks for it.
  [serve, view, browser] = await Promise.all([
    startServe(['--record-requested', sessionsDir]),
    startViewServer({ sessionsDir, port: 0 }),
    launchChromium(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${mic.path}`]),
  ]);
  await serve.waitForLog(/model \S+ ready/, 60_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await view?.close();
  await serve?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function openLive(query: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  pages.push(page);
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  (page as Page & { problems?: string[] }).problems = problems;
  await page.goto(`${view.url}live/?${query}`);
  await page.getByTestId('start').waitFor();
  return page;
}

const num = async (page: Page, id: string) => Number(await page.getByTestId(id).textContent());

async function waitNum(page: Page, id: string, atLeast: number, ms: number): Promise<number> {
  await page.waitForFunction(
    ([tid, n]) => Number(document.querySelector(`[data-testid="${tid}"]`)?.textContent ?? 'NaN') >= (n as number),
    [id, atLeast] as const,
    { timeout: ms, polling: 100 },
  ).catch(async (err: Error) => {
    const log = await page.getByTestId('log').textContent().catch(() => '');
    throw new Error(`${id} did not reach ${atLeast} in ${ms} ms (now ${await num(page, id)}); page log: ${log}\n${err.message}`);
  });
  return num(page, id);
}

describe('live page (real Chromium, real server)', () => {
  it('streams the microphone, plays audio back, shows text and latency; the recorded session replays bit-exactly', async () => {
    const page = await openLive(`server=${encodeURIComponent(serve.url)}&seed=2026`);
    await page.getByTestId('record-toggle').check();
    await page.getByTestId('start').click();
    await page.getByTestId('session-id').waitFor({ timeout: 60_000 });
    const sessionId = await page.getByTestId('session-id').textContent();
    // 30 frames back = 2.4 s of the model's audio; the text partials ride with them.
    const back = await waitNum(page, 'audio-frames', 30, 30_000);
    const partials = await waitNum(page, 'partials-count', 1, 10_000);
    await page.waitForFunction(() => /● recording/.test(document.querySelector('[data-testid="recording"]')?.textContent ?? ''), null, { timeout: 10_000 });
    await page.screenshot({ path: join(SHOTS, 'live-session.png'), fullPage: true });

    expect(await num(page, 'frames-sent')).toBeGreaterThanOrEqual(back);
    expect(await page.getByTestId('transcript').textContent()).toMatch(/‹\d+›|\S/);
    expect(await page.getByTestId('latency-last').textContent()).toMatch(/^\d+ ms$/);
    // The reply is being played through the playback worklet, not just counted.
    await page.waitForFunction(() => /^[1-9]\d* ms$/.test(document.querySelector('[data-testid="playback-played"]')?.textContent ?? ''), null, { timeout: 5_000 });
    expect(await page.getByTestId('audio-rate').textContent()).toBe('24000 Hz');

    await page.getByTestId('stop').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="phase"]')?.textContent === 'ended', null, { timeout: 20_000 });
    await page.getByTestId('final-text').waitFor();
    await page.screenshot({ path: join(SHOTS, 'live-ended.png'), fullPage: true });
    const sent = await num(page, 'frames-sent');
    const audioBack = await num(page, 'audio-frames');
    const gaps = await num(page, 'gaps');
    const steps = await num(page, 'steps');
    // Every step the server ran (one per frame; a late frame's slot filled with silence,
    // the late frame then dropped) came back as audio or as a step without audio.
    expect(audioBack + gaps).toBe(steps);
    expect(steps).toBeGreaterThanOrEqual(30);
    expect(partials).toBeGreaterThan(0);
    expect((page as Page & { problems?: string[] }).problems).toEqual([]);

    // The session folder the server wrote for this page's session.
    const m = await serve.waitForLog(/session recorded: (\S+\.session) \((\w+), (\d+) steps\)/, 20_000);
    const folders = readdirSync(sessionsDir).filter((f) => f.endsWith('.session'));
    expect(folders).toHaveLength(1);
    expect(m[1]).toBe(join(sessionsDir, folders[0]!));
    const reader = await openSession(m[1]!, { strict: true });
    expect(reader.manifest.status).toBe('complete');
    expect(reader.manifest.meta).toMatchObject({ session: sessionId, requested: true, pace: 'realtime' });
    expect(reader.manifest.seed).toBe(2026);
    const scan = await reader.scan();
    expect(scan.wholeSteps).toBe(steps);
    // The microphone really carried the fixture speech (not silence) into the session.
    const input = await reader.wav('input');
    let sum = 0;
    let n = 0;
    for await (const f of input.frames(0)) {
      for (const x of f) sum += x * x;
      n += f.length;
    }
    expect(Math.sqrt(sum / n)).toBeGreaterThan(0.01);

    const rep = await replaySession(m[1]!);
    expect(rep.expected).toBe('bit-exact');
    expect(rep.verdict).toBe('bit-exact');
    expect(rep.stepsReplayed).toBe(steps);
    console.log(`live e2e: ${sent} frames sent, ${steps} steps, ${audioBack} audio frames back, ${partials}+ partials; replay ${rep.verdict} over ${rep.stepsReplayed} steps; screenshots in ${SHOTS}`);
  }, 180_000);
});
