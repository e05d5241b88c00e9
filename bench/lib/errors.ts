// Typed errors of the bench runner and gate: a stable code and a message naming what was
// wrong (which file, which field, which suite), reported by the CLI without a stack trace.

import { CodedError } from '../../src/errors.ts';

export type BenchErrorCode =
  | 'BENCH_ERR_UNKNOWN_SUITE'
  | 'BENCH_ERR_UNKNOWN_CONFIG'
  | 'BENCH_ERR_UNKNOWN_RUNNER_CLASS'
  | 'BENCH_ERR_RESULTS'
  | 'BENCH_ERR_BASELINE'
  | 'BENCH_ERR_NO_BASELINE'
  | 'BENCH_ERR_CONFIG_MISMATCH'
  | 'BENCH_ERR_SUITE_FAILED'
  | 'BENCH_ERR_ABORTED'
  | 'BENCH_ERR_AB_REVISION'
  | 'BENCH_ERR_AB_INSTALL'
  | 'BENCH_ERR_AB_SUITE_MISSING';

export class BenchError extends CodedError<BenchErrorCode> {
  override readonly name = 'BenchError';
}
