// `bench ab` end to end on this machine, with real revisions: a throwaway clone of this
// repository (so the base worktrees and their cache stay out of it), real suite processes
// (tiny model, real MLX), and a test-only CPU burn injected into the head's process.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abMarkdown, runAb, type AbOptions, type AbReport } from '../../bench/lib/ab.ts';
import { BenchError } from '../../bench/lib/errors.ts';

const ROOT = join(import.meta.dirname, '..', '..');
let dir: string;
let repo: string;
const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { cwd: repo, encoding: 'utf8' }).trim();

/** A commit on top of the clone's HEAD with `edit` applied to the working files, then the clone reset to HEAD. */
function commitWith(edit: () => void, message: string): string {
  edit();
  git('commit', '-qam', message);
  const sha = git('rev-parse', 'HEAD');
  git('reset', '-q', '--hard', 'HEAD~1');
  return sha;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bench-ab-test-'));
  repo = join(dir, 'repo');
  execFileSync('git', ['clone', '-q', '--shared', ROOT, repo]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const QUICK = { base: 'HEAD', config: 'tiny', alpha: 0.01, thresholdPct: 1 } as const;

/** P(X ≥ k) for X ~ Binomial(n, p). */
function binomialTail(n: number, p: number, k: number): number {
  let term = (1 - p) ** n; // P(X = 0)
  let below = 0;
  for (let i = 0; i < k; i++) {
    below += term;
    term *= ((n - i) / (i + 1)) * (p / (1 - p));
  }
  return 1 - below;
}

describe('bench ab (real revisions, real suite processes)', () => {
  // Two quick A/A runs (lm and step, 8 rounds in 4 blocks of 2), shared by the two tests below.
  let aa: AbReport[] | null = null;
  const aaRuns = async () => {
    aa ??= [await runAb({ ...QUICK, repo, suites: ['lm', 'step'], rounds: 8, blockRounds: 2 }), await runAb({ ...QUICK, repo, suites: ['lm', 'step'], rounds: 8, blockRounds: 2 })];
    return aa;
  };

  it('each block is a fresh pair of processes, started base first and head first in turn, and the test runs over the blocks', async () => {
    for (const r of await aaRuns()) {
      expect(r.base.modules).toBe('head (identical lockfile)');
      for (const s of r.suites) {
        const blocks = s.blocks!;
        expect(blocks.map((b) => b.first)).toEqual(['base', 'head', 'base', 'head']);
        expect(blocks.map((b) => b.rounds)).toEqual([2, 2, 2, 2]);
        const pids = blocks.flatMap((b) => [b.pids.base, b.pids.head]);
        expect(pids.every((p) => p > 0)).toBe(true);
        expect(new Set(pids).size).toBe(8);
      }
      for (const f of r.figures) {
        expect(f.unit).toBe('block');
        expect(f.blockSizes).toEqual([2, 2, 2, 2]);
        expect(f.baseRounds).toHaveLength(8);
        expect(f.sdBetweenPct).toBeGreaterThanOrEqual(0);
      }
      expect(abMarkdown(r)).toContain('in 4 blocks, each a fresh pair of processes');
    }
  }, 240_000);

  it('A/A: the same revision on both sides calls no more regressions than its false-positive rate allows', async () => {
    const runs = await aaRuns();
    expect(runs.flatMap((r) => r.figures).length).toBeGreaterThanOrEqual(2 * 8);
    // A suite's figures share its processes and blocks, so they move together (one unlucky block
    // pair can tip several at once): the unit is a suite in a run, which calls "regressed" on any
    // of its k figures with probability at most k·alpha/2 under the null (Bonferroni, whatever
    // the correlation). Allow the count a binomial with that rate exceeds only 1 time in 1000.
    const units = runs.flatMap((r) => [...new Set(r.figures.map((f) => f.id.split('/')[0]!))].map((suite) => r.figures.filter((f) => f.id.startsWith(`${suite}/`))));
    const p = Math.min(1, Math.max(...units.map((u) => u.length)) * (QUICK.alpha / 2));
    let allowed = 0;
    while (binomialTail(units.length, p, allowed + 1) > 0.001) allowed++;
    const calling = units.filter((u) => u.some((f) => f.verdict === 'regressed'));
    const said = calling.map((u) => u.filter((f) => f.verdict === 'regressed').map((f) => `${f.id} ${(100 * f.change).toFixed(1)} % p ${f.p.toExponential(1)}`).join(', ')).join('; ');
    expect(calling.length, said).toBeLessThanOrEqual(allowed);
  }, 240_000);

  it('A/B: a CPU slowdown injected into the head is called a regression, naming the figure', async () => {
    const r = await runAb({
      ...QUICK, repo, suites: ['lm', 'step'], rounds: 8, blockRounds: 2,
      inject: [
        { side: 'head', suite: 'lm', inject: { span: 'lm.depformer', cpuPct: 300 } },
        { side: 'head', suite: 'step', inject: (['mimi.encode', 'lm.temporal', 'lm.depformer', 'mimi.decode'] as const).map((span) => ({ span, cpuPct: 100 })) },
      ],
    });
    // The burn is work: the cpu.* figures count it whatever the load. Four blocks leave the
    // test 3 df (t 5.84 at 99 %), and at load average 17 on 2 cores lm.depformer's fastest
    // sample spread 38 % per round, so the burns here are large (lm.depformer 4×, each step
    // span 2×): this pins that a slower stage is called and named through blocks; what the
    // gate catches at 5 % and at what cost is measured by bench/ab-power.ts (README).
    const regressed = r.figures.filter((f) => f.verdict === 'regressed').map((f) => f.id);
    expect(r.pass).toBe(false);
    const said = abMarkdown(r);
    for (const id of ['step/cpu.step', 'lm/lm.depformer', 'lm/cpu.step']) expect(regressed, said).toContain(id);
    expect(said).toMatch(/\| step\/cpu\.step \|.*regressed \|/);
  }, 240_000);

  it('a revision that does not exist is a BENCH_ERR_AB_REVISION naming it (CLI: exit 1, the code on stderr)', async () => {
    await expect(runAb({ ...QUICK, repo, base: 'no-such-branch-4711', suites: ['lm'], rounds: 3 })).rejects.toMatchObject({ code: 'BENCH_ERR_AB_REVISION', message: expect.stringContaining('--base no-such-branch-4711') });
    await expect(runAb({ ...QUICK, repo, head: 'deadbeefdeadbeef', suites: ['lm'], rounds: 3 })).rejects.toMatchObject({ code: 'BENCH_ERR_AB_REVISION', message: expect.stringContaining('--head deadbeefdeadbeef') });
    const cli = spawnSync(process.execPath, [join(ROOT, 'bin', 'solacelive.mjs'), 'bench', 'ab', '--base', 'no-such-branch-4711'], { cwd: ROOT, encoding: 'utf8' });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('[BENCH_ERR_AB_REVISION] --base no-such-branch-4711');
    const usage = spawnSync(process.execPath, [join(ROOT, 'bin', 'solacelive.mjs'), 'bench', 'ab'], { cwd: ROOT, encoding: 'utf8' });
    expect(usage.status).not.toBe(0);
    expect(usage.stderr).toContain('--base REF is required');
  }, 60_000);

  it('a base that cannot be installed is a BENCH_ERR_AB_INSTALL: broken package.json, and npm ci failing', async () => {
    const broken = commitWith(() => writeFileSync(join(repo, 'package.json'), '{ "name": "solacelive", \n'), 'break package.json');
    await expect(runAb({ ...QUICK, repo, base: broken, suites: ['lm'], rounds: 3 })).rejects.toMatchObject({ code: 'BENCH_ERR_AB_INSTALL', message: expect.stringMatching(/package\.json cannot be read as JSON/) });
    // Valid JSON, but a dependency the lockfile lacks (and so another lockfile hash): npm ci refuses before any download.
    const unsynced = commitWith(() => {
      const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
      pkg.dependencies['left-pad'] = '1.3.0';
      writeFileSync(join(repo, 'package.json'), JSON.stringify(pkg, null, 2));
      writeFileSync(join(repo, 'package-lock.json'), `${readFileSync(join(repo, 'package-lock.json'), 'utf8')}\n`);
    }, 'a dependency missing from the lockfile');
    const err = await runAb({ ...QUICK, repo, base: unsynced, suites: ['lm'], rounds: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BenchError);
    expect(err).toMatchObject({ code: 'BENCH_ERR_AB_INSTALL', message: expect.stringContaining('npm ci failed') });
  }, 120_000);

  it('a suite missing on one side is a BENCH_ERR_AB_SUITE_MISSING naming the side and the suite', async () => {
    const noLm = commitWith(() => {
      const p = join(repo, 'bench', 'suites', 'index.ts');
      writeFileSync(p, readFileSync(p, 'utf8').replace(/^\s*lm: lmSuite,\n/m, ''));
    }, 'no lm suite');
    const opts: AbOptions = { ...QUICK, repo, base: noLm, suites: ['lm'], rounds: 3 };
    await expect(runAb(opts)).rejects.toMatchObject({ code: 'BENCH_ERR_AB_SUITE_MISSING', message: expect.stringMatching(/suite lm of base .*no bench suite "lm"/) });
  }, 120_000);
});
