// How `bench ab` splits its rounds into blocks (each a fresh pair of processes) and which
// test it judges them with; bad block settings are refused before anything is started.
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judge, runAb, splitBlocks } from '../../bench/lib/ab.ts';
import { pairedLogRatio } from '../../bench/lib/stats.ts';

describe('bench ab blocks', () => {
  it('splits rounds into near-equal blocks of at most the given size', () => {
    expect(splitBlocks(60, 10)).toEqual([10, 10, 10, 10, 10, 10]);
    expect(splitBlocks(16, 5)).toEqual([4, 4, 4, 4]);
    expect(splitBlocks(17, 5)).toEqual([5, 4, 4, 4]);
    expect(splitBlocks(30, 30)).toEqual([30]);
    // An odd count is made even, so base-first and head-first blocks pair up.
    expect(splitBlocks(30, 10)).toEqual([8, 8, 7, 7]);
    expect(splitBlocks(9, 4)).toEqual([3, 2, 2, 2]);
    expect(splitBlocks(30, 100)).toEqual([30]);
    for (const [n, k] of [[60, 7], [121, 10], [9, 4]] as const) {
      const s = splitBlocks(n, k);
      expect(s.reduce((a, b) => a + b, 0)).toBe(n);
      expect(Math.max(...s)).toBeLessThanOrEqual(k);
      expect(Math.max(...s) - Math.min(...s)).toBeLessThanOrEqual(1);
      expect(s.length % 2).toBe(0);
    }
    expect(() => splitBlocks(10, 0)).toThrow(RangeError);
  });

  it('judges over block means with blocks, over rounds with one block', () => {
    // Two sides whose ratio carries a per-block offset: the blocks decide the interval.
    const base = Array.from({ length: 12 }, (_, i) => 10 + (i % 3));
    const head = base.map((x, i) => x * [1.06, 1.0, 1.03][Math.floor(i / 4)]! * (1 + ((i % 2) - 0.5) * 0.002));
    const blocked = judge('s/f', base, head, 0.01, 1, [4, 4, 4]);
    expect(blocked.unit).toBe('block');
    expect(blocked.blockSizes).toEqual([4, 4, 4]);
    expect(blocked.sdBetweenPct).toBeGreaterThan(blocked.sdWithinPct!);
    const flat = judge('s/f', base, head, 0.01, 1);
    expect(flat.unit).toBe('round');
    expect(flat.lo).toBeCloseTo(pairedLogRatio(base, head).changeLo, 12);
    // Twelve rounds that share three offsets are not twelve independent pairs.
    expect(flat.verdict).toBe('regressed');
    expect(blocked.verdict).not.toBe('regressed');
    expect(blocked.hi - blocked.lo).toBeGreaterThan(flat.hi - flat.lo);
  });

  it('refuses two blocks (1 degree of freedom) and one-round blocks before starting anything', async () => {
    // No repository: were the split not refused first, runAb would stop at git, not start a suite.
    const opts = { repo: join(tmpdir(), 'no-such-repo-for-bench-ab'), base: 'HEAD', suites: ['lm'] as const, config: 'tiny' as const, alpha: 0.01, thresholdPct: 1 };
    await expect(runAb({ ...opts, rounds: 10, blockRounds: 5 })).rejects.toThrow(/make 2 blocks/);
    await expect(runAb({ ...opts, rounds: 6, blockRounds: 1 })).rejects.toThrow(/a block needs ≥ 2 rounds/);
    await expect(runAb({ ...opts, rounds: 10, blockRounds: 0 })).rejects.toThrow(/rounds per block must be an integer/);
  });
});

describe('bench ab --block (CLI)', () => {
  it('refuses a split into 2 blocks or 1-round blocks with a usage error naming the numbers', () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'solacelive.mjs'), 'bench', 'ab', '--base', 'HEAD', ...args], { encoding: 'utf8' });
    const two = cli('--rounds', '20', '--block', '10');
    expect(two.status).toBe(2);
    expect(two.stderr).toContain('--block must be at least 2 and split --rounds into 1 or ≥ 3 blocks (got --rounds 20 --block 10: 2 blocks)');
    const one = cli('--block', '1');
    expect(one.status).toBe(2);
    expect(one.stderr).toContain('(got --rounds 60 --block 1: 60 blocks)');
  });
});
