// Typed errors for Mimi: a stable `.code` per kind of misuse, so callers (engine, CLI,
// tests) branch on the code and never on message text. Bad weight files are reported by
// the shared WeightsError (WEIGHTS_ERR_*) instead, so every model reports them alike.

import { CodedError } from '../../errors.ts';

export type MimiErrorCode =
  /** The config JSON is malformed or asks for something upstream Mimi does not do. */
  | 'MIMI_ERR_CONFIG'
  /** A model call before weights were loaded. */
  | 'MIMI_ERR_NO_WEIGHTS'
  /** A PCM frame that is not exactly frameSize samples (or a batch not a multiple of it). */
  | 'MIMI_ERR_FRAME_LENGTH'
  /** PCM holding NaN or ±Infinity: it would poison every later step through the caches. */
  | 'MIMI_ERR_NON_FINITE'
  /** The encoder latent or decoded audio is NaN or ±Infinity: finite weights that overflow together. */
  | 'MIMI_ERR_NON_FINITE_OUTPUT'
  /** Codes of the wrong count, or outside [0, bins). */
  | 'MIMI_ERR_CODES';

export class MimiError extends CodedError<MimiErrorCode> {
  override readonly name = 'MimiError';
}
