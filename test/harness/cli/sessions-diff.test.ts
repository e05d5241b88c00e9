// `solacelive sessions diff A B` as a user runs it: the verdict, the exit code, and the
// result saved into A's replays/ for the viewer (or not, with --no-save).
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { latestReplayResult } from '../../../harness/view/replays.ts';
import { CliProcesses } from '../../cli-process.ts';

const fixture = new URL('../../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'solacelive-diff-'));
const cli = new CliProcesses();
afterAll(() => {
  cli.killAll();
  rmSync(dir, { recursive: true, force: true });
});

function copy(name: string): string {
  const to = join(dir, name);
  cpSync(fixture, to, { recursive: true });
  return to;
}

describe('solacelive sessions diff', () => {
  it('gives the verdict, exits 0 for it, and saves the result in A for the viewer', async () => {
    const [a, b] = [copy('a.session'), copy('b.session')];
    const r = await cli.run(['sessions', 'diff', a, b], 30_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/bit-exact/);
    expect(r.stderr).toContain(join(a, 'replays'));
    const saved = await latestReplayResult(a);
    expect(saved).toMatchObject({ kind: 'diff', verdict: 'bit-exact', ok: true, labels: ['a.session', 'b.session'], stepsReplayed: 25 });
    expect(existsSync(join(b, 'replays'))).toBe(false);
  });

  it('--no-save compares without writing anything', async () => {
    const [a, b] = [copy('c.session'), copy('d.session')];
    const r = await cli.run(['sessions', 'diff', a, b, '--no-save'], 30_000);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(a, 'replays'))).toBe(false);
  });
});
