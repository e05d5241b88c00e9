// The web viewer in real Chromium over a real `view` server and the recorded fixture
// session: the sessions list, the timeline (one bar per step, the budget line, a miss
// marker on every step over budget — checked on the canvas pixels, not only on what the
// page says it drew), the token lane, the packet table's filters and its sync with the
// timeline, a real saved replay verdict, a real saved diff shown apart from it, a damaged
// copy that says what was recovered, a session opened from a dropped folder with no server
// behind it, and a viewer with a token. Screenshots go to .ci/results/screenshots/
// (SOLACELIVE_SCREENSHOTS overrides).
//
// The fixture was recorded on another machine: a replay here is bit-exact only when the
// platform fingerprints match, so the verdict the page must show is derived the way `replay`
// derives it (fingerprintDiffs against this machine's engine), never pinned.
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, truncate, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffSessions } from '../../harness/diff.ts';
import { openSession } from '../../harness/format/node.ts';
import { fingerprintDiffs, replayEngine } from '../../harness/replayer.ts';
import { packetRow, type PacketRow } from '../../harness/view/packets.ts';
import { latestResults, startViewServer, type ViewServer } from '../../harness/view/index.ts';
import { satisfies, type Comparison, type VerdictKind } from '../../harness/compare.ts';
import { launchChromium } from './chromium.ts';
import { isBudgetMiss } from '../../harness/view/stats.ts';
import { endToEndMs } from '../../src/telemetry/spans.ts';
import { budgetVerdict, keepsUpText } from '../../src/telemetry/window.ts';

const FIXTURE = fileURLToPath(new URL('../../fixtures/sessions/hello-2s.session', import.meta.url));
const SHOTS = process.env.SOLACELIVE_SCREENSHOTS ?? fileURLToPath(new URL('../../.ci/results/screenshots/', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/solacelive.mjs', import.meta.url));
const BG = [0x15, 0x17, 0x1c]; // the timeline's background

interface FixtureStep { step: number; text: number | null; audioCodes: number[] | null; spans: Record<string, number> }

let dir: string, server: ViewServer, browser: Browser, page: Page;
let steps: FixtureStep[], packets: PacketRow[], divergence: Comparison;
/** What a replay of the fixture may give on this machine: bit-exact only when the fingerprints match. */
let allowed: 'bit-exact' | 'token-exact';
/** The verdict `solacelive replay` saved for the fixture here. */
let savedVerdict: string;
const TOKEN = 'viewer-e2e-token-42';

function cli(args: string[], exitCodes = [0]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('exit', (code) => (exitCodes.includes(code ?? -1) ? resolve(out) : reject(new Error(`${args[0]} exited ${code}: ${out}`))));
  });
}

/** The verdict kind of a printed verdict ("diverged at step N" → diverged). */
const kindOf = (verdict: string): VerdictKind => (verdict.startsWith('diverged') ? 'diverged' : (verdict as VerdictKind));

