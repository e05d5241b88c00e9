// The web viewer in real Chromium on a session freshly recorded on the Moshi protocol
// (`solacelive record --protocol moshi`: the Node Moshi client, Ogg Opus to /api/chat of a
// real loopback server): it opens like any other, with no error banner; the packet table
// lists Moshi kinds and each audio message's Ogg pages (sequence, granule, size, packets,
// BOS/EOS); selecting a packet selects its step (by order: see viewer/src/data/packet-steps.ts);
// the token lane and waveforms are there; the Perfetto export has both packet tracks.
// Expectations come from the recorded files, parsed in Node, never pinned.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, type ReadStep } from '../../harness/format/node.ts';
import { inputFramingOf, PACKET_TYPES, packetRowReader, wireOf, type PacketRow } from '../../harness/view/packets.ts';
import { startViewServer, type ViewServer } from '../../harness/view/index.ts';
import { packetStepLines } from '../../viewer/src/data/packet-steps.ts';
import { launchChromium } from './chromium.ts';

const SHOTS = process.env.SOLACELIVE_SCREENSHOTS ?? fileURLToPath(new URL('../../.ci/results/screenshots/', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/solacelive.mjs', import.meta.url));
const NAME = 'moshi.session';

let dir: string, server: ViewServer, browser: Browser, page: Page;
let steps: ReadStep[], rows: PacketRow[], lines: Int32Array;
const pageErrors: string[] = [];

function cli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args[0]} exited ${code}: ${out}`))));
  });
}

const poll = <T,>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 20_000, interval: 100 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'viewer-moshi-e2e-'));
  const sessions = join(dir, 'sessions');
  await mkdir(sessions);
  const path = join(sessions, NAME);
  const [, b] = await Promise.all([
    cli(['record', '--protocol', 'moshi', '--in', fileURLToPath(new URL('../../fixtures/audio/hello.wav', import.meta.url)), '--out', path, '--seconds', '2', '--seed', '9']),
    launchChromium(),
  ]);
  browser = b;
  const r = await openSession(path);
  expect(r.manifest.meta.wire).toBe('moshi');
  steps = [];
  for await (const s of r.steps()) steps.push(s);
  rows = [];
  const row = packetRowReader(wireOf(r.manifest), inputFramingOf(r.manifest));
  for await (const p of r.packets()) rows.push(row(rows.length, p.direction, p.timeMs, p.bytes));
  lines = packetStepLines(rows, steps);
  server = await startViewServer({ sessionsDir: sessions, port: 0 });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await mkdir(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('viewer on a Moshi-protocol session, in Chromium', () => {
  it('lists it and opens it like any other: timeline, token ids, both waveforms, no error banner', async () => {
    await page.goto(server.url);
    const listed = page.getByTestId('session-row').filter({ hasText: NAME });
    await listed.waitFor();
    const cells = await listed.locator('td').allInnerTexts();
    expect(cells[4]).toBe(String(steps.length));
    await page.getByRole('link', { name: NAME }).click();
    await poll(() => page.getByTestId('timeline').getAttribute('data-steps-drawn')).toBe(String(steps.length));
    // The tiny model has no detokenizer: the lane shows the token ids, as for packet sessions.
    const tokens = page.getByTestId('token');
    expect(await tokens.count()).toBe(steps.length);
    for (const i of [0, 3, steps.length - 1]) {
      const s = steps[i]!;
      expect(await tokens.nth(i).locator('.tok-text').innerText()).toBe(s.textPiece ?? (s.text === null ? '·' : `#${s.text}`));
    }
    await poll(() => page.getByTestId('wave-input').getAttribute('data-loaded')).toBe('yes');
    await poll(() => page.getByTestId('wave-output').getAttribute('data-loaded')).toBe('yes');
    await poll(() => page.getByTestId('packet-count').innerText()).toBe(`${rows.length} of ${rows.length} messages`);
    expect(await page.getByTestId('problems').count()).toBe(0);
    expect(await page.getByTestId('fatal').count()).toBe(0);
    expect(await page.getByTestId('wire').innerText()).toMatch(/^Moshi \(\/api\/chat\?.*text_seed=9.*Ogg Opus, opusscript .*libopus/);
    expect(pageErrors).toEqual([]);
  });

  it('lists each message by kind and the Ogg pages of the audio ones', async () => {
    expect(rows.filter((r) => r.error !== null)).toEqual([]);
    const options = await page.getByTestId('filter-type').locator('option').allInnerTexts();
    expect(options).toEqual(['all', ...PACKET_TYPES.moshi]);
    // Server → client first: metadata, the handshake, then the Opus header message.
    const kinds = await page.getByTestId('packet-row').evaluateAll((els) => els.slice(0, 3).map((e) => e.getAttribute('data-kind')));
    expect(kinds).toEqual(rows.slice(0, 3).map((r) => r.packets[0]!.type));
    expect(kinds).toEqual(['metadata', 'handshake', 'audio']);
    await page.getByTestId('filter-direction').selectOption('0');
    await page.getByTestId('filter-type').selectOption('audio');
    const clientAudio = rows.filter((r) => r.direction === 0 && r.packets[0]!.type === 'audio');
    await poll(() => page.getByTestId('packet-count').innerText()).toBe(`${clientAudio.length} of ${rows.length} messages`);
    const shown = page.getByTestId('ogg-page');
    await poll(() => shown.count()).toBeGreaterThan(3);
    const n = await shown.count();
    const fields = await shown.evaluateAll((els) => els.map((e) => ['sequence', 'granule', 'size', 'packets', 'bos', 'eos'].map((k) => e.getAttribute(`data-${k}`))));
    const expected = clientAudio.flatMap((r) => r.pages).slice(0, n).map((p) => [p.sequence, p.granule ?? -1, p.size, p.packets, p.bos, p.eos].map(String));
    expect(fields).toEqual(expected);
    expect(fields[0]![4]).toBe('true'); // the OpusHead page opens the stream (BOS)
    expect(await shown.first().innerText()).toContain('OpusHead');
    expect(await shown.nth(2).innerText()).toMatch(/page #2 g=\d+ \d+ B 2 pk/);
    await page.screenshot({ path: join(SHOTS, 'viewer-moshi-packets.png'), fullPage: true });
  });

  it('selecting a client audio message selects the step whose frame it completes; a reply selects its step', async () => {
    // The client message that completes input frame 5 (the mapping is checked against the
    // server's decoder in test/viewer/packet-steps.test.ts).
    const k = rows.findIndex((r, i) => r.direction === 0 && lines[i] === 5);
    expect(k).toBeGreaterThan(0);
    await page.getByTestId('packet-row').filter({ has: page.locator('span:first-child', { hasText: new RegExp(`^${k}$`) }) }).click();
    await poll(() => page.locator('.viewbar').innerText()).toContain(`selected step ${steps[5]!.step}`);
    expect(await page.locator('[data-testid=packet-row].selected').count()).toBeGreaterThan(0);
    await page.getByTestId('filter-direction').selectOption('1');
    const j = rows.findIndex((r, i) => r.direction === 1 && lines[i] === 7);
    expect(rows[j]!.packets[0]!.type).toBe('audio');
    await page.getByTestId('packet-row').filter({ has: page.locator('span:first-child', { hasText: new RegExp(`^${j}$`) }) }).click();
    await poll(() => page.locator('.viewbar').innerText()).toContain(`selected step ${steps[7]!.step}`);
    await page.getByTestId('filter-type').selectOption('all');
    await page.getByTestId('filter-direction').selectOption('all');
    expect(pageErrors).toEqual([]);
  });

  it('exports a Perfetto trace with both packet tracks and a flow per step', async () => {
    const download = page.waitForEvent('download');
    await page.getByTestId('export-trace').click();
    const trace = JSON.parse(await readFile(await (await download).path(), 'utf8')) as { traceEvents: { ph: string; name: string; cat?: string; tid: number; args?: { name?: string } }[] };
    const threads = new Map(trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid, e.args!.name!]));
    const packets = trace.traceEvents.filter((e) => e.cat === 'packet');
    expect(packets.length).toBe(rows.length);
    const audioOn = (track: string) => packets.filter((e) => e.name === 'audio' && threads.get(e.tid)!.startsWith(track)).length;
    expect(audioOn('packets client')).toBe(rows.filter((r) => r.direction === 0 && r.packets[0]!.type === 'audio').length);
    expect(audioOn('packets server')).toBe(rows.filter((r) => r.direction === 1 && r.packets[0]!.type === 'audio').length);
    const flowStarts = trace.traceEvents.filter((e) => e.cat === 'flow' && e.ph === 's' && threads.get(e.tid)!.startsWith('packets client')).length;
    expect(flowStarts).toBe(steps.filter((s) => !s.events.some((e) => e.kind === 'missing-frame')).length);
    expect(pageErrors).toEqual([]);
  });
});
