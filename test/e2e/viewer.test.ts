// The web viewer in real Chromium over a real `view` server and the recorded fixture
// session: the sessions list, the timeline (one bar per step, the budget line, a miss
// marker on every step over budget — checked on the canvas pixels, not only on what the
// page says it drew), the token lane, the packet table's filters and its sync with the
// timeline, a real saved replay verdict, a damaged copy that says what was recovered, and
// a session opened from a dropped folder with no server behind it. Screenshots go to
// .ci/results/screenshots/ (SOLACELIVE_SCREENSHOTS overrides).
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, truncate, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffSessions } from '../../harness/diff.ts';
import { openSession } from '../../harness/format/node.ts';
import { packetRow, type PacketRow } from '../../harness/view/packets.ts';
import { saveReplayResult, startViewServer, type ViewServer } from '../../harness/view/index.ts';
import type { Comparison } from '../../harness/compare.ts';
import { launchChromium } from './chromium.ts';

const FIXTURE = fileURLToPath(new URL('../../fixtures/sessions/hello-2s.session', import.meta.url));
const SHOTS = process.env.SOLACELIVE_SCREENSHOTS ?? fileURLToPath(new URL('../../.ci/results/screenshots/', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/solacelive.mjs', import.meta.url));
const BG = [0x15, 0x17, 0x1c]; // the timeline's background

interface FixtureStep { step: number; text: number | null; audioCodes: number[] | null; spans: Record<string, number> }

let dir: string, server: ViewServer, browser: Browser, page: Page;
let steps: FixtureStep[], packets: PacketRow[], divergence: Comparison;

function cli(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args[0]} exited ${code}: ${out}`))));
  });
}

/** RGBA of the timeline canvas at CSS pixel (x, y). */
async function pixel(x: number, y: number): Promise<number[]> {
  return page.evaluate(([x, y]) => {
    const c = document.querySelector<HTMLCanvasElement>('[data-testid=timeline]')!;
    const k = c.width / c.clientWidth;
    return [...c.getContext('2d')!.getImageData(Math.round(x * k), Math.round(y * k), 1, 1).data];
  }, [x, y] as const);
}

// The machine is shared: give the page time (expect.poll's default is 1 s).
const poll = <T,>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 20_000, interval: 100 });

const isBackground = (p: number[]) => Math.abs(p[0]! - BG[0]!) + Math.abs(p[1]! - BG[1]!) + Math.abs(p[2]! - BG[2]!) < 12;
const isRed = (p: number[]) => p[0]! > 200 && p[1]! < 110 && p[2]! < 110;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'viewer-e2e-'));
  const sessions = join(dir, 'sessions');
  await mkdir(sessions);
  await cp(FIXTURE, join(sessions, 'hello-2s.session'), { recursive: true });
  // A damaged copy: steps.jsonl cut in the middle of a line (as a crash leaves it).
  await cp(FIXTURE, join(sessions, 'torn.session'), { recursive: true });
  const stepsFile = join(sessions, 'torn.session', 'steps.jsonl');
  await truncate(stepsFile, (await stat(stepsFile)).size - 200);
  const text = await readFile(join(FIXTURE, 'steps.jsonl'), 'utf8');
  steps = text.trim().split('\n').slice(1).map((l) => JSON.parse(l) as FixtureStep);
  const r = await openSession(FIXTURE);
  packets = [];
  for await (const p of r.packets()) packets.push(packetRow(packets.length, p.direction, p.timeMs, p.bytes));
  // A real divergence: the fixture against a real recording of the same audio with another
  // seed, saved as a diff result in a copy of the fixture (what the page shows for one).
  await cp(FIXTURE, join(sessions, 'diverged.session'), { recursive: true });
  const other = join(dir, 'seed7.session');
  const recordOther = cli('record', '--in', fileURLToPath(new URL('../../fixtures/audio/hello.wav', import.meta.url)), '--out', other, '--seconds', '1', '--seed', '7', '--fast').then(async () => {
    const d = await diffSessions(join(sessions, 'diverged.session'), other);
    divergence = d.comparison;
    await saveReplayResult(join(sessions, 'diverged.session'), {
      kind: 'diff', at: new Date().toISOString(), verdict: d.comparison.verdict, expected: 'bit-exact', ok: false,
      fingerprintDiffs: d.fingerprintDiffs, comparison: d.comparison, labels: ['this session', 'seed7.session'], stepsReplayed: d.comparison.steps,
    });
  });
  // A real replay verdict for the list and the session page (written to replays/ by the CLI).
  const [, , s, b] = await Promise.all([cli('replay', join(sessions, 'hello-2s.session')), recordOther, startViewServer({ sessionsDir: sessions, port: 0 }), launchChromium()]);
  server = s;
  browser = b;
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await mkdir(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('viewer in Chromium', () => {
  it('lists the sessions with steps, misses and the last replay verdict; sorts and filters', async () => {
    await page.goto(server.url);
    await page.getByTestId('session-row').first().waitFor();
    const misses = steps.filter((s) => s.spans['step.total']! > 80).length;
    expect(misses).toBeGreaterThan(0); // the fixture has misses: the timeline check below relies on it
    const row = page.getByTestId('session-row').filter({ hasText: 'hello-2s.session' });
    const cells = await row.locator('td').allInnerTexts();
    expect(cells[2]).toBe('tiny');
    expect(cells[4]).toBe(String(steps.length));
    expect(cells[5]).toBe(String(misses));
    expect(cells[7]).toBe('bit-exact');
    await page.getByRole('columnheader', { name: /^steps/ }).click();
    const order = await page.getByTestId('session-row').locator('td:first-child a').allInnerTexts();
    expect(order[0]).toBe('torn.session'); // 24 whole steps, the others 25
    expect(order).toHaveLength(3);
    await page.getByTestId('sessions-filter').fill('hello');
    expect(await page.getByTestId('session-row').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'viewer-sessions.png'), fullPage: true });
  });

  it('draws the timeline: a bar per step, the 80 ms budget line, a marker on every miss', async () => {
    await page.getByRole('link', { name: 'hello-2s.session' }).click();
    const canvas = page.getByTestId('timeline');
    await poll(() => canvas.getAttribute('data-steps-drawn')).toBe(String(steps.length));
    const width = await canvas.evaluate((c) => c.clientWidth);
    const budgetY = Number(await canvas.getAttribute('data-budget-y'));
    // The budget line sits where 80 ms is: its row is red across the canvas (dashes: x ≡ 0…7 mod 12).
    expect(isRed(await pixel(2, budgetY))).toBe(true);
    expect(isRed(await pixel(width - 12 * 3 + 2, budgetY))).toBe(true);
    expect(isRed(await pixel(2, budgetY + 6))).toBe(false);
    const pxPerStep = width / steps.length;
    for (let i = 0; i < steps.length; i++) {
      const cx = (i + 0.5) * pxPerStep;
      // A bar: the bottom of the plot (HEIGHT 260 − axis 18 − event lane 14) is coloured at every step.
      expect(isBackground(await pixel(cx, 226)), `bar of step ${i}`).toBe(false);
      // Miss marker: red in the marker row exactly over the steps whose step.total > 80 ms.
      const miss = steps[i]!.spans['step.total']! > 80;
      expect(isRed(await pixel(cx, 4)), `miss marker of step ${i}`).toBe(miss);
    }
    expect((await canvas.getAttribute('data-miss-xs'))!.split(',').length).toBe(steps.filter((s) => s.spans['step.total']! > 80).length);
  });

  it('shows the token lane: the text token and the 8 audio codes of each step', async () => {
    const tokens = page.getByTestId('token');
    expect(await tokens.count()).toBe(steps.length);
    for (const i of [0, 2, steps.length - 1]) {
      const s = steps[i]!;
      const tok = tokens.nth(i);
      expect(await tok.getAttribute('data-step')).toBe(String(s.step));
      expect(await tok.locator('.tok-text').innerText()).toBe(s.text === null ? '·' : `#${s.text}`);
      expect(await tok.getByTestId('code').allInnerTexts()).toEqual((s.audioCodes ?? []).map(String));
    }
    expect(steps[2]!.audioCodes).toHaveLength(8);
  });

  it('filters the packet table and keeps it in sync with the timeline', async () => {
    const count = page.getByTestId('packet-count');
    await poll(() => count.innerText()).toBe(`${packets.length} of ${packets.length} messages`);
    await page.getByTestId('filter-direction').selectOption('1');
    const serverSent = packets.filter((p) => p.direction === 1).length;
    await poll(() => count.innerText()).toBe(`${serverSent} of ${packets.length} messages`);
    expect(new Set(await page.getByTestId('packet-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-direction'))))).toEqual(new Set(['1']));
    await page.getByTestId('filter-type').selectOption('TEXT_PARTIAL');
    const partials = packets.filter((p) => p.direction === 1 && p.packets.some((x) => x.type === 'TEXT_PARTIAL')).length;
    await poll(() => count.innerText()).toBe(`${partials} of ${packets.length} messages`);
    // Row → timeline: clicking the partial of step 5 selects step 5.
    await page.getByTestId('packet-row').filter({ has: page.locator('span:nth-child(5)', { hasText: /^5$/ }) }).click();
    await poll(() => page.locator('.viewbar').innerText()).toContain('selected step 5');
    // Timeline → table: zoom to steps 0–7 and keep only the packets of the steps in view.
    await page.getByTestId('filter-type').selectOption('all');
    await page.getByTestId('filter-direction').selectOption('0');
    const box = (await page.getByTestId('timeline').boundingBox())!;
    await page.mouse.move(box.x + 2, box.y + 100);
    for (let k = 0; k < 8; k++) await page.mouse.wheel(0, -200);
    await poll(async () => /steps 0–(\d+) of/.exec(await page.locator('.viewbar span').first().innerText())?.[1]).toMatch(/^[3-5]$/);
    await page.getByTestId('filter-in-view').check();
    const viewText = await page.locator('.viewbar span').first().innerText();
    const [, a, b] = /steps (\d+)–(\d+)/.exec(viewText)!;
    const inView = Number(b) - Number(a) + 1;
    expect(inView).toBeLessThan(steps.length);
    // Client frames k = a…b are the audio of steps a…b: one message each.
    await poll(() => count.innerText()).toBe(`${inView} of ${packets.length} messages`);
    await page.getByTestId('filter-in-view').uncheck();
    await page.getByText('show all').click();
    await page.getByTestId('filter-direction').selectOption('all');
  });

  it('plays the output audio from the selected step, with a moving playhead, pauses and resumes', async () => {
    // From step line 0: the fixture holds 2 s of audio, the whole check must fit in it.
    await page.getByTestId('token').nth(0).click();
    await poll(() => page.locator('.viewbar').innerText()).toContain('selected step 0');
    const canvas = page.getByTestId('timeline');
    const playhead = async () => Number((await canvas.getAttribute('data-playhead')) || -1);
    await page.getByTestId('play').click();
    // The playhead starts at the selected step and moves with the audio clock.
    await poll(playhead).toBeGreaterThan(0.2);
    await page.getByTestId('play').click();
    await poll(() => page.getByTestId('play').innerText()).toContain('resume');
    const pausedAt = await playhead();
    expect(pausedAt).toBeGreaterThan(0.2);
    expect(pausedAt).toBeLessThan(steps.length);
    // Resume continues from where it paused, not from the selected step.
    await page.getByTestId('play').click();
    await poll(() => page.getByTestId('play').innerText()).toMatch(/pause|play/);
    expect(await playhead()).toBeGreaterThanOrEqual(pausedAt);
  });

  it('shows the saved replay verdict and the summary, and exports the trace', async () => {
    await poll(() => page.getByTestId('verdict').innerText()).toBe('bit-exact');
    const spanRows = await page.getByTestId('span-table').locator('tbody tr td:first-child').allInnerTexts();
    expect(spanRows).toContain('mimi.encode');
    await poll(() => page.getByTestId('misses').innerText()).toContain(`${steps.filter((s) => s.spans['step.total']! > 80).length} of ${steps.length}`);
    const download = page.waitForEvent('download');
    await page.getByTestId('export-trace').click();
    const file = await (await download).path();
    const trace = JSON.parse(await readFile(file, 'utf8')) as { traceEvents: { ph: string; name: string }[] };
    expect(trace.traceEvents.filter((e) => e.ph === 'X' && e.name === 'mimi.encode').length).toBe(steps.filter((s) => s.spans['mimi.encode'] !== undefined).length);
    await page.screenshot({ path: join(SHOTS, 'viewer-session.png'), fullPage: true });
  });

  it('shows a divergence: the verdict, both sides of the first divergent step, its place on the timeline', async () => {
    expect(divergence.kind).toBe('diverged');
    const at = divergence.at!;
    await page.goto(`${server.url}#/s/diverged.session`);
    await poll(() => page.getByTestId('verdict').innerText()).toBe(`diverged at step ${at.step}`);
    const rows = page.locator('.divergence tr.differs');
    const fields = await rows.locator('td:first-child').allInnerTexts();
    expect(fields).toEqual(['inputCodes', 'text', 'audioCodes', 'pcmHash'].filter((f) => at.differs.includes(f as never)));
    const show = (v: unknown) => (Array.isArray(v) ? v.join(' ') : String(v));
    for (const [k, f] of fields.entries()) {
      expect(await rows.nth(k).locator('td').nth(1).innerText()).toBe(show(at.a[f as keyof typeof at.a]));
      expect(await rows.nth(k).locator('td').nth(2).innerText()).toBe(show(at.b[f as keyof typeof at.b]));
    }
    await page.getByTestId('show-divergence').click();
    await poll(() => page.locator('.viewbar').innerText()).toContain(`selected step ${at.step}`);
    // The divergence line (purple) runs through the step's column.
    const width = await page.getByTestId('timeline').evaluate((c) => c.clientWidth);
    const p = await pixel((at.step + 0.5) * (width / steps.length), 120);
    expect(p[0]! > 150 && p[2]! > 200 && p[1]! < 160, `divergence line colour ${p}`).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'viewer-diverged.png'), fullPage: true });
  });

  it('a damaged session shows what is wrong and what was recovered', async () => {
    await page.goto(`${server.url}#/s/torn.session`);
    await page.getByTestId('problems').waitFor();
    await poll(() => page.getByTestId('problems').innerText()).toContain('SESSION_ERR_TRUNCATED');
    await poll(() => page.getByTestId('problems').innerText()).toContain('steps.jsonl');
    await poll(() => page.getByTestId('timeline').getAttribute('data-steps-drawn')).toBe(String(steps.length - 1));
    await page.screenshot({ path: join(SHOTS, 'viewer-damaged.png'), fullPage: true });
  });

  it('opens a session folder picked from disk, with no server API behind it', async () => {
    // A page with no API: the built viewer served as static files by the same server would
    // still answer /api; open the picker on a blank page of its own origin instead and
    // check no request for /api/sessions/… is made while the local session loads.
    const apiCalls: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/sessions/')) apiCalls.push(r.url());
    });
    await page.goto(server.url);
    await page.getByTestId('pick-folder').setInputFiles(join(dir, 'sessions', 'hello-2s.session'));
    await poll(() => page.getByTestId('timeline').getAttribute('data-steps-drawn')).toBe(String(steps.length));
    await poll(() => page.getByTestId('verdict').innerText()).toBe('bit-exact'); // replays/ came along with the folder
    expect(apiCalls).toEqual([]);
  });

  it('opens a zipped session picked from disk', async () => {
    const zip = join(dir, 'hello.zip');
    await new Promise<void>((resolve, reject) => {
      const c = spawn('zip', ['-qr', zip, 'hello-2s.session', '-x', 'hello-2s.session/replays/*'], { cwd: join(dir, 'sessions'), stdio: 'inherit' });
      c.on('error', reject);
      c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`zip exited ${code}`))));
    });
    await page.goto(server.url);
    await page.getByTestId('pick-zip').setInputFiles(zip);
    await poll(() => page.getByTestId('session-page').getAttribute('data-steps')).toBe(String(steps.length));
    await poll(() => page.getByTestId('timeline').getAttribute('data-steps-drawn')).toBe(String(steps.length));
    await poll(() => page.getByTestId('packet-count').innerText()).toBe(`${packets.length} of ${packets.length} messages`);
    expect(await page.locator('h2').innerText()).toBe('hello.zip:hello-2s.session');
  });
});