/** The replay's fingerprint check against an engine started as `replay` starts it (recorded BLAS pinning). */
async function allowedHere(session: string): Promise<'bit-exact' | 'token-exact'> {
  const m = (await openSession(session)).manifest;
  const { own, info } = await replayEngine(session, m, {});
  await own?.close();
  return fingerprintDiffs(m.platform, info.fingerprint).length === 0 ? 'bit-exact' : 'token-exact';
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
  // seed, saved by `sessions diff` into a copy of the fixture (exit 1: not bit-exact). The
  // page must show it as a diff whose divergence was expected, not as the copy's replay.
  await cp(FIXTURE, join(sessions, 'diverged.session'), { recursive: true });
  const other = join(dir, 'seed7.session');
  const recordOther = cli(['record', '--in', fileURLToPath(new URL('../../fixtures/audio/hello.wav', import.meta.url)), '--out', other, '--seconds', '1', '--seed', '7', '--fast']).then(async () => {
    await cli(['sessions', 'diff', join(sessions, 'diverged.session'), other], [1]);
    divergence = (await diffSessions(join(sessions, 'diverged.session'), other)).comparison;
  });
  // A real replay verdict for the list and the session page (written to replays/ by the CLI).
  const replayed = cli(['replay', join(sessions, 'hello-2s.session')], [0]).then(async () => {
    savedVerdict = (await latestResults(join(sessions, 'hello-2s.session'))).replay!.verdict;
  });
  const [, , s, b, a] = await Promise.all([replayed, recordOther, startViewServer({ sessionsDir: sessions, port: 0 }), launchChromium(), allowedHere(FIXTURE)]);
  allowed = a;
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
    const misses = steps.filter((s) => isBudgetMiss(s)).length;
    expect(misses).toBeGreaterThan(0); // the fixture has misses: the timeline check below relies on it
    const row = page.getByTestId('session-row').filter({ hasText: 'hello-2s.session' });
    const cells = await row.locator('td').allInnerTexts();
    expect(cells[2]).toBe('tiny');
    expect(cells[4]).toBe(String(steps.length));
    expect(cells[5]).toBe(String(misses));
    // The saved replay verdict, and one the fingerprints allow (bit-exact where they match).
    expect(cells[7]).toBe(savedVerdict);
    expect(satisfies(kindOf(cells[7]!), allowed), `${cells[7]} on a machine allowing ${allowed}`).toBe(true);
    expect(cells[8]).toBe('—'); // no diff of this session
    // The diff saved into diverged.session is not its replay verdict: shown apart, as expected.
    const diffRow = await page.getByTestId('session-row').filter({ hasText: 'diverged.session' }).locator('td').allInnerTexts();
    expect(diffRow[7]).toBe('—');
    expect(diffRow[8]).toMatch(/^vs seed7\.session: diverged at step \d+ \(expected: (.+, )?seed(, .+)? differs?\)$/);
    expect(await page.getByTestId('session-row').filter({ hasText: 'diverged.session' }).getByTestId('last-diff').getAttribute('class')).not.toContain('error');
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
      // Miss marker: red in the marker row exactly over the steps whose e2e > 80 ms.
      const miss = isBudgetMiss(steps[i]!);
      expect(isRed(await pixel(cx, 4)), `miss marker of step ${i}`).toBe(miss);
    }
    expect((await canvas.getAttribute('data-miss-xs'))!.split(',').length).toBe(steps.filter((s) => isBudgetMiss(s)).length);
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
    // The row click scrolled the table into view: bring the timeline back under the mouse
    // (how far depends on the panels above it, e.g. a token-exact verdict's extra lines).
    await page.getByTestId('timeline').scrollIntoViewIfNeeded();
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
    await poll(() => page.getByTestId('verdict').innerText()).toBe(savedVerdict);
    expect(satisfies(kindOf(savedVerdict), allowed)).toBe(true);
    expect(await page.getByTestId('expectation').innerText()).toContain(`expected ${allowed}`);
    expect(await page.getByTestId('expectation').innerText()).toMatch(/: met$/);
    const spanRows = await page.getByTestId('span-table').locator('tbody tr td:first-child').allInnerTexts();
    expect(spanRows).toContain('mimi.encode');
    await poll(() => page.getByTestId('misses').innerText()).toContain(`${steps.filter((s) => isBudgetMiss(s)).length} of ${steps.length}`);
    // The verdict end to end, as the session summary computes it (this fixture falls behind).
    const verdict = keepsUpText(budgetVerdict(steps.map((s) => endToEndMs(s.spans)!), []).keepsUp);
    expect(verdict).toBe('falls behind');
    expect(await page.getByTestId('keeps-up').innerText()).toBe(verdict);
    expect(await page.getByTestId('rtf').innerText()).toMatch(/^\d+\.\d\d end to end · engine \d+\.\d\d$/);
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
    await poll(() => page.getByTestId('diff-verdict').innerText()).toBe(`diverged at step ${at.step}`);
    // What was compared and what was expected; no replay verdict is claimed for this session.
    const expectation = await page.getByTestId('diff-expectation').innerText();
    expect(expectation).toContain('compared with seed7.session');
    expect(expectation).toMatch(/seed: \d+ vs 7/);
    expect(expectation).toContain('a divergence is expected');
    expect(await page.getByTestId('replay').innerText()).toContain('No replay result saved');
    expect(await page.locator('body').innerText()).not.toContain('NOT met');
    const rows = page.locator('.divergence tr.differs');
    const fields = await rows.locator('td:first-child').allInnerTexts();
    expect(fields).toEqual(['inputCodes', 'text', 'audioCodes', 'pcmHash'].filter((f) => at.differs.includes(f as never)));
    const show = (v: unknown) => (Array.isArray(v) ? v.join(' ') : String(v));
    for (const [k, f] of fields.entries()) {
      expect(await rows.nth(k).locator('td').nth(1).innerText()).toBe(show(at.a[f as keyof typeof at.a]));
      expect(await rows.nth(k).locator('td').nth(2).innerText()).toBe(show(at.b[f as keyof typeof at.b]));
    }
    await page.getByTestId('diff-show-divergence').click();
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
    await page.goto(server.url);
    // Counted from here: the previous page's background loads (the last session's waveforms)
    // may still go out while it navigates away.
    const apiCalls: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/sessions/')) apiCalls.push(r.url());
    });
    await page.getByTestId('pick-folder').setInputFiles(join(dir, 'sessions', 'hello-2s.session'));
    await poll(() => page.getByTestId('timeline').getAttribute('data-steps-drawn')).toBe(String(steps.length));
    await poll(() => page.getByTestId('verdict').innerText()).toBe(savedVerdict); // replays/ came along with the folder
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

  it('works behind a token: the page opened with ?token= sends it on every API call', async () => {
    const guarded = await startViewServer({ sessionsDir: join(dir, 'sessions'), port: 0, token: TOKEN });
    try {
      const refused: string[] = [];
      page.on('response', (r) => {
        if (r.url().includes('/api/') && r.status() === 401) refused.push(r.url());
      });
      await page.goto(guarded.url);
      await poll(() => page.locator('body').innerText()).toContain('unauthorized');
      // A session page without the token says what the server said: its code and its words, not a bare status.
      await page.goto(`${guarded.url}#/s/hello-2s.session`);
      await poll(() => page.getByTestId('fatal').innerText()).toMatch(/VIEW_ERR_TOKEN: hello-2s\.session\/\S+: unauthorized: this viewer has a token; open the page as \/\?token=<token>/);
      // Leaving the tokenless page ends its requests still in flight (their 401s are not the tokened page's).
      await page.goto('about:blank');
      refused.length = 0;
      await page.goto(`${guarded.url}?token=${TOKEN}#/`);
      await page.getByTestId('session-row').first().waitFor();
      await page.getByRole('link', { name: 'hello-2s.session' }).click();
      await poll(() => page.getByTestId('timeline').getAttribute('data-steps-drawn')).toBe(String(steps.length));
      await poll(() => page.getByTestId('packet-count').innerText()).toBe(`${packets.length} of ${packets.length} messages`);
      await poll(() => page.getByTestId('verdict').innerText()).toBe(savedVerdict);
      expect(refused).toEqual([]);
    } finally {
      await guarded.close();
    }
  });
});
