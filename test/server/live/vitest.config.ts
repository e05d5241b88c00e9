// The live suite: the server and client against the real engine (child process, real MLX,
// the tiny model). Not in the default `npm test` run until the engine is plugged into
// src/cli/serve.ts (createEngine); run it with
//   npx vitest run --config test/server/live/vitest.config.ts
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../../..', import.meta.url)),
  test: {
    include: ['test/server/live/**/*.live.ts'],
    // One engine process per file and 2 cores: files run one after another.
    maxWorkers: 1,
    pool: 'forks',
    execArgv: ['--expose-gc'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
