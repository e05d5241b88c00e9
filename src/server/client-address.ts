// The client address per-address limits count by. Behind a balancer every connection comes
// from the balancer; with `trustProxy` the address its X-Forwarded-For names is used instead,
// but only for a connection from loopback (the balancer on this machine): anyone else could
// forge the header to slip past the limits.
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from './request-guard.ts';

/**
 * The peer's address, or with `trustProxy` and a loopback peer, the right-most entry of its
 * X-Forwarded-For: the one the trusted proxy appended (entries left of it came from the client).
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (!trustProxy || !isLoopbackHost(peer)) return peer;
  const raw = req.headers['x-forwarded-for'];
  const joined = Array.isArray(raw) ? raw.join(',') : raw;
  const last = joined?.split(',').map((x) => x.trim()).filter((x) => x !== '').at(-1);
  return last ?? peer;
}
