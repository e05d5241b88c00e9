// The disk fills while `solacelive proxy --record` records (a file-size limit on the real CLI
// process: `ulimit -f`, EFBIG on write, as test/harness/replay/recording-stopped.test.ts):
// the connection goes on to its end with every reply, the console says the recording stopped
// and why, and what was written opens in the session reader.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMoshi } from '../../../src/client/moshi.ts';
import { openSession } from '../../../harness/format/node.ts';
import { BIN } from '../../cli-process.ts';
import { testFrames } from '../../server/live/engine.ts';
import { startTestUpstream, type TestUpstream } from './moshi-upstream.ts';

const dir = mkdtempSync(join(tmpdir(), 'solacelive-proxy-full-'));
let up: TestUpstream;
let child: ChildProcess | null = null;

beforeAll(async () => {
  up = await startTestUpstream();
});
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await up?.close();
  rmSync(dir, { recursive: true, force: true });
});

function proxyWithFileLimit(out: string, kib: number): Promise<{ url: string; log: () => string }> {
  child = spawn('bash', ['-c', `ulimit -f ${kib} && exec "$0" "$@"`, process.execPath, BIN, 'proxy', '--upstream', up.url, '--listen', '127.0.0.1:0', '--record', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`proxy not listening in 30 s:\n${log}`)), 30_000);
    child!.stderr!.on('data', () => {
      const url = /listening on (ws:\/\/\S+?)\/api\/chat/.exec(log)?.[1];
      if (url) {
        clearTimeout(t);
        resolve({ url, log: () => log });
      }
    });
    child!.once('exit', (code) => reject(new Error(`proxy exited (${code}):\n${log}`)));
  });
}

describe('the disk fills while the proxy records', () => {
  it('the connection goes on whole, the console says why recording stopped, what was written opens', async () => {
    const out = join(dir, 'sessions');
    // ~16 KiB per step in the two WAVs: the 96 KiB limit is reached after a few steps of 40.
    const { url, log } = await proxyWithFileLimit(out, 96);
    const c = await connectMoshi(`${url}/api/chat`);
    const res = await c.run(testFrames(40, 4));
    expect(res.ok).toBe(true);
    expect(res.audioFrames).toBe(39);
    const deadline = performance.now() + 10_000;
    while (!/\bended\b/.test(log()) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(log()).toMatch(/recording stopped \(SESSION_ERR_DISK_FULL/);
    expect(log()).toMatch(/lag p50/);
    child!.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    const [folder] = readdirSync(out);
    const s = await openSession(join(out, folder!));
    expect(s.manifest.status).toBe('failed');
    expect(s.manifest.error?.code).toBe('SESSION_ERR_DISK_FULL');
    const scan = await s.scan();
    expect(scan.wholeSteps).toBeGreaterThan(0);
    expect(scan.wholeSteps).toBeLessThan(40);
  }, 90_000);
});
