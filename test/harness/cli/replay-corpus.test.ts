// `solacelive replay DIR` / `replay A B C`: a corpus of copies of the fixture plus one whose
// input.wav is damaged, replayed on two engine workers: one verdict line per session (the
// damaged one an ERROR line naming its code, the others still replayed), the summary, and
// exit 1 because one session is not replayable; exit 0 when every session meets its verdict.
import { cpSync, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSummary } from '../../../harness/dashboard/plain.ts';
import { CliProcesses } from '../../cli-process.ts';

const fixture = new URL('../../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'solacelive-corpus-cli-'));
const corpus = join(dir, 'corpus');
const cli = new CliProcesses();

beforeAll(() => {
  for (const n of ['a', 'b', 'c']) cpSync(fixture, join(corpus, `${n}.session`), { recursive: true });
  cpSync(fixture, join(corpus, 'd-damaged.session'), { recursive: true });
  // Bytes inside the first frame's samples: input.wav no longer matches the client audio in packets.bin.
  const fd = openSync(join(corpus, 'd-damaged.session', 'input.wav'), 'r+');
  writeSync(fd, Buffer.from('garbage!'), 0, 8, 2000);
  closeSync(fd);
});
afterAll(() => {
  cli.killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('solacelive replay on a corpus', () => {
  it('prints a verdict line per session (the damaged one as an error), the summary, and exits 1', async () => {
    const r = await cli.run(['replay', corpus, '--jobs', '2', '--no-save'], 180_000);
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.trim().split('\n');
    const verdicts = lines.filter((l) => /^(OK|NOT MET|ERROR)/.test(l));
    expect(verdicts).toHaveLength(4);
    for (const n of ['a', 'b', 'c']) {
      const line = verdicts.find((l) => l.includes(`${n}.session`))!;
      // Whatever the platform fingerprints allow here (the fixture was recorded elsewhere), a copy meets it.
      expect(line).toMatch(/^OK {6}(bit-exact|token-exact)\b.* 25 steps .* worker [01]$/);
    }
    const bad = verdicts.find((l) => l.includes('d-damaged.session'))!;
    expect(bad).toMatch(/^ERROR {3}SESSION_ERR_DAMAGED .*input\.wav/);
    // Both workers replayed sessions.
    expect(new Set(verdicts.filter((l) => l.startsWith('OK')).map((l) => /worker (\d)$/.exec(l)![1]))).toEqual(new Set(['0', '1']));
    expect(lines).toContainEqual(expect.stringMatching(/^corpus {3}4 sessions on 2 workers: 3 (bit-exact|token-exact), 1 SESSION_ERR_DAMAGED$/));
    expect(lines).toContainEqual(expect.stringMatching(/^time {5}[\d.]+ s wall for 6\.00 s of audio: [\d.]+× real time$/));
    expect(lines).toContainEqual(expect.stringMatching(/^result {3}1 not met: .*d-damaged\.session \(SESSION_ERR_DAMAGED\)$/));
  }, 200_000);

  it('exits 0 when every session named meets its verdict (sessions given one by one); --dashboard off a terminal prints corpus progress lines', async () => {
    const r = await cli.run(['replay', join(corpus, 'a.session'), join(corpus, 'b.session'), '--jobs', '2', '--no-save', '--dashboard'], 180_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const progress = r.stdout.split('\n').filter((l) => l.startsWith('replay-corpus ')).map((l) => parseSummary(l).fields);
    expect(progress.at(-1)).toMatchObject({ done: 2, of: 2, running: 0, failed: 0, finished: 'yes' });
    expect(r.stdout.split('\n').filter((l) => l.startsWith('OK '))).toHaveLength(2);
    expect(r.stdout).toMatch(/^result {3}every session met its expected verdict: OK$/m);
  }, 200_000);

  it('refuses options that replay one session; a named session that is missing is its own error line', async () => {
    const r = await cli.run(['replay', join(corpus, 'a.session'), join(corpus, 'b.session'), '--paced'], 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--paced replays one session/);
    const missing = join(dir, 'nothing-here.session');
    const m = await cli.run(['replay', missing, join(corpus, 'a.session'), '--jobs', '1', '--no-save'], 120_000);
    expect(m.code).toBe(1);
    expect(m.stdout).toMatch(new RegExp(`^ERROR {3}SESSION_ERR_MISSING_FILE  ${missing}: `, 'm'));
    expect(m.stdout).toMatch(/^OK .*a\.session/m);
    // Alone, a missing session is the single-session replay's error, as before corpora.
    const alone = await cli.run(['replay', missing, '--no-save'], 30_000);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toMatch(/SESSION_ERR_MISSING_FILE/);
  }, 180_000);
});
