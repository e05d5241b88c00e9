// A disk that fills during a live recorded session: the session goes on to its end, the
// client is told recording stopped (and why), GET /health lists the stopped recording, and
// what was written before the disk filled still opens and replays bit-exactly.
// The full disk is a file-size limit on the real `solacelive serve --record` process
// (`ulimit -f`: EFBIG on write; Node ignores SIGXFSZ), so no root or mount is needed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../../src/client/connect.ts';
import { openSession } from '../../../harness/format/node.ts';
import { replaySession } from '../../../harness/replayer.ts';
import { testFrames } from '../../server/live/engine.ts';

const bin = new URL('../../../bin/solacelive.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'solacelive-stopped-'));
let child: ChildProcess | null = null;

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** serve --record with every file it writes limited to `kib` KiB; resolves with its URL when ready. */
function serveWithFileLimit(out: string, kib: number): Promise<{ url: string; log: () => string }> {
  child = spawn('bash', ['-c', `ulimit -f ${kib} && exec "$0" "$@"`, process.execPath, bin, 'serve', '--port', '0', '--record', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`serve not ready in 30 s:\n${log}`)), 30_000);
    child!.stderr!.on('data', () => {
      const url = /listening on (ws:\/\/\S+)/.exec(log)?.[1];
      if (url && /model \S+ ready/.test(log)) {
        clearTimeout(t);
        resolve({ url, log: () => log });
      }
    });
    child!.once('exit', (code) => reject(new Error(`serve exited (${code}) before it was ready:\n${log}`)));
  });
}

describe('recording stops when the disk fills', () => {
  it('the session goes on, the client and /health are told, and what was written replays bit-exactly', async () => {
    const out = join(dir, 'sessions');
    // ~31 KiB per step across packets.bin and the two WAVs: the limit is hit after a few steps.
    const { url, log } = await serveWithFileLimit(out, 160);
    const frames = testFrames(40, 7);
    const c = await connect(url, { pace: 'fast', seed: 7 });
    const result = await c.run(frames);

    expect(result.ok).toBe(true);
    expect(result.audioFrames + result.gaps.length).toBe(frames.length);
    expect(result.recording.map((m) => m.state)).toEqual(['recording', 'stopped']);
    const stopped = result.recording[1]!;
    expect(stopped.code).toBe('SESSION_ERR_DISK_FULL');
    expect(stopped.message).toMatch(/\S/);
    expect(stopped.steps).toBeGreaterThan(0);
    expect(stopped.steps).toBeLessThan(frames.length);

    const health = await (await fetch(url.replace(/^ws/, 'http').replace(/\/?$/, '') + '/health')).json() as {
      counters: Record<string, number>;
      hooks: { recorder: { stopped: { session: string; code: string; steps: number }[] } };
    };
    expect(health.counters.recordings_stopped).toBe(1);
    expect(health.hooks.recorder.stopped).toMatchObject([{ session: result.session, code: 'SESSION_ERR_DISK_FULL' }]);
    expect(log()).toMatch(/recording of session \S+ stopped \(SESSION_ERR_DISK_FULL/);

    child!.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    const folders = readdirSync(out);
    expect(folders).toHaveLength(1);
    const path = join(out, folders[0]!);
    const scan = await (await openSession(path)).scan();
    // Everything accepted before the disk filled, but at most the step in flight.
    expect(scan.wholeSteps).toBeGreaterThanOrEqual(stopped.steps! - 1);
    const replay = await replaySession(path);
    expect(replay.stepsReplayed).toBe(scan.wholeSteps);
    expect(replay.verdict).toBe('bit-exact');
  }, 120_000);
});
