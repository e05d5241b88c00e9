// `solacelive serve` and `solacelive client` as a user runs them: spawned processes, a WAV
// in (16 kHz stereo, so the client resamples), a float32 WAV out, SIGINT to stop.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readWavSync, writeWavSync } from '../../../src/audio/wav-file.ts';
import { CliProcesses } from '../../cli-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'solacelive-cli-'));
const cli = new CliProcesses();
const children = cli.children;
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[], timeoutMs: number) => cli.run(args, timeoutMs);

describe('solacelive serve + client', () => {
  it('streams a WAV, writes a float32 reply of the same length, prints text and latency; SIGINT stops the server', async () => {
    const rate = 16000;
    const n = 2 * rate;
    const left = Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 180 * i) / rate));
    const right = Float32Array.from({ length: n }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 260 * i) / rate));
    const input = join(dir, 'in.wav');
    const output = join(dir, 'out.wav');
    writeWavSync(input, [left, right], rate, { format: 'pcm16' });

    const { child: serve, url, log } = await cli.serve(['--port', '0']);

    const r = await run(['client', '--in', input, '--out', output, '--url', url, '--seed', '7', '--greedy'], 60_000);
    expect(r.stderr).toMatch(/connected .*model \S+/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^text {8}".*"$/m);
    expect(r.stdout).toMatch(/^latency .*p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms/m);
    expect(r.stdout).toMatch(/closed +1000 normal: session ended/);
    const out = readWavSync(output);
    expect(out.format).toBe('float32');
    expect(out.sampleRate).toBe(24000);
    expect(out.frames).toBe(2 * 24000);
    expect(out.channels[0]!.some((x) => x !== 0)).toBe(true);

    serve.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => serve.on('exit', resolve));
    expect(code).toBe(0);
    expect(log()).toMatch(/shutting down/);
  }, 120_000);

  it('serve --engines 2 runs two engine worker processes, lists both on /health, and stops them on SIGINT', async () => {
    const { child: serve, url } = await cli.serve(['--port', '0', '--engines', '2'], 60_000, true);
    const res = await fetch(`${url.replace(/^ws:/, 'http:').replace(/\/$/, '')}/health`);
    expect(res.status).toBe(200);
    const h = (await res.json()) as { engine: { workers: { state: string; pid: number }[] } };
    expect(h.engine.workers.map((w) => w.state)).toEqual(['ok', 'ok']);
    const pids = h.engine.workers.map((w) => w.pid);
    expect(new Set(pids).size).toBe(2);
    serve.kill('SIGINT');
    expect(await new Promise<number | null>((resolve) => serve.on('exit', resolve))).toBe(0);
    // The workers went with the server.
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  }, 120_000);

  it('serve --engines 0 is refused with a usage error naming the flag', async () => {
    const r = await run(['serve', '--port', '0', '--engines', '0'], 60_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--engines must be 1\.\.64/);
  }, 60_000);
});
