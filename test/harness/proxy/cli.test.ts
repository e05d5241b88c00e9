// `solacelive proxy` as a user runs it: bad options are refused before anything listens, with
// the usage or a typed error, and --help says what the command does.
import { afterAll, describe, expect, it } from 'vitest';
import { CliProcesses } from '../../cli-process.ts';

const cli = new CliProcesses();
afterAll(() => {
  for (const c of cli.children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('solacelive proxy options', () => {
  it('--upstream is required; a non-WebSocket URL and a bad --listen are refused by name', async () => {
    const none = await cli.run(['proxy'], 30_000);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--upstream is required/);
    const ftp = await cli.run(['proxy', '--upstream', 'ftp://127.0.0.1:1/api/chat'], 30_000);
    expect(ftp.code).not.toBe(0);
    expect(ftp.stderr).toMatch(/PROXY_ERR_UPSTREAM/);
    expect(ftp.stderr).toMatch(/ws:\/\/ or wss:\/\//);
    const listen = await cli.run(['proxy', '--upstream', 'ws://127.0.0.1:1/api/chat', '--listen', 'nowhere'], 30_000);
    expect(listen.code).toBe(2);
    expect(listen.stderr).toMatch(/--listen must be HOST:PORT/);
    const hang = await cli.run(['proxy', '--upstream', 'ws://127.0.0.1:1/api/chat', '--measure-hang-ms', '0'], 30_000);
    expect(hang.code).toBe(2);
    expect(hang.stderr).toMatch(/--measure-hang-ms must be an integer > 0 \(got 0\)/);
    const help = await cli.run(['proxy', '--help'], 30_000);
    expect(help.code).toBe(0);
    for (const flag of ['--upstream', '--listen', '--record', '--stall-ms', '--timeout-ms', '--max-buffered', '--measure-hang-ms']) expect(help.stdout).toContain(flag);
  }, 60_000);
});
