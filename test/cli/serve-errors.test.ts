// `solacelive serve` refusing what it cannot do, as a user sees it: a busy port said as such
// with what to do (not a raw `listen EADDRINUSE`), and a bad option refused before the model
// is looked at (no UNTRAINED warning ahead of the option error).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliProcesses } from '../cli-process.ts';

const cli = new CliProcesses();
const held: Server[] = [];
const dir = mkdtempSync(join(tmpdir(), 'solacelive-serve-errors-'));
afterAll(() => {
  cli.killAll();
  for (const s of held) s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A real listener on a free loopback port, held for the test. */
async function busyPort(): Promise<number> {
  const s = createServer();
  held.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return (s.address() as { port: number }).port;
}

describe('solacelive serve errors', () => {
  it('a port in use: says so and suggests --port 0, exit 1', async () => {
    const port = await busyPort();
    const r = await cli.run(['serve', '--port', String(port)], 60_000);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`port 127\\.0\\.0\\.1:${port} is in use .*--port 0 for a free one`));
    expect(r.stderr).not.toMatch(/listen EADDRINUSE/);
  });

  it('a --host name that does not resolve is said so, not as a raw getaddrinfo error', async () => {
    const r = await cli.run(['serve', '--host', 'nosuchhost.invalid', '--token', 'abcdefgh123', '--port', '0'], 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[CLI_ERR_HOST\] cannot listen on nosuchhost\.invalid:0: the host name nosuchhost\.invalid does not resolve/);
    expect(r.stderr).not.toMatch(/getaddrinfo/);
  });

  it('an out-of-range port is refused before the model is resolved', async () => {
    const r = await cli.run(['serve', '--port', '99999'], 60_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/port must be 0\.\.65535, got 99999/);
    expect(r.stderr).not.toMatch(/UNTRAINED|model tiny/);
  });

  it('a --record folder that cannot be made is refused before the server listens', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    const r = await cli.run(['serve', '--port', '0', '--record', join(file, 'sessions')], 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[SESSION_ERR_UNWRITABLE\] cannot use .*a-file\/sessions as the recording folder: a path component is not a folder/);
    expect(r.stderr).not.toMatch(/listening|UNTRAINED/);
  });
});
