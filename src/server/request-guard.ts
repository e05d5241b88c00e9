// Who may talk to a local server: the Host and Origin rules shared by `serve` and `view`.
// A loopback server answers only loopback Host names (DNS rebinding gives a foreign page a
// foreign Host), and browsers only from loopback Origins unless the user allowed others;
// non-browser clients send no Origin and keep working.
import type { IncomingHttpHeaders } from 'node:http';

/** True for addresses only this machine can reach. Anything else (0.0.0.0, ::, names) is not. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v4);
  return m !== null && m.slice(1).every((x) => Number(x) <= 255) && m[1] === '127';
}

export type GuardRefusal = { readonly status: 403; readonly code: 'HTTP_ERR_HOST' | 'HTTP_ERR_ORIGIN'; readonly message: string };

export interface GuardRules {
  /** The address the server is bound to; a loopback bind restricts Host names. */
  readonly bindHost: string;
  /** Origins allowed besides loopback ones, normalised by `normaliseOrigin` (`--allow-origin`). */
  readonly allowOrigins: readonly string[];
}

/** `scheme://host[:port]` in lower case, or null when `origin` is not an http(s) origin. */
export function normaliseOrigin(origin: string): string | null {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  if (u.username || u.password || (u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) return null;
  return `${u.protocol}//${u.host}`.toLowerCase();
}

/** The host name of a Host header (`name`, `name:port`, `[v6]:port`), or null when malformed. */
export function hostName(header: string): string | null {
  const h = header.trim().toLowerCase();
  const v6 = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h);
  if (v6) return v6[1]!;
  const named = /^([a-z0-9.-]+)(?::\d{1,5})?$/.exec(h);
  return named ? named[1]! : null;
}

/** Null when the request may proceed, else why not. Checks Host, then Origin. */
export function checkRequest(headers: IncomingHttpHeaders, rules: GuardRules): GuardRefusal | null {
  if (isLoopbackHost(rules.bindHost)) {
    const name = hostName(headers.host ?? '');
    if (name === null || !isLoopbackHost(name)) {
      return { status: 403, code: 'HTTP_ERR_HOST', message: `Host ${JSON.stringify(headers.host ?? '')} refused: a loopback server answers only localhost, 127.0.0.1 and [::1]` };
    }
  }
  const origin = headers.origin;
  if (origin === undefined) return null;
  const norm = normaliseOrigin(origin);
  if (norm !== null) {
    const name = hostName(new URL(norm).host);
    if (name !== null && isLoopbackHost(name)) return null;
    if (rules.allowOrigins.includes(norm)) return null;
  }
  return {
    status: 403,
    code: 'HTTP_ERR_ORIGIN',
    message: `Origin ${JSON.stringify(origin)} refused: only pages served from localhost, 127.0.0.1 or [::1] may connect; start the server with --allow-origin ${norm ?? 'ORIGIN'} to allow it`,
  };
}

/** Parses `--allow-origin` values; throws naming the bad one. */
export function parseAllowOrigins(values: readonly string[]): string[] {
  return values.map((v) => {
    const n = normaliseOrigin(v);
    if (n === null) throw new Error(`--allow-origin ${JSON.stringify(v)} is not an origin: give scheme://host[:port], e.g. https://moshi.example.com`);
    return n;
  });
}
