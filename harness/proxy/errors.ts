// The proxy's typed error: a stable `code` (PROXY_ERR_*) and a message naming what was wrong.
export class ProxyError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ProxyError';
    this.code = code;
  }
}
