// The Moshi protocol from the command line, as a user runs it: `serve --record` and
// `client --protocol moshi` as spawned processes (the fixture WAV in, a float32 WAV out, the
// recorded session replaying with the verdict its fingerprint allows), errors in words, and
// `record --protocol moshi` followed by `replay --paced`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInputAudio } from '../../../src/cli/input-audio.ts';
import { MOSHI_CLIENT_SHAPE, OggOpusEncoder } from '../../../src/audio/opus/index.ts';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';
import { readWavSync } from '../../../src/audio/wav-file.ts';
import { BIN, CliProcesses } from '../../cli-process.ts';

const FIXTURE = new URL('../../../fixtures/audio/hello.wav', import.meta.url).pathname;
const TOKEN = 'moshi-test-token-1234';
const dir = mkdtempSync(join(tmpdir(), 'solacelive-moshi-cli-'));
const sessions = join(dir, 'sessions');
const cli = new CliProcesses();
let serve: ChildProcess;
let url: string;
let serveLog = '';

beforeAll(async () => {
  serve = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--record', sessions, '--token', TOKEN], { stdio: ['ignore', 'pipe', 'pipe'] });
  cli.children.push(serve);
  url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`serve did not listen within 45 s:\n${serveLog}`)), 45_000);
    serve.stderr!.on('data', (d) => {
      serveLog += d;
      const m = /listening on (ws:\/\/\S+)/.exec(serveLog);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!.replace(/\/$/, ''));
      }
    });
  });
}, 60_000);
afterAll(() => {
  cli.killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** `replay` decides what to expect from the fingerprints (bit-exact when they match) and exits 0 only when it is met. */
function expectVerdictMet(r: { code: number | null; stdout: string; stderr: string }): void {
  const verdict = /^verdict: (\S+)/m.exec(r.stdout)?.[1];
  const expected = /^expected (bit-exact|token-exact) \((platform fingerprint matches|platform differs)/m.exec(r.stdout);
  expect(expected, r.stdout + r.stderr).not.toBeNull();
  if (expected![2] === 'platform fingerprint matches') expect(expected![1]).toBe('bit-exact');
  if (expected![1] === 'bit-exact') expect(verdict).toBe('bit-exact');
  expect(r.stdout).toMatch(/asked \S+: OK$/m);
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

describe('solacelive client --protocol moshi', () => {
  it('streams the fixture as Ogg Opus to /api/chat, writes a reply as long as the input, prints latency; the recorded session replays', async () => {
    const out = join(dir, 'reply.wav');
    const r = await cli.run(['client', '--protocol', 'moshi', '--in', FIXTURE, '--out', out, '--url', url, '--token', TOKEN, '--seed', '7', '--greedy'], 90_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^connected +ws:\/\/127\.0\.0\.1:\d+\/api\/chat\?text_temperature=0&text_topk=1&audio_temperature=0&audio_topk=1&text_seed=7&audio_seed=7: model \S+ .*seed 7/m);
    const answered = Number(/^output +(\d+) audio frames of 80 ms for 50 frames sent \(the first 1 answered by none: warm-up\)$/m.exec(r.stdout)?.[1]);
    expect(answered, r.stdout).toBeGreaterThanOrEqual(49);
    // Every frame after the warm-up, and the input's tail behind the client encoder's pre-skip that SolaceLive answers after the EOS page.
    const enc = new OggOpusEncoder({ lib: await loadLibopusNode(), shape: MOSHI_CLIENT_SHAPE, serial: 1 });
    const encoded = Math.ceil((50 * 1920 + Math.ceil(enc.preSkip / 2)) / 1920);
    enc.end();
    expect(r.stdout).toMatch(new RegExp(`^latency +frame sent → audio back over ${encoded - 1} frames: p50 [\\d.]+ ms, p95 [\\d.]+ ms, p99 [\\d.]+ ms, max [\\d.]+ ms; first audio [\\d.]+ ms$`, 'm'));
    expect(r.stdout).toMatch(/^closed +1000 normal/m);
    const session = /^session +(\S+)$/m.exec(r.stdout)?.[1];
    expect(session).toMatch(/^[0-9a-f-]{36}$/);
    const input = await readInputAudio(FIXTURE);
    const wav = readWavSync(out);
    expect(wav.format).toBe('float32');
    expect(wav.sampleRate).toBe(24000);
    expect(wav.frames).toBe(input.totalSamples);
    const reply = wav.channels[0]!;
    // The warm-up frame is silent; the reply is there after it.
    expect(reply.subarray(0, 1920).every((x) => x === 0)).toBe(true);
    expect(reply.subarray(1920).some((x) => x !== 0)).toBe(true);

    // serve --record wrote it (the folder is named for the session) and it replays.
    const deadline = performance.now() + 30_000;
    let recorded: RegExpExecArray | null = null;
    while (!(recorded = new RegExp(`session recorded: (\\S+-${session!}\\.session) \\(complete, (\\d+) steps\\)`).exec(serveLog)) && performance.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect(recorded, serveLog).not.toBeNull();
    // Every frame is a step (one more only if load held the close past the missing-frame timer: no end message in this protocol).
    expect(Number(recorded![2])).toBeGreaterThanOrEqual(50);
    expect(readdirSync(sessions).map((n) => join(sessions, n))).toContain(recorded![1]);
    const replay = await cli.run(['replay', recorded![1]!, '--no-save'], 90_000);
    expectVerdictMet(replay);
  }, 200_000);

  it('Ctrl-C ends the input there: the reply so far is written, one slot per frame sent, exit 130', async () => {
    const output = join(dir, 'interrupted.wav');
    const c = spawn(process.execPath, [BIN, 'client', '--protocol', 'moshi', '--in', FIXTURE, '--out', output, '--url', url, '--token', TOKEN], { stdio: ['ignore', 'pipe', 'pipe'] });
    cli.children.push(c);
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => c.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`client did not connect:\n${stderr}`)), 60_000);
      c.stderr.on('data', (d) => {
        stderr += d;
        if (/^connected /m.test(stderr)) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    c.kill('SIGINT');
    expect(await exited, stdout + stderr).toBe(130);
    expect(stderr).toMatch(/stopping: the input ends here/);
    const sent = Number(/^output +\d+ audio frames of 80 ms for (\d+) frames sent/m.exec(stdout)?.[1]);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(50);
    expect(stdout).toMatch(/^closed +1000 normal/m);
    expect(readWavSync(output).frames).toBe(sent * 1920);
  }, 120_000);

  it('without the token: HTTP 401 with what to do', async () => {
    const r = await cli.run(['client', '--protocol', 'moshi', '--in', FIXTURE, '--out', join(dir, 'x.wav'), '--url', url], 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[CLIENT_ERR_HTTP_401\] ws:\/\/127\.0\.0\.1:\d+\/api\/chat: server answered HTTP 401 Unauthorized .*the server needs a token; give its token with --token T or SOLACELIVE_TOKEN/);
  }, 90_000);

  it('a URL where the server speaks SolaceLive packets: "does not speak the Moshi protocol", exit 1', async () => {
    const r = await cli.run(['client', '--protocol', 'moshi', '--in', FIXTURE, '--out', join(dir, 'y.wav'), '--url', `${url}/live`, '--token', TOKEN], 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[CLIENT_ERR_PROTOCOL\] .*\/live does not speak the Moshi protocol: it answered with SolaceLive packets/);
  }, 90_000);

  it('a web server without WebSockets at the path: HTTP 404 with where Moshi servers answer', async () => {
    const web = createHttpServer((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('not here\n'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    try {
      const r = await cli.run(['client', '--protocol', 'moshi', '--in', FIXTURE, '--out', join(dir, 'w.wav'), '--url', `ws://127.0.0.1:${(web.address() as AddressInfo).port}/chat`], 60_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/\[CLIENT_ERR_HTTP_404\] ws:\/\/127\.0\.0\.1:\d+\/chat: server answered HTTP 404 Not Found \(not here\): nothing answers WebSockets at that path \(Moshi servers answer at \/api\/chat/);
    } finally {
      await new Promise((r) => web.close(r));
    }
  }, 90_000);

  it('options of the other protocol are usage errors, before anything connects', async () => {
    const a = await cli.run(['client', '--protocol', 'moshi', '--fast', '--in', FIXTURE, '--out', join(dir, 'z.wav')], 30_000);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--fast is a SolaceLive packet protocol option: the Moshi protocol streams in real time/);
    const b = await cli.run(['client', '--audio-seed', '3', '--in', FIXTURE, '--out', join(dir, 'z.wav')], 30_000);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--audio-seed is a Moshi protocol option/);
    const c = await cli.run(['client', '--protocol', 'mosh', '--in', FIXTURE, '--out', join(dir, 'z.wav')], 30_000);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/--protocol must be solacelive or moshi \(got mosh\)/);
  }, 90_000);
});

describe('solacelive record --protocol moshi, then replay --paced', () => {
  it('records over /api/chat and the paced replay speaks Moshi to a fresh server with the verdict met', async () => {
    const out = join(dir, 'rec.session');
    const r = await cli.run(['record', '--protocol', 'moshi', '--in', FIXTURE, '--out', out, '--seconds', '1', '--seed', '11'], 120_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/streaming at real-time pace on the Moshi protocol/);
    // 13 frames (1 s); a step more only when load kept the connection open past the server's missing-frame timer (no end message in this protocol).
    const steps = Number(/^status +closed, (\d+) steps/m.exec(r.stdout)?.[1]);
    expect(steps, r.stdout + r.stderr).toBeGreaterThanOrEqual(13);
    expect(r.stdout).toMatch(/^client +ended normally, seed 11$/m);
    const p = await cli.run(['replay', out, '--paced', '--no-save', '--out', join(dir, 'paced.session')], 120_000);
    expect(p.code, p.stdout + p.stderr).toBe(0);
    expect(p.stdout).toMatch(new RegExp(`^steps +recorded ${steps}, paced ${steps} \\(\\d+ Moshi messages \\(Ogg Opus pages\\) sent to /api/chat at the recorded times\\)$`, 'm'));
    expect(p.stdout).toMatch(/^expected (bit-exact|token-exact); OK$/m);
  }, 240_000);
});
