// One side of `bench ab`: a revision checked out in a git worktree of its own under a cache
// folder, with node_modules by package-lock.json hash: head's own when the lockfiles are
// identical (a symlink), else one `npm ci` per lockfile kept in the cache, so a second run
// installs nothing. The head's A/B child and calibration kernels are copied in, so both
// sides answer the same protocol and time the same kernels.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { BenchError } from './errors.ts';

/** Files of the running (head) checkout copied into every prepared revision. */
export const HARNESS_FILES = ['bench/lib/ab-child.ts', 'bench/lib/calibrate.ts', 'bench/lib/calibrate-describe.ts'] as const;

export interface Side {
  readonly label: 'base' | 'head';
  /** As given (a ref, or `worktree` for the checkout that runs the command). */
  readonly ref: string;
  /** The commit, or null for the running worktree (which may hold uncommitted changes). */
  readonly sha: string | null;
  readonly root: string;
  /** Where node_modules came from: the running checkout's, head's by identical lockfile, the cache, or a fresh npm ci. */
  readonly modules: 'own' | 'head (identical lockfile)' | 'cache' | 'npm ci';
}

export function git(cwd: string, args: readonly string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** The commit a ref names in `repo`, or BENCH_ERR_AB_REVISION naming the option and the ref. */
export function resolveRevision(repo: string, ref: string, option: string): string {
  try {
    return git(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  } catch {
    throw new BenchError('BENCH_ERR_AB_REVISION', `${option} ${ref}: no such revision in ${repo} (git rev-parse found no commit by that name; fetch it, or give a branch, tag or commit)`);
  }
}

/** git merge-base of two commits (the PR's fork point), or BENCH_ERR_AB_REVISION. */
export function mergeBase(repo: string, a: string, b: string): string {
  try {
    return git(repo, ['merge-base', a, b]);
  } catch {
    throw new BenchError('BENCH_ERR_AB_REVISION', `--merge-base: ${a} and ${b} have no common ancestor in ${repo} (a shallow clone? check out with fetch-depth: 0)`);
  }
}

/** The default cache: inside the repository's git folder, so it goes with the clone. */
export function defaultCache(repo: string): string {
  const common = git(repo, ['rev-parse', '--git-common-dir']);
  return join(isAbsolute(common) ? common : resolve(repo, common), 'solacelive-ab');
}

const lockHash = (root: string) => createHash('sha256').update(readFileSync(join(root, 'package-lock.json'))).digest('hex').slice(0, 16);

/** node_modules for a checked-out revision: head's by identical lockfile, the cache's, or npm ci into the cache. */
function install(side: { label: string; ref: string; sha: string }, dir: string, headRoot: string, cache: string, log: (m: string) => void): Side['modules'] {
  const what = `${side.label} ${side.ref} (${side.sha.slice(0, 12)})`;
  try {
    JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch (err) {
    throw new BenchError('BENCH_ERR_AB_INSTALL', `${what}: package.json cannot be read as JSON (${(err as Error).message}), so npm ci cannot install it`);
  }
  if (!existsSync(join(dir, 'package-lock.json'))) throw new BenchError('BENCH_ERR_AB_INSTALL', `${what}: no package-lock.json, which npm ci needs`);
  const hash = lockHash(dir);
  const nm = join(dir, 'node_modules');
  let target: string;
  let modules: Side['modules'];
  const cached = join(cache, 'node_modules', hash, 'node_modules');
  if (existsSync(join(headRoot, 'package-lock.json')) && hash === lockHash(headRoot) && existsSync(join(headRoot, 'node_modules'))) {
    target = realpathSync(join(headRoot, 'node_modules'));
    modules = 'head (identical lockfile)';
  } else if (existsSync(cached)) {
    target = cached;
    modules = 'cache';
  } else {
    if (existsSync(nm)) rmSync(nm, { recursive: true, force: true });
    log(`${what}: npm ci (lockfile ${hash}, cached afterwards under ${cache})…`);
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) {
      const tail = `${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim().split('\n').slice(-6).join('\n  ');
      throw new BenchError('BENCH_ERR_AB_INSTALL', `${what}: npm ci failed (exit ${r.status}):\n  ${tail}`);
    }
    mkdirSync(join(cache, 'node_modules', hash), { recursive: true });
    renameSync(nm, cached);
    target = cached;
    modules = 'npm ci';
  }
  let present: string | null = null;
  try {
    present = lstatSync(nm).isSymbolicLink() ? readlinkSync(nm) : 'not a link';
  } catch { /* absent */ }
  if (present !== target) {
    if (present === 'not a link') rmSync(nm, { recursive: true, force: true });
    else if (present !== null) unlinkSync(nm);
    symlinkSync(target, nm, 'dir');
  }
  return modules;
}

/**
 * Checks out `sha` in the cache's worktree for it (made once, reset to the commit on every
 * run), copies the harness in, and gives it node_modules.
 */
export function prepareRevision(side: { label: 'base' | 'head'; ref: string; sha: string }, repo: string, headRoot: string, cache: string, log: (m: string) => void): Side {
  const dir = join(cache, 'worktrees', side.sha.slice(0, 16));
  if (!existsSync(join(dir, '.git'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(cache, 'worktrees'), { recursive: true });
    git(repo, ['worktree', 'prune']);
    log(`${side.label} ${side.ref}: git worktree at ${dir}`);
    git(repo, ['worktree', 'add', '--detach', '--force', dir, side.sha]);
  } else {
    git(dir, ['checkout', '--force', '--detach', side.sha]);
  }
  if (!existsSync(join(dir, 'bench', 'suites', 'index.ts')) || !existsSync(join(dir, 'bench', 'lib', 'stats.ts'))) {
    throw new BenchError('BENCH_ERR_AB_SUITE_MISSING', `${side.label} ${side.ref} (${side.sha.slice(0, 12)}): this revision has no unified bench suites (bench/suites/index.ts), so it cannot be measured by bench ab`);
  }
  for (const f of HARNESS_FILES) copyFileSync(join(headRoot, f), join(dir, f));
  const modules = install(side, dir, headRoot, cache, log);
  return { ...side, root: dir, modules };
}
