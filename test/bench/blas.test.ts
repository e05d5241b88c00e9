// The suite processes get the engine's BLAS pinning: threads as asked, the core type from
// SOLACELIVE_BLAS_CORETYPE as `serve` takes it, and never an OPENBLAS_CORETYPE left in the
// shell (the engine drops it, so a bench using it would time other kernels than a server).
import { afterEach, describe, expect, it } from 'vitest';
import { benchBlas, blasEnv, pinnedBlas } from '../../bench/lib/blas.ts';
import { runBench } from '../../bench/lib/runner.ts';

const saved = { ...process.env };
afterEach(() => {
  for (const k of ['OPENBLAS_CORETYPE', 'SOLACELIVE_BLAS_CORETYPE']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('bench BLAS pinning', () => {
  it('takes the core type as serve does and drops a shell OPENBLAS_CORETYPE otherwise', () => {
    expect(benchBlas(2, { OPENBLAS_CORETYPE: 'Haswell' })).toEqual({ threads: 2, coreType: null });
    expect(benchBlas(1, { SOLACELIVE_BLAS_CORETYPE: 'Sandybridge' })).toEqual({ threads: 1, coreType: 'Sandybridge' });
    const env = blasEnv({ OPENBLAS_CORETYPE: 'Haswell', PATH: '/bin' }, { threads: 3, coreType: null });
    expect(env).toEqual({ PATH: '/bin', OPENBLAS_NUM_THREADS: '3' });
    expect(blasEnv({}, { threads: 1, coreType: 'Zen' })).toEqual({ OPENBLAS_NUM_THREADS: '1', OPENBLAS_CORETYPE: 'Zen' });
  });

  it('an engine a suite starts gets the pinning of its process, --blas-threads included', () => {
    expect(pinnedBlas({ OPENBLAS_NUM_THREADS: '4' })).toEqual({ threads: 4, coreType: null });
    expect(pinnedBlas({ OPENBLAS_NUM_THREADS: '1', OPENBLAS_CORETYPE: 'Zen' })).toEqual({ threads: 1, coreType: 'Zen' });
  });

  it('a real suite run with OPENBLAS_CORETYPE in the shell records the detected kernels, as the engine would run', async () => {
    process.env.OPENBLAS_CORETYPE = 'Haswell';
    delete process.env.SOLACELIVE_BLAS_CORETYPE;
    const r = await runBench({ suites: ['codec'], config: 'tiny', rounds: 3, quick: true, perRound: 2 });
    expect(r.host.blas?.coreType ?? null).toBeNull();
    expect(r.settings.blasCoreType).toBeNull();
  }, 120_000);
});
