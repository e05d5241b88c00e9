// `solacelive demo`, the README's main job, as a user runs it: record → replay → verdict →
// where to look, with the tiny model and the fixture WAV, exit 0 on the expected verdict.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSession } from '../../../harness/format/node.ts';
import { latestReplayResult } from '../../../harness/view/replays.ts';
import { CliProcesses } from '../../cli-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'solacelive-demo-test-'));
const cli = new CliProcesses();
afterAll(() => {
  cli.killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** `solacelive ARGS` with its output as out (stdout) and err (stderr). */
async function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const r = await cli.run(args, 110_000);
  return { code: r.code, out: r.stdout, err: r.stderr };
}

describe('solacelive demo', () => {
  let lookLines: string[] = [];
  it('records a live session, replays it bit-exactly, and says where the session is', async () => {
    const out = join(dir, 'demo.session');
    const r = await run(['demo', '--seconds', '1.2', '--out', out]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/^1 record/m);
    expect(r.out).toMatch(/15 audio frames back for 15 sent|14 audio frames back for 15 sent/);
    expect(r.out).toMatch(/step\.total\s+p50\s+\d+\.\d+\s+p99\s+\d+\.\d+ ms/);
    // The budget's own row (frame in → reply out), and the misses counted on it.
    expect(r.out).toMatch(/^ {2}e2e\s+p50\s+\d+\.\d+\s+p99\s+\d+\.\d+ ms/m);
    expect(r.out).toMatch(/\d+ steps? over it end to end/);
    expect(r.out).toMatch(/^3 verdict {2}bit-exact — 15 steps/m);
    expect(r.out).toContain(out);
    const s = await openSession(out, { strict: true });
    expect(s.manifest.status).toBe('complete');
    expect((await s.scan()).wholeSteps).toBe(15);
    // The demo's verdict is saved as `solacelive replay` saves it: the viewer shows it.
    const saved = await latestReplayResult(out);
    expect(saved?.kind).toBe('replay');
    expect(saved?.verdict).toBe(/^3 verdict {2}(\S+)/m.exec(r.out)![1]);
    expect(saved?.ok).toBe(true);
    lookLines = r.out.split('\n').filter((l) => /^ {11}\S.*   # /.test(l)).map((l) => l.trim().replace(/ {3}# .*$/, ''));
  }, 120_000);

  it('prints "look" commands that run as printed, in the order given', async () => {
    expect(lookLines.length).toBeGreaterThanOrEqual(5);
    for (const line of lookLines) {
      if (/ view /.test(line)) {
        // A server: it must come up and say where; then stop it.
        const v = spawn('/bin/sh', ['-c', `exec ${line}`], { stdio: ['ignore', 'pipe', 'pipe'] });
        cli.children.push(v);
        let log = '';
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`${line} did not serve within 90 s:\n${log}`)), 90_000);
          const seen = (d: Buffer) => {
            log += d;
            if (/viewer +http:\/\/\S+/.test(log)) {
              clearTimeout(t);
              resolve();
            }
          };
          v.stdout.on('data', seen);
          v.stderr.on('data', seen);
          v.on('exit', (code) => reject(new Error(`${line} exited ${code}:\n${log}`)));
        });
        v.kill('SIGTERM');
        await new Promise((resolve) => v.on('exit', resolve));
        continue;
      }
      const r = spawnSync('/bin/sh', ['-c', line], { encoding: 'utf8', timeout: 100_000 });
      expect(r.status, `${line}\n${r.stdout}${r.stderr}`).toBe(0);
      // `replay --out` prints a diff command of its own: that one runs as printed too.
      const next = /\(this replay as a session: (.+)\)$/m.exec(r.stdout)?.[1];
      if (/ --out /.test(line) && / replay /.test(line)) {
        expect(next, r.stdout).toBeDefined();
        const d = spawnSync('/bin/sh', ['-c', `${next!} --no-save`], { encoding: 'utf8', timeout: 100_000 });
        expect(d.status, `${next}\n${d.stdout}${d.stderr}`).toBe(0);
      }
    }
    expect(existsSync(join(dir, 'demo-replayed.session', 'manifest.json'))).toBe(true);
    expect(existsSync(join(dir, 'demo.trace.json'))).toBe(true);
  }, 400_000);

  it('--protocol moshi records over /api/chat (Ogg Opus) and gives the verdict the fingerprints allow', async () => {
    const out = join(dir, 'moshi.session');
    const r = await run(['demo', '--protocol', 'moshi', '--seconds', '1', '--out', out]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/^1 record .*\(the Moshi protocol: Ogg Opus at \/api\/chat\)/m);
    expect(Number(/(\d+) audio frames back for 13 sent \(every frame after the warm-up answered\)/.exec(r.out)?.[1])).toBeGreaterThanOrEqual(12);
    const v = /^3 verdict {2}(\S+) — \d+ steps .*; expected (\S+) \((platform fingerprint matches|platform differs)\): OK$/m.exec(r.out);
    expect(v, r.out).not.toBeNull();
    if (v![3] === 'platform fingerprint matches') expect(v![1]).toBe('bit-exact');
    const s = await openSession(out, { strict: true });
    expect(s.manifest.meta.wire).toBe('moshi');
  }, 120_000);

  it('refuses an --out that already holds a session before recording', async () => {
    const out = join(dir, 'taken.session');
    cpSync(new URL('../../../fixtures/sessions/hello-2s.session', import.meta.url).pathname, out, { recursive: true });
    const r = await run(['demo', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\[SESSION_ERR_EXISTS\] .*taken\.session already holds a session/);
    expect(r.out).not.toMatch(/^1 record/m);
  });

  it('refuses a bad option with a usage error and exit 2', async () => {
    const r = await run(['demo', '--seconds', 'zero']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--seconds must be a number > 0/);
  });
});
