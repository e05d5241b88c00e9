// The load test's failures the user can act on, each with a stable code.
import { CodedError } from '../../src/errors.ts';

export type LoadtestErrorCode =
  | 'LOADTEST_ERR_URL'
  | 'LOADTEST_ERR_UNREACHABLE'
  | 'LOADTEST_ERR_NO_ANSWER'
  | 'LOADTEST_ERR_NOT_MOSHI'
  | 'LOADTEST_ERR_WAV'
  | 'LOADTEST_ERR_SESSIONS'
  | 'LOADTEST_ERR_OPTIONS'
  | 'LOADTEST_ERR_LEVEL_STUCK';

export class LoadtestError extends CodedError<LoadtestErrorCode> {
  override readonly name = 'LoadtestError';
}
