// Replaying or diffing a committed fixture leaves the checkout as it was: the result goes to
// the per-user state folder (here a temp one, via SOLACELIVE_STATE), the CLI says where,
// and the viewer's reader finds it there; a session outside the package keeps its results
// beside it, as before.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayResultsDir, stateReplaysDir } from '../../../harness/replay-location.ts';
import { latestReplayResult, listReplayResults } from '../../../harness/view/replays.ts';
import { CliProcesses } from '../../cli-process.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const FIXTURE = join(ROOT, 'fixtures/sessions/hello-2s.session');
const dir = mkdtempSync(join(tmpdir(), 'solacelive-replay-location-'));
const cli = new CliProcesses();
const before = process.env.SOLACELIVE_STATE;

/** What git says about the fixtures folder (untracked files included). */
const gitStatus = () => execFileSync('git', ['status', '--porcelain', '--untracked-files=all', '--', 'fixtures'], { cwd: ROOT }).toString();

beforeAll(() => {
  process.env.SOLACELIVE_STATE = join(dir, 'state'); // inherited by the CLI children
});
afterAll(() => {
  cli.killAll();
  if (before === undefined) delete process.env.SOLACELIVE_STATE;
  else process.env.SOLACELIVE_STATE = before;
  rmSync(dir, { recursive: true, force: true });
});

describe('where replay results go', () => {
  it('replay of the committed fixture writes nothing into the checkout; the result is in the state folder and found there', async () => {
    const clean = gitStatus();
    const state = await stateReplaysDir(FIXTURE);
    expect(state.startsWith(join(dir, 'state', 'replays', 'hello-2s.session-'))).toBe(true);
    expect(await replayResultsDir(FIXTURE)).toBe(state);
    const r = await cli.run(['replay', FIXTURE], 120_000);
    expect(r.code, r.stdout + r.stderr).toBe(0); // the expectation follows the fingerprints: met on any machine
    expect(r.stderr).toContain(`result saved to ${state}/`);
    expect(existsSync(join(FIXTURE, 'replays'))).toBe(false);
    expect(gitStatus()).toBe(clean);
    const saved = await latestReplayResult(FIXTURE);
    expect(saved).toMatchObject({ kind: 'replay', ok: true, stepsReplayed: 25 });
    expect((await listReplayResults(FIXTURE)).every((p) => p.startsWith(state))).toBe(true);
  }, 130_000);

  it('sessions diff with the fixture as A saves into the state folder too; a session outside the package keeps its results beside it', async () => {
    const clean = gitStatus();
    const copy = join(dir, 'copy.session');
    cpSync(FIXTURE, copy, { recursive: true });
    const a = await cli.run(['sessions', 'diff', FIXTURE, copy], 60_000);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toContain(`saved to ${await stateReplaysDir(FIXTURE)}/`);
    expect(gitStatus()).toBe(clean);
    const b = await cli.run(['sessions', 'diff', copy, FIXTURE], 60_000);
    expect(b.code, b.stderr).toBe(0);
    expect(readdirSync(join(copy, 'replays'))).toHaveLength(1);
    expect(await latestReplayResult(copy)).toMatchObject({ kind: 'diff', verdict: 'bit-exact' });
  }, 130_000);

  it('a paced replay of the fixture records its new session outside the checkout by default', async () => {
    const clean = gitStatus();
    const r = await cli.run(['replay', FIXTURE, '--paced', '--no-save'], 120_000);
    expect(r.stdout).toMatch(new RegExp(`^new {6}${join(dir, 'state', 'paced')}/hello-2s-paced-\\d+\\.session$`, 'm'));
    expect(gitStatus()).toBe(clean);
  }, 130_000);
});
