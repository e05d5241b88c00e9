// The live page in real Chromium against a real `solacelive serve` (tiny model, real MLX
// engine process, real WebSocket on loopback). Chromium's fake capture device plays the
// fixture speech into getUserMedia; the page frames it in its AudioWorklet, streams it,
// plays the reply and shows text and latency. With record on, the server writes a session
// folder, which must replay bit-exactly. One browser launch for the whole file.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession } from '../../harness/format/node.ts';
import { replaySession } from '../../harness/replayer.ts';
import { startViewServer, type ViewServer } from '../../harness/view/index.ts';
import { launchChromium } from './chromium.ts';
import { bestCorrelation, buildPages, fakeMicWav, opusRoundTripCorrelation, startServe, type Serve } from './live-support.ts';

const SHOTS = process.env.SOLACELIVE_SCREENSHOTS ?? fileURLToPath(new URL('../../.ci/results/screenshots/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'solacelive-live-e2e-'));
const sessionsDir = join(dir, 'sessions');
let serve: Serve;
let view: ViewServer;
let browser: Browser;
let mic: ReturnType<typeof fakeMicWav>;
/** Page errors, failed requests and console errors, per page. */
const problems = new WeakMap<Page, string[]>();

beforeAll(async () => {
  mkdirSync(sessionsDir);
  mkdirSync(SHOTS, { recursive: true });
  mic = fakeMicWav(dir);
  // Recording on request only: the page's record toggle is what asks for it.
  const dist = join(dir, 'dist');
  // Each is kept as soon as it is up, so afterAll stops it even when another failed.
  const started = await Promise.allSettled([
    startServe(['--record-requested', sessionsDir]).then((s) => (serve = s)),
    buildPages(dist).then(() => startViewServer({ sessionsDir, port: 0, distDir: dist })).then((v) => (view = v)),
    launchChromium(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${mic.path}`]).then((b) => (browser = b)),
  ]);
  for (const r of started) if (r.status === 'rejected') throw r.reason;
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
  const seen: string[] = [];
  problems.set(page, seen);
  page.on('pageerror', (e) => seen.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) seen.push(`HTTP ${r.status()} ${r.url()}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) seen.push(`console: ${m.text()}`);
  });
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

/** Presses Stop and waits for the session to end normally; if it ended otherwise, says how. */
async function stop(page: Page): Promise<void> {
  const why = async () => `phase ${await page.getByTestId('phase').textContent()}; page: ${await page.locator('main').textContent()}`;
  if ((await page.getByTestId('stop').count()) === 0) throw new Error(`the session is over before Stop: ${await why()}`);
  await page.getByTestId('stop').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="phase"]')?.textContent === 'ended', null, { timeout: 60_000 })
    .catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await why()}`);
    });
}

/** The folder the server says it recorded for `sessionId` (its name holds the id). */
async function recordedFolder(sessionId: string): Promise<RegExpExecArray> {
  const m = await serve.waitForLog(new RegExp(`session recorded: (\\S+-${sessionId}\\.session) \\((\\w+), (\\d+) steps\\)`), 60_000);
  expect(readdirSync(sessionsDir)).toContain(basename(m[1]!));
  return m;
}

/**
 * The recorded input, and the `count` loudest stretches of it that came straight from the
 * page: `frames` consecutive steps, from step 5 on, none replaced by silence or dropped (a
 * loaded machine has some, and the splice would break the waveform).
 */
async function recordedInput(path: string, count = 3, frames = 3): Promise<{ samples: Float32Array; clean: number[] }> {
  const reader = await openSession(path, { strict: true });
  const parts: Float32Array[] = [];
  for await (const f of (await reader.wav('input')).frames(0)) parts.push(f.slice());
  const samples = new Float32Array(parts.length * 1920);
  parts.forEach((f, i) => samples.set(f, i * 1920));
  const spliced = new Set<number>();
  for await (const st of reader.steps()) {
    if (st.events.some((e) => e.kind === 'missing-frame' || e.kind === 'dropped-frame')) spliced.add(st.step);
  }
  const runs: { from: number; energy: number }[] = [];
  for (let k = 5; k + frames <= parts.length; k++) {
    if (Array.from({ length: frames }, (_, i) => k + i).every((j) => !spliced.has(j))) {
      let energy = 0;
      for (const x of samples.subarray(k * 1920, (k + frames) * 1920)) energy += x * x;
      runs.push({ from: k * 1920, energy });
      k += frames - 1;
    }
  }
  // The loudest: speech, not the pauses between words (where noise is all there is to match).
  const clean = runs.sort((a, b) => b.energy - a.energy).slice(0, count).map((r) => r.from);
  if (clean.length === 0) throw new Error(`${path}: no ${frames} consecutive steps of client audio (${spliced.size} of ${parts.length} steps spliced)`);
  return { samples, clean };
}

/**
 * How the recorded stretches match the fixture; `median` is what the tests judge: on an
 * overloaded machine the browser's audio thread can itself miss a block now and then, while
 * a pipeline that is wrong (rate, order, lost samples) spoils every stretch.
 */
function matchFixture(input: { samples: Float32Array; clean: number[] }): { median: number; all: string } {
  const cs = input.clean.map((from) => bestCorrelation(input.samples, mic.samples24k, from, 5760).corr);
  const sorted = [...cs].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, all: cs.map((c) => c.toFixed(3)).join(', ') };
}

/**
 * How far below Opus' own round trip (opusRoundTripCorrelation: the fixture through the same
 * encoder settings and build in Node) the page's Opus path may fall: the page adds Chromium's
 * capture and 48 → 24 kHz path (1.000 on the packet protocol) and frame alignments other than
 * Node's. Measured: page 0.972–0.983, Opus alone 0.975 (both logged).
 */
const OPUS_PATH_MARGIN = 0.03;

describe('live page (real Chromium, real server)', () => {
  it('streams the microphone, plays audio back, shows text and latency; the recorded session replays bit-exactly', async () => {
    const page = await openLive(`server=${encodeURIComponent(serve.url)}&seed=2026&aec=0`);
    await page.getByTestId('record-toggle').check();
    await page.getByTestId('start').click();
    await page.getByTestId('session-id').waitFor({ timeout: 60_000 });
    const sessionId = await page.getByTestId('session-id').textContent();
    // 20 frames back = 1.6 s of the model's audio; the text partials ride with them.
    const back = await waitNum(page, 'audio-frames', 20, 60_000);
    const partials = await waitNum(page, 'partials-count', 1, 10_000);
    await page.waitForFunction(() => /● recording/.test(document.querySelector('[data-testid="recording"]')?.textContent ?? ''), null, { timeout: 10_000 });
    await page.screenshot({ path: join(SHOTS, 'live-session.png'), fullPage: true });

    expect(await num(page, 'frames-sent')).toBeGreaterThanOrEqual(back);
    expect(await page.getByTestId('transcript').textContent()).toMatch(/‹\d+›|\S/);
    expect(await page.getByTestId('latency-last').textContent()).toMatch(/^\d+ ms$/);
    // The reply is being played through the playback worklet, not just counted.
    await page.waitForFunction(() => /^[1-9]\d* ms$/.test(document.querySelector('[data-testid="playback-played"]')?.textContent ?? ''), null, { timeout: 5_000 });
    expect(await page.getByTestId('audio-rate').textContent()).toBe('24000 Hz');

    await stop(page);
    await page.getByTestId('final-text').waitFor();
    await page.screenshot({ path: join(SHOTS, 'live-ended.png'), fullPage: true });
    const sent = await num(page, 'frames-sent');
    const audioBack = await num(page, 'audio-frames');
    const gaps = await num(page, 'gaps');
    const steps = await num(page, 'steps');
    // Every step the server ran (one per frame; a late frame's slot filled with silence,
    // the late frame then dropped) came back as audio or as a step without audio.
    expect(audioBack + gaps).toBe(steps);
    expect(steps).toBeGreaterThanOrEqual(20);
    expect(partials).toBeGreaterThan(0);
    expect(problems.get(page)).toEqual([]);

    // The session folder the server wrote for this page's session.
    const m = await recordedFolder(sessionId!);
    const reader = await openSession(m[1]!, { strict: true });
    expect(reader.manifest.status).toBe('complete');
    expect(reader.manifest.meta).toMatchObject({ session: sessionId, requested: true, pace: 'realtime' });
    expect(reader.manifest.seed).toBe(2026);
    const scan = await reader.scan();
    expect(scan.wholeSteps).toBe(steps);
    // The microphone carried the fixture speech into the session, in order: a stretch of
    // the recorded input lines up with the fixture waveform.
    const t0 = performance.now();
    const c = matchFixture(await recordedInput(m[1]!));
    console.log(`recorded input vs fixture: correlation ${c.all} (${(performance.now() - t0).toFixed(0)} ms)`);
    // Echo cancellation is off (aec=0): it reshapes the signal by design. 1.000 measured.
    expect(c.median).toBeGreaterThan(0.99);

    const rep = await replaySession(m[1]!);
    expect(rep.expected).toBe('bit-exact');
    expect(rep.verdict).toBe('bit-exact');
    expect(rep.stepsReplayed).toBe(steps);
    await page.close();
    console.log(`live e2e: ${sent} frames sent, ${steps} steps, ${audioBack} audio frames back, ${partials}+ partials; replay ${rep.verdict} over ${rep.stepsReplayed} steps; screenshots in ${SHOTS}`);
  }, 180_000);

  it('on the Moshi protocol: streams the microphone as Ogg Opus to /api/chat, plays the reply; the session recorded with record=1 replays bit-exactly', async () => {
    const page = await openLive(`server=${encodeURIComponent(serve.url)}&protocol=moshi&record=1&seed=2026&aec=0`);
    expect(await page.getByTestId('protocol').inputValue()).toBe('moshi');
    expect(await page.getByTestId('record-toggle').isChecked()).toBe(true);
    await page.getByTestId('start').click();
    await page.getByTestId('session-id').waitFor({ timeout: 60_000 });
    const sessionId = (await page.getByTestId('session-id').textContent())!;
    expect(sessionId).toMatch(/^[0-9a-f]{8,}/);
    const back = await waitNum(page, 'audio-frames', 20, 60_000);
    await page.waitForFunction(() => /● recording/.test(document.querySelector('[data-testid="recording"]')?.textContent ?? ''), null, { timeout: 10_000 });
    expect(await num(page, 'frames-sent')).toBeGreaterThan(back);
    expect(await page.getByTestId('latency-last').textContent()).toMatch(/^\d+ ms$/);
    await page.waitForFunction(() => /^[1-9]\d* ms$/.test(document.querySelector('[data-testid="playback-played"]')?.textContent ?? ''), null, { timeout: 5_000 });
    expect(await page.getByTestId('latency-help').textContent()).toMatch(/k-th 80 ms of reply audio is taken to answer the k-th frame sent after the model's warm-up/);
    await page.screenshot({ path: join(SHOTS, 'live-moshi-session.png'), fullPage: true });

    await stop(page);
    const sent = await num(page, 'frames-sent');
    const audioBack = await num(page, 'audio-frames');
    // Stop waits for the reply to every frame sent (all but the warm-up step) before closing.
    expect(audioBack).toBeGreaterThanOrEqual(sent - 1);
    expect(await page.getByTestId('steps').textContent()).toBe('–');
    // The tiny model has no detokenizer: no text pieces on this protocol.
    expect(await page.getByTestId('final-text').textContent()).toContain('no text pieces');
    expect(await page.getByTestId('banner-error').count()).toBe(0);
    expect(problems.get(page)).toEqual([]);
    await page.close();

    const m = await recordedFolder(sessionId);
    const reader = await openSession(m[1]!, { strict: true });
    expect(reader.manifest.status).toBe('complete');
    expect(reader.manifest.meta).toMatchObject({ session: sessionId, requested: true, wire: 'moshi' });
    expect(reader.manifest.meta.wireInfo).toMatchObject({ query: { text_seed: '2026', audio_seed: '2026', record: '1' }, ignoredParams: [] });
    expect(reader.manifest.seed).toBe(2026);
    const steps = (await reader.scan()).wholeSteps;
    // Every reply step the page counted was a server step after the warm-up one; the server
    // may have stepped on (filling silence) until the page closed.
    expect(steps).toBeGreaterThanOrEqual(audioBack + 1);
    // The recorded input is what the server decoded from the page's Opus pages.
    const c = matchFixture(await recordedInput(m[1]!));
    const opusAlone = await opusRoundTripCorrelation(mic.samples24k, 3, 5760);
    console.log(`moshi: recorded input (Opus-decoded) vs fixture: correlation ${c.all}; Opus alone in Node: ${opusAlone.toFixed(3)} (worst of its 3 loudest windows)`);
    expect(c.median).toBeGreaterThan(opusAlone - OPUS_PATH_MARGIN);

    const rep = await replaySession(m[1]!);
    expect(rep.expected).toBe('bit-exact');
    expect(rep.verdict).toBe('bit-exact');
    expect(rep.stepsReplayed).toBe(steps);
    console.log(`live moshi e2e: ${sent} frames sent, ${audioBack} reply steps back, ${steps} server steps; replay ${rep.verdict}`);
  }, 180_000);

  it('on the Moshi protocol, a port without /api/chat (the viewer\'s own) gets a clear message, not a hang', async () => {
    const page = await openLive('aec=0');
    await page.getByTestId('protocol').selectOption('moshi');
    await page.getByTestId('server-url').fill(view.url.replace(/^http:/, 'ws:'));
    await page.getByTestId('start').click();
    const banner = page.getByTestId('banner-error');
    await banner.waitFor({ timeout: 30_000 });
    expect(await banner.textContent()).toMatch(/Not a Moshi server.*answers HTTP but refused a Moshi WebSocket at \/api\/chat.*--token needs \?token=/);
    expect(await page.getByTestId('phase').textContent()).toBe('failed');
    await page.screenshot({ path: join(SHOTS, 'live-moshi-not-a-server.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('on the Moshi protocol, the server\'s refusal (0x05 before the handshake) shows with its code', async () => {
    const degraded = await startServe(['--model', join(dir, 'no-such-model')]);
    try {
      const page = await openLive(`server=${encodeURIComponent(degraded.url)}&protocol=moshi`);
      await page.getByTestId('start').click();
      const banner = page.getByTestId('banner-degraded');
      await banner.waitFor({ timeout: 60_000 });
      expect(await banner.textContent()).toMatch(/Server degraded.*ENGINE_UNAVAILABLE/);
      expect(await page.getByTestId('phase').textContent()).toBe('failed');
      await page.close();
    } finally {
      await degraded.stop();
    }
  }, 60_000);

  it('on the Moshi protocol, an engine that dies mid-session shows the degraded banner (0x05 ENGINE_RESTARTED)', async () => {
    // Its own server: killing the shared one's engine is the last test's job.
    const own = await startServe([]);
    try {
      await own.waitForLog(/model \S+ ready/, 60_000);
      const page = await openLive(`server=${encodeURIComponent(own.url)}&protocol=moshi`);
      await page.getByTestId('start').click();
      await waitNum(page, 'audio-frames', 5, 60_000);
      const health = await (await fetch(`${own.url.replace(/^ws:/, 'http:')}health`)).json() as { engine: { workers: { pid: number | null; sessions: number }[] } };
      const worker = health.engine.workers.find((w) => w.sessions > 0);
      expect(worker?.pid).toBeGreaterThan(0);
      process.kill(worker!.pid!, 'SIGKILL');
      const banner = page.getByTestId('banner-degraded');
      await banner.waitFor({ timeout: 60_000 });
      expect(await banner.textContent()).toMatch(/Server degraded.*ENGINE_RESTARTED/);
      await page.waitForFunction(() => document.querySelector('[data-testid="phase"]')?.textContent === 'failed', null, { timeout: 10_000 });
      expect(await page.getByTestId('log').textContent()).toMatch(/server error ENGINE_RESTARTED: \S/);
      await page.close();
    } finally {
      await own.stop();
    }
  }, 120_000);

  it('a server that records every session (--record): the page says so and ticks Record though it did not ask', async () => {
    const own = await startServe(['--record', join(dir, 'all-sessions')]);
    try {
      await own.waitForLog(/model \S+ ready/, 60_000);
      const page = await openLive(`server=${encodeURIComponent(own.url)}&aec=0`);
      expect(await page.getByTestId('record-toggle').isChecked()).toBe(false);
      await page.getByTestId('start').click();
      await page.waitForFunction(() => /● recording by the server/.test(document.querySelector('[data-testid="recording"]')?.textContent ?? ''), null, { timeout: 60_000 });
      expect(await page.getByTestId('record-toggle').isChecked()).toBe(true);
      expect(await page.locator('label', { has: page.getByTestId('record-toggle') }).textContent()).toContain('Record (server)');
      const log = await page.getByTestId('log').textContent();
      expect(log).toContain('the server is recording this session');
      expect(log).not.toMatch(/recording recording/);
      await stop(page);
      expect(problems.get(page)).toEqual([]);
      await page.close();
    } finally {
      await own.stop();
    }
  }, 120_000);

  it('resamples when the AudioContext runs at the device rate: the recorded input is still the fixture speech', async () => {
    const page = await openLive(`server=${encodeURIComponent(serve.url)}&rate=device&record=1&aec=0`);
    expect(await page.getByTestId('record-toggle').isChecked()).toBe(true);
    await page.getByTestId('start').click();
    await page.getByTestId('session-id').waitFor({ timeout: 60_000 });
    const sessionId = (await page.getByTestId('session-id').textContent())!;
    await waitNum(page, 'audio-frames', 20, 60_000);
    const rate = await page.getByTestId('audio-rate').textContent();
    expect(rate).toMatch(/^\d+ Hz \(resampled to\/from 24 kHz\)$/);
    expect(rate).not.toMatch(/^24000 /);
    await stop(page);
    expect(problems.get(page)).toEqual([]);
    await page.close();
    const m = await recordedFolder(sessionId);
    const c = matchFixture(await recordedInput(m[1]!));
    console.log(`device rate ${rate}: recorded input vs fixture correlation ${c.all}`);
    // The page's own resampling (StreamResampler) keeps the waveform: 1.000 measured.
    expect(c.median).toBeGreaterThan(0.99);
  }, 120_000);

  it('says so when the server is degraded (no model can run)', async () => {
    const degraded = await startServe(['--model', join(dir, 'no-such-model')]);
    try {
      const page = await openLive(`server=${encodeURIComponent(degraded.url)}`);
      await page.getByTestId('start').click();
      const banner = page.getByTestId('banner-degraded');
      await banner.waitFor({ timeout: 60_000 });
      expect(await banner.textContent()).toMatch(/Server degraded.*ENGINE_UNAVAILABLE.*no such folder or repo id/);
      expect(await page.getByTestId('phase').textContent()).toBe('failed');
      expect(await page.getByTestId('banner-error').count()).toBe(0);
      await page.screenshot({ path: join(SHOTS, 'live-degraded.png'), fullPage: true });
      await page.close();
    } finally {
      await degraded.stop();
    }
  }, 60_000);

  it('says so when no server listens at the URL', async () => {
    // A port that was free a moment ago and has nothing listening now.
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const page = await openLive(`server=${encodeURIComponent(`ws://127.0.0.1:${port}/`)}`);
    await page.getByTestId('start').click();
    const banner = page.getByTestId('banner-error');
    await banner.waitFor({ timeout: 60_000 });
    expect(await banner.textContent()).toMatch(/Server unreachable.*Is `solacelive serve` running there/);
    await page.screenshot({ path: join(SHOTS, 'live-unreachable.png'), fullPage: true });
    await page.close();
  }, 60_000);

  it('says so when the URL answers HTTP but is no packet server (the viewer\'s own port)', async () => {
    const page = await openLive(`server=${encodeURIComponent(view.url.replace(/^http:/, 'ws:'))}`);
    await page.getByTestId('start').click();
    const banner = page.getByTestId('banner-error');
    await banner.waitFor({ timeout: 30_000 });
    expect(await banner.textContent()).toMatch(/Not a SolaceLive server.*answers HTTP but refused a SolaceLive WebSocket/);
    expect(await page.getByTestId('phase').textContent()).toBe('failed');
    await page.close();
  }, 60_000);

  it('Stop while connecting gives up cleanly (a server that never answers)', async () => {
    // Accepts TCP and never answers the WebSocket upgrade: the page waits in 'connecting'.
    const silent = createNetServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as AddressInfo).port;
      const page = await openLive(`server=${encodeURIComponent(`ws://127.0.0.1:${port}/`)}`);
      await page.getByTestId('start').click();
      await page.waitForFunction(() => document.querySelector('[data-testid="phase"]')?.textContent === 'connecting', null, { timeout: 10_000 });
      await page.getByTestId('stop').click();
      await page.waitForFunction(() => document.querySelector('[data-testid="phase"]')?.textContent === 'idle', null, { timeout: 10_000 });
      await page.waitForTimeout(500); // a late event from the abandoned attempt would show now
      expect(await page.getByTestId('phase').textContent()).toBe('idle');
      expect(await page.getByTestId('banner-error').count()).toBe(0);
      expect(await page.getByTestId('start').isEnabled()).toBe(true);
      expect(problems.get(page)).toEqual([]);
      await page.close();
    } finally {
      silent.close();
    }
  }, 60_000);

  it('says so when the server speaks another protocol (an upstream moshi server)', async () => {
    // Upstream moshi's web server greets every client with the one-byte handshake 0x00.
    const other = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    other.on('connection', (ws) => ws.send(Uint8Array.of(0)));
    await new Promise((r) => other.once('listening', r));
    try {
      const page = await openLive(`server=${encodeURIComponent(`ws://127.0.0.1:${(other.address() as AddressInfo).port}/api/chat`)}`);
      await page.getByTestId('start').click();
      const banner = page.getByTestId('banner-error');
      await banner.waitFor({ timeout: 60_000 });
      expect(await banner.textContent()).toMatch(/Wrong protocol.*does not speak the SolaceLive packet protocol v1: \S.*If it is a Moshi server, choose Protocol: Moshi\./);
      expect(await page.getByTestId('phase').textContent()).toBe('failed');
      await page.close();
    } finally {
      await new Promise((r) => other.close(r));
    }
  }, 60_000);

  // Last: it leaves the server restarting its engine.
  it('shows the degraded banner when the engine dies mid-session (the server restarts it and tells the page)', async () => {
    const page = await openLive(`server=${encodeURIComponent(serve.url)}`);
    await page.getByTestId('start').click();
    await waitNum(page, 'audio-frames', 5, 60_000);
    const health = await (await fetch(`${serve.url.replace(/^ws:/, 'http:')}health`)).json() as { engine: { workers: { pid: number | null; sessions: number }[] } };
    // The worker this page's session runs on (serve runs one per core): the only one with a session.
    const worker = health.engine.workers.find((w) => w.sessions > 0);
    expect(worker?.pid).toBeGreaterThan(0);
    // The engine process is the serve's child (started by this test): what a native abort in MLX does.
    process.kill(worker!.pid!, 'SIGKILL');
    const banner = page.getByTestId('banner-degraded');
    await banner.waitFor({ timeout: 60_000 });
    expect(await banner.textContent()).toMatch(/Server degraded.*ENGINE_RESTARTED.*reconnect/);
    await page.waitForFunction(() => document.querySelector('[data-testid="phase"]')?.textContent === 'failed', null, { timeout: 10_000 });
    await page.screenshot({ path: join(SHOTS, 'live-engine-restarted.png'), fullPage: true });
    await page.close();
  }, 120_000);
});
