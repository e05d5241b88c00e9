// Engine errors with stable codes: the server turns them into METADATA errors and /health.

import { CodedError } from '../errors.ts';

export type EngineErrorCode =
  | 'ENGINE_ERR_NO_WEIGHTS' // model files missing: the server runs degraded
  | 'ENGINE_ERR_LOAD' // weights/config present but unusable
  | 'ENGINE_ERR_CRASHED' // the worker process died (native abort, OOM, kill)
  | 'ENGINE_ERR_NOT_READY' // no model loaded (yet), or restarting
  | 'ENGINE_ERR_SESSION' // unknown or duplicate session id
  | 'ENGINE_ERR_INPUT' // bad step input (frame length, NaN, step out of order)
  | 'ENGINE_ERR_STEP' // a model call failed
  | 'ENGINE_ERR_STOPPED';

export class EngineError extends CodedError<EngineErrorCode> {
  override readonly name = 'EngineError';
}
