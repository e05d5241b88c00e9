// `solacelive loadtest` as a user runs it: bad URLs, an address where nothing listens, a
// server that accepts and never answers, and bad input files each end with their own code
// and say what was wrong; a WAV of another rate or channel count is converted and said so;
// against a real `serve`, --json writes bench-format results that `bench gate` gates.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { freePort } from '../../../deploy/haproxy.ts';
import { writeWavSync } from '../../../src/audio/wav-file.ts';
import { sessionInputs, wavInput } from '../../../harness/loadtest/index.ts';
import { CliProcesses } from '../../cli-process.ts';

const cli = new CliProcesses();
let dir: string;
let silent: Server;
let silentPort: number;
const sockets: Socket[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'loadtest-cli-'));
  // Accepts TCP connections and never says a word (no HTTP, no handshake).
  silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(() => {
  cli.killAll();
  for (const s of sockets) s.destroy();
  silent?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('solacelive loadtest: bad input', () => {
  it('no URL, a bad URL, bad options: usage or LOADTEST_ERR_URL, naming what is wrong', async () => {
    const none = await cli.run(['loadtest', '--clients', '1'], 30_000);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/give the server URL/);
    const ftp = await cli.run(['loadtest', 'ftp://127.0.0.1:1', '--clients', '1'], 30_000);
    expect(ftp.code).not.toBe(0);
    expect(ftp.stderr).toMatch(/LOADTEST_ERR_URL/);
    expect(ftp.stderr).toMatch(/scheme must be ws/);
    const junk = await cli.run(['loadtest', 'not a url', '--clients', '1'], 30_000);
    expect(junk.stderr).toMatch(/LOADTEST_ERR_URL.*is not a URL/);
    const many = await cli.run(['loadtest', 'ws://127.0.0.1:1', '--clients', '1000'], 30_000);
    expect(many.code).toBe(2);
    expect(many.stderr).toMatch(/--clients must be an integer from 1 to 256/);
    const proto = await cli.run(['loadtest', 'ws://127.0.0.1:1', '--clients', '1', '--protocol', 'http'], 30_000);
    expect(proto.stderr).toMatch(/--protocol must be moshi or solacelive/);
    const help = await cli.run(['loadtest', '--help'], 30_000);
    expect(help.code).toBe(0);
    for (const flag of ['--clients', '--in', '--sessions', '--duration', '--ramp', '--protocol', '--json', '--record', '--find-capacity', '--budget-ms', '--max-clients']) expect(help.stdout).toContain(flag);
  }, 120_000);

  it('nothing listening: LOADTEST_ERR_UNREACHABLE at once; accepted but never answered: LOADTEST_ERR_NO_ANSWER within the connect timeout', async () => {
    const port = await freePort();
    const t0 = performance.now();
    const off = await cli.run(['loadtest', `ws://127.0.0.1:${port}`, '--clients', '2'], 30_000);
    expect(off.code).not.toBe(0);
    expect(off.stderr).toMatch(/LOADTEST_ERR_UNREACHABLE/);
    expect(off.stderr).toMatch(/connection refused/);
    const mute = await cli.run(['loadtest', `ws://127.0.0.1:${silentPort}`, '--clients', '2', '--connect-timeout-ms', '800', '--duration', '1'], 30_000);
    expect(mute.code).not.toBe(0);
    expect(mute.stderr).toMatch(/LOADTEST_ERR_NO_ANSWER/);
    expect(mute.stderr).toMatch(/never answered/);
    expect(performance.now() - t0).toBeLessThan(25_000);
  }, 60_000);

  it('a WebSocket server that does not speak Moshi: LOADTEST_ERR_NOT_MOSHI saying what it sent', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    wss.on('connection', (ws) => ws.send('hello, I am a chat server'));
    await new Promise<void>((r) => wss.once('listening', () => r()));
    try {
      const r = await cli.run(['loadtest', `ws://127.0.0.1:${(wss.address() as { port: number }).port}`, '--clients', '2', '--duration', '1'], 30_000);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/LOADTEST_ERR_NOT_MOSHI/);
      expect(r.stderr).toMatch(/does not speak the Moshi protocol: it sent a text message/);
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    }
  }, 60_000);

  it('a file that is not a WAV, an empty --sessions folder: LOADTEST_ERR_WAV / LOADTEST_ERR_SESSIONS', async () => {
    const txt = join(dir, 'speech.wav');
    writeFileSync(txt, 'this is not audio');
    const bad = await cli.run(['loadtest', 'ws://127.0.0.1:1', '--clients', '1', '--in', txt], 30_000);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/LOADTEST_ERR_WAV/);
    expect(bad.stderr).toContain(txt);
    expect(bad.stderr).toMatch(/AUDIO_ERR_NOT_WAV/);
    const empty = mkdtempSync(join(dir, 'empty-'));
    const none = await cli.run(['loadtest', 'ws://127.0.0.1:1', '--clients', '1', '--sessions', empty], 30_000);
    expect(none.stderr).toMatch(/LOADTEST_ERR_SESSIONS.*no session folder with an input.wav/);
  }, 60_000);

  it('a 16 kHz stereo WAV is downmixed and resampled to 24 kHz mono, and says so; --sessions takes the client side of recorded sessions', () => {
    const path = join(dir, 'stereo16k.wav');
    const n = 16_000;
    writeWavSync(path, [Float32Array.from({ length: n }, (_, i) => 0.2 * Math.sin(i / 10)), new Float32Array(n)], 16_000);
    const input = wavInput(path);
    expect(input.conversion).toMatch(/resampled 16000 → 24000 Hz, downmixed 2 → 1 channels/);
    expect(input.frames.length).toBe(Math.ceil(24_000 / 1920));
    const fixture = new URL('../../../fixtures/sessions', import.meta.url).pathname;
    const sessions = sessionInputs(fixture);
    expect(sessions.map((s) => s.name)).toEqual(['hello-2s.session']);
    expect(sessions[0]!.frames.length).toBeGreaterThan(20);
  });
});

