// `solacelive demo`, the README's main job, as a user runs it: record → replay → verdict →
// where to look, with the tiny model and the fixture WAV, exit 0 on the expected verdict.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSession } from '../../../harness/format/node.ts';
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
