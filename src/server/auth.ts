// Token check for every request when the server has a token (required off loopback). The
// token comes as `Authorization: Bearer T` (programs) or `?token=T` (browsers cannot set
// headers on a WebSocket), or `?worker_auth_id=T`, the parameter upstream's Moshi servers
// read. Compared in constant time, over digests so lengths do not leak.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function requestToken(req: Pick<IncomingMessage, 'headers' | 'url'>): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1]!;
  }
  try {
    // `worker_auth_id` is upstream's name for it on /api/chat.
    const q = new URL(req.url ?? '/', 'http://localhost').searchParams;
    return q.get('token') ?? q.get('worker_auth_id');
  } catch {
    return null;
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** True when the server has no token, or the request carries the right one. */
export function isAuthorized(req: Pick<IncomingMessage, 'headers' | 'url'>, token: string | null): boolean {
  if (token === null) return true;
  const given = requestToken(req);
  return given !== null && timingSafeEqual(digest(given), digest(token));
}
