// `solacelive client` stopped with Ctrl-C mid-stream, as a user does: the input ends there,
// the session ends normally, and the reply so far is written (not lost with the process).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readWavSync } from '../../src/audio/wav-file.ts';
import { BIN, CliProcesses } from '../cli-process.ts';

const cli = new CliProcesses();
const dir = mkdtempSync(join(tmpdir(), 'solacelive-client-interrupt-'));
const FIXTURE = new URL('../../fixtures/audio/hello.wav', import.meta.url).pathname;
afterAll(() => {
  cli.killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** Spawns `solacelive ARGS`; resolves once stderr matches `re`, with the child and its output so far. */
async function until(args: string[], re: RegExp) {
  const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  cli.children.push(c);
  const out = { stdout: '', stderr: '' };
  c.stdout.on('data', (d) => (out.stdout += d));
  const exited = new Promise<number | null>((resolve) => c.on('exit', resolve));
  const m = await new Promise<RegExpExecArray>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`solacelive ${args[0]} did not print ${re}:\n${out.stderr}`)), 60_000);
    c.stderr.on('data', (d) => {
      out.stderr += d;
      const hit = re.exec(out.stderr);
      if (hit) {
        clearTimeout(t);
        resolve(hit);
      }
    });
  });
  return { c, out, exited, m };
}

describe('solacelive client, Ctrl-C', () => {
  it('ends the session normally, writes the reply so far, exit 130', async () => {
    const serve = await until(['serve', '--port', '0'], /listening on (ws:\/\/\S+)/);
    const output = join(dir, 'reply.wav');
    try {
      const client = await until(['client', '--in', FIXTURE, '--out', output, '--url', serve.m[1]!], /^connected /m);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      client.c.kill('SIGINT');
      expect(await client.exited, client.out.stdout + client.out.stderr).toBe(130);
      expect(client.out.stderr).toMatch(/stopping: the input ends here/);
      expect(client.out.stdout).toMatch(/closed +1000 normal/);
      const reply = readWavSync(output);
      expect(reply.frames).toBeGreaterThan(0);
      expect(reply.frames).toBeLessThan(4 * 24000);
      expect(reply.frames % 1920).toBe(0);
    } finally {
      serve.c.kill('SIGINT');
      await serve.exited;
    }
  }, 120_000);
});
