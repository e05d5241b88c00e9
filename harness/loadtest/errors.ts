// The load test's failures the user can act on, each with a stable code.
export type LoadtestErrorCode =
  | 'LOADTEST_ERR_URL'
  | 'LOADTEST_ERR_UNREACHABLE'
  | 'LOADTEST_ERR_NO_ANSWER'
  | 'LOADTEST_ERR_NOT_MOSHI'
  | 'LOADTEST_ERR_WAV'
  | 'LOADTEST_ERR_SESSIONS'
  | 'LOADTEST_ERR_OPTIONS';

export class LoadtestError extends Error {
  readonly code: LoadtestErrorCode;
  constructor(code: LoadtestErrorCode, message: string) {
    super(message);
    this.name = 'LoadtestError';
    this.code = code;
  }
}
