import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Browser tests serve viewer/dist: build it once per run if missing or stale.
    globalSetup: ['test/e2e/build-viewer.ts'],
    // MLX tests are CPU-heavy and the machine has 2 cores; more workers only thrash.
    maxWorkers: 2,
    // Child processes, not threads: an MLX abort in a worker thread kills the whole runner.
    pool: 'forks',
    // The binding frees native memory only when V8 collects wrappers: tests that check
    // memory stay flat call gc() explicitly.
    execArgv: ['--expose-gc'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Under CI a JSON report beside the console one lets .ci/run print 'N passed, N failed'.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.ci/results/vitest.json' }]] : ['default'],
  },
});