describe('solacelive loadtest --json against serve', () => {
  it('writes solacelive-bench/1 results with a server suite that bench gate reads', async () => {
    const { url } = await cli.serve(['--port', '0'], 90_000, true);
    const out = join(dir, 'server.json');
    const r = await cli.run(['loadtest', url, '--clients', '1', '--duration', '2', '--rounds', '2', '--json', out, '--budget-ms', '60000'], 120_000);
    expect(r.stderr).toMatch(/2 round\(s\) of 1 client\(s\)/);
    expect(r.stdout).toMatch(/round 1\/2: +1 clients: lag p50/);
    // The server's own figures beside the clients', read from its /health at the end of each level.
    expect(r.stdout).toMatch(/round 1\/2: +1 clients: lag p50 .*; server \/health: session cost [\d.-]+ ms\/step, admission capacity \d+, worker cpu [\d./-]+, worker step p99 [\d/-]+ ms, e2e p99 \d+ ms/);
    expect(r.stdout).toMatch(/^server \/health: session cost/m);
    expect(r.stderr).not.toMatch(/no server figures/);
    expect(r.stdout).toMatch(/client\s+input\s+status\s+handshake\s+first audio\s+lag p50/);
    const results = JSON.parse(readFileSync(out, 'utf8'));
    expect(results.format).toBe('solacelive-bench/1');
    expect(results.suites.map((s: { suite: string }) => s.suite)).toEqual(['server']);
    const figures = results.suites[0].figures.map((f: { id: string }) => f.id);
    expect(figures).toEqual(['server/lag', 'server/lag-late', 'server/first-audio', 'server/handshake', 'server/ms-per-session']);
    for (const f of results.suites[0].figures) expect(f.ratios).toHaveLength(2);
    // Packets sent to /api/chat (where SolaceLive speaks Moshi) get no ready: said, with what to do.
    const wrong = await cli.run(['loadtest', `${url}/api/chat`, '--protocol', 'solacelive', '--clients', '1', '--duration', '1', '--connect-timeout-ms', '1500'], 60_000);
    expect(wrong.stderr).toMatch(/LOADTEST_ERR_NO_ANSWER.*never answered.*use --protocol moshi/);
    const gate = await cli.run(['bench', 'gate', '--results', out, '--allow-missing-baseline'], 60_000);
    expect(gate.stdout).toMatch(/Bench gate/);
    expect(gate.stdout).toContain('server/lag');
  }, 240_000);
});
