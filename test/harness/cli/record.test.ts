// `solacelive record` as a user runs it: a folder that already holds a session is refused
// before anything streams (and no replay of it is suggested); a 22.05 kHz WAV is said to be
// resampled, as `client` says it; the printed replay command runs as printed.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeWavSync } from '../../../src/audio/wav-file.ts';
import { openSession } from '../../../harness/format/node.ts';
import { BIN, CliProcesses } from '../../cli-process.ts';

const cli = new CliProcesses();
const dir = mkdtempSync(join(tmpdir(), 'solacelive-record-test-'));
const FIXTURE_SESSION = new URL('../../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
const FIXTURE_WAV = new URL('../../../fixtures/audio/hello.wav', import.meta.url).pathname;
afterAll(() => {
  cli.killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('solacelive record', () => {
  it('refuses a folder that already holds a session before streaming, and suggests no replay', async () => {
    const out = join(dir, 'taken.session');
    cpSync(FIXTURE_SESSION, out, { recursive: true });
    const before = readdirSync(out).map((n) => [n, statSync(join(out, n)).mtimeMs]);
    const r = await cli.run(['record', '--in', FIXTURE_WAV, '--out', out, '--seconds', '1'], 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[SESSION_ERR_EXISTS\] .*taken\.session already holds a session/);
    expect(r.stderr).not.toMatch(/streaming|UNTRAINED/);
    expect(r.stdout).not.toMatch(/replay/);
    expect(readdirSync(out).map((n) => [n, statSync(join(out, n)).mtimeMs])).toEqual(before);
  });

  it('Ctrl-C ends the session early but whole: the folder is finalized and replayable, exit 130', async () => {
    const out = join(dir, 'interrupted.session');
    const c = spawn(process.execPath, [BIN, 'record', '--in', FIXTURE_WAV, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    cli.children.push(c);
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => c.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`record did not start streaming:\n${stderr}`)), 60_000);
      c.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.includes('streaming at real-time pace')) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    // Part of the 4 s input streamed, then the user's Ctrl-C.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    c.kill('SIGINT');
    expect(await exited, stdout + stderr).toBe(130);
    expect(stderr).toMatch(/stopping: the input ends here/);
    expect(stdout).toMatch(/^status {3}closed/m);
    expect(stdout).toMatch(/^replay {3}.*interrupted\.session$/m);
    const s = await openSession(out, { strict: true });
    expect(s.manifest.status).toBe('complete');
    const steps = (await s.scan()).wholeSteps;
    expect(steps).toBeGreaterThan(0);
    expect(steps).toBeLessThan(50);
  }, 120_000);

  it('says it resamples a 22.05 kHz WAV, records it, and prints a replay command that runs as printed', async () => {
    const rate = 22050;
    const input = join(dir, 'in-22k.wav');
    writeWavSync(input, Float32Array.from({ length: rate }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / rate)), rate, { format: 'pcm16' });
    const out = join(dir, 'new.session');
    const r = await cli.run(['record', '--in', input, '--out', out, '--seconds', '0.5', '--fast', '--seed', '3'], 90_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/in-22k\.wav: 7 frames of 80 ms \(0\.56 s\), resampled 22050 → 24000 Hz/);
    // The engine's notes are record's, not another command's.
    expect(r.stderr).not.toMatch(/solacelive serve:/);
    const m = /^replay {3}(.+)$/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const replay = spawnSync('/bin/sh', ['-c', `${m![1]!} --no-save`], { encoding: 'utf8', timeout: 90_000 });
    expect(replay.status, replay.stdout + replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/^verdict: /m);
  }, 180_000);
});
