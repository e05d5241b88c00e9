import { configDefaults, defineConfig } from 'vitest/config';

// Tests that check admitted sessions keep real time on a capacity the server measured itself:
// what they assert is what the machine can do, so they run alone, after everything else,
// as a benchmark would (beside other test files the measured cost no longer holds). The
// HAProxy test is one: a server that falls behind is rightly "degraded" and out of rotation.
const REALTIME = [
  'test/deploy/haproxy.test.ts',
  'test/server/live/serve-admission.test.ts',
  'test/server/live/admission-budget.test.ts',
  'test/harness/loadtest/capacity.test.ts',
];

export default defineConfig({
  test: {
    // Browser tests serve viewer/dist: build it once per run if missing or stale.
    globalSetup: ['test/e2e/build-viewer.ts'],
    // Child processes, not threads: an MLX abort in a worker thread kills the whole runner.
    pool: 'forks',
    // The binding frees native memory only when V8 collects wrappers: tests that check
    // memory stay flat call gc() explicitly.
    execArgv: ['--expose-gc'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Under CI a JSON report beside the console one lets .ci/run print 'N passed, N failed'.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.ci/results/vitest.json' }]] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
          exclude: [...configDefaults.exclude, ...REALTIME],
          // MLX tests are CPU-heavy and the machine has 2 cores; more workers only thrash.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'realtime', include: REALTIME, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
