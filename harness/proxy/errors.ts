// The proxy's typed error: a stable `code` (PROXY_ERR_*) and a message naming what was wrong.
import { CodedError } from '../../src/errors.ts';

export class ProxyError extends CodedError {
  override readonly name = 'ProxyError';
}
