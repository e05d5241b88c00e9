// `solacelive client` refusing what it cannot do, as a user sees it: no server at the URL is
// said with a command that starts one there (and that command does), and an OUT it could not
// write is refused before anything streams.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliProcesses } from '../cli-process.ts';

const cli = new CliProcesses();
const dir = mkdtempSync(join(tmpdir(), 'solacelive-client-errors-'));
const FIXTURE = new URL('../../fixtures/audio/hello.wav', import.meta.url).pathname;
afterAll(() => {
  cli.killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** A loopback port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('solacelive client errors', () => {
  it('no server at --url: says so and prints a serve command that starts one on that port', async () => {
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}`;
    const r = await cli.run(['client', '--in', FIXTURE, '--out', join(dir, 'out.wav'), '--url', url], 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no server is listening there/);
    expect(r.stderr).not.toMatch(/ECONNREFUSED/);
    const m = /start one with `([^`]+)`/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    // The hint runs as printed (from the folder the client ran in) and serves on that URL.
    const serve = spawn('/bin/sh', ['-c', `exec ${m![1]!}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    cli.children.push(serve);
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the printed command did not listen:\n${log}`)), 45_000);
      serve.stderr.on('data', (d) => {
        log += d;
        if (log.includes(`listening on ${url}`)) {
          clearTimeout(t);
          resolve();
        }
      });
      serve.on('exit', () => reject(new Error(`the printed command exited:\n${log}`)));
    });
    serve.kill('SIGINT');
    await new Promise((resolve) => serve.on('exit', resolve));
  }, 90_000);

  it('a server that wants a token: says to give it with --token', async () => {
    const { child: serve, url } = await cli.serve(['--port', '0', '--token', 'secret-1234']);
    const r = await cli.run(['client', '--in', FIXTURE, '--out', join(dir, 'out.wav'), '--url', url], 60_000);
    serve.kill('SIGINT');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[CLIENT_ERR_HTTP_401\] .*the server needs a token; give its token with --token T or SOLACELIVE_TOKEN/);
  }, 90_000);

  it('a --url that is not a server URL is a usage error, before the input is read', async () => {
    const r = await cli.run(['client', '--in', FIXTURE, '--out', join(dir, 'out.wav'), '--url', 'nonsense'], 60_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--url must be a server URL such as ws:\/\/127\.0\.0\.1:8788 \(got nonsense\)/);
    expect(r.stderr).not.toMatch(/^input/m);
  });

  it('a missing --in is said in words', async () => {
    const r = await cli.run(['client', '--in', join(dir, 'nope.wav'), '--out', join(dir, 'out.wav')], 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[AUDIO_ERR_IO\] cannot read .*nope\.wav: no such file \(ENOENT\)/);
  });

  it('an --out in a folder that does not exist is refused before connecting', async () => {
    const port = await freePort();
    const r = await cli.run(['client', '--in', FIXTURE, '--out', join(dir, 'missing', 'out.wav'), '--url', `ws://127.0.0.1:${port}`], 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--out .*missing\/out\.wav: the folder .*missing does not exist/);
    expect(r.stderr).not.toMatch(/no server|connected/);
  });
});
