// The Ogg Opus modules in real Chromium: bundled by Vite from a test page (the .wasm located by
// a `?url` import, as a page would), they encode and decode the speech fixture to the very same
// Ogg bytes and PCM bytes as Node does with the same build: one pinned codec on both sides.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav, loadLibopusNode, MOSHI_CLIENT_SHAPE, OggOpusDecoder, OggOpusEncoder } from '../../../src/audio/index.ts';
import { launchChromium } from '../../e2e/chromium.ts';

const PAGE_ROOT = new URL('./browser/', import.meta.url).pathname;
const FIXTURE = new URL('../../../fixtures/audio/hello.wav', import.meta.url).pathname;
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.wav': 'audio/wav' };

describe('Ogg Opus in Chromium (Vite bundle)', () => {
  let out: string;
  let server: Server;
  let origin: string;
  let browser: Browser;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'solacelive-opus-page-'));
    await build({ root: PAGE_ROOT, base: './', logLevel: 'warn', configFile: false, build: { outDir: out, emptyOutDir: true } });
    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const file = path === '/hello.wav' ? FIXTURE : normalize(join(out, path === '/' ? 'index.html' : path));
      if (!file.startsWith(out) && file !== FIXTURE) return void res.writeHead(403).end();
      try {
        const body = readFileSync(file);
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    origin = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('encodes and decodes to the same bytes as Node, with the same build identity', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/index.html`);
    await page.waitForFunction(() => 'runOggOpus' in globalThis);
    const got = await page.evaluate((url) => (globalThis as unknown as { runOggOpus: (u: string) => Promise<unknown> }).runOggOpus(url), '/hello.wav') as {
      identity: unknown; oggSha256: string; pcmSha256: string; samples: number;
    };
    expect(errors).toEqual([]);

    const lib = await loadLibopusNode();
    const speech = decodeWav(readFileSync(FIXTURE)).channels[0]!;
    const enc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 0x5eed });
    const ogg = Buffer.concat([...enc.push(speech), ...enc.end()]);
    const dec = new OggOpusDecoder({ lib });
    dec.push(ogg);
    dec.end();
    const pcm = dec.read();
    expect(got.identity).toEqual(lib.identity);
    expect(got.samples).toBe(speech.length);
    expect(got.oggSha256).toBe(createHash('sha256').update(ogg).digest('hex'));
    expect(got.pcmSha256).toBe(createHash('sha256').update(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)).digest('hex'));
  });
});
