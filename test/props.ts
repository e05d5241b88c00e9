// fast-check settings shared by every property suite. 1,000 runs per property in
// `npm test`; SOLACELIVE_PROP_RUNS raises it (`npm run test:props:long` uses 100,000).
// A failure prints `{ seed, path }`; set SOLACELIVE_PROP_SEED and SOLACELIVE_PROP_PATH
// to replay exactly that case.
import fc from 'fast-check';

export const PROP_RUNS = Number(process.env.SOLACELIVE_PROP_RUNS ?? 1000);

export function propParams<T>(overrides: fc.Parameters<T> = {}): fc.Parameters<T> {
  const seed = process.env.SOLACELIVE_PROP_SEED;
  const path = process.env.SOLACELIVE_PROP_PATH;
  return {
    numRuns: PROP_RUNS,
    ...(seed !== undefined ? { seed: Number(seed) } : {}),
    ...(path !== undefined ? { path, endOnFailure: true } : {}),
    ...overrides,
  };
}
