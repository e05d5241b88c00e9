// `solacelive demo`, the README's main job, as a user runs it: record → replay → verdict →
// where to look, with the tiny model and the fixture WAV, exit 0 on the expected verdict.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSession } from '../../../harness/format/node.ts';

const bin = new URL('../../../bin/solacelive.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'solacelive-demo-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('solacelive demo', () => {
  it('records a live session, replays it bit-exactly, and says where the session is', async () => {
    const out = join(dir, 'demo.session');
    const r = await run(['demo', '--seconds', '1.2', '--out', out]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/^1 record/m);
    expect(r.out).toMatch(/15 audio frames back for 15 sent|14 audio frames back for 15 sent/);
    expect(r.out).toMatch(/step\.total\s+p50\s+\d+\.\d+\s+p99\s+\d+\.\d+ ms/);
    expect(r.out).toMatch(/^3 verdict {2}bit-exact — 15 steps/m);
    expect(r.out).toContain(out);
    const s = await openSession(out, { strict: true });
    expect(s.manifest.status).toBe('complete');
    expect((await s.scan()).wholeSteps).toBe(15);
  }, 120_000);

  it('refuses a bad option with a usage error and exit 2', async () => {
    const r = await run(['demo', '--seconds', 'zero']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--seconds must be a number > 0/);
  });
});
