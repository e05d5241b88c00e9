// The server a load test talks to: the URL the user gave, checked (ws/wss, or http(s)
// mapped; no credentials or fragment) and probed once with a plain TCP connection, so an
// address where nothing listens fails in seconds with its own code instead of N timeouts.
import { connect as tcpConnect } from 'node:net';
import { socketWhy } from '../../src/client/connect.ts';
import { moshiUrl } from '../../src/client/moshi.ts';
import { LoadtestError } from './errors.ts';

export type LoadProtocol = 'moshi' | 'solacelive';
export const PROTOCOLS: readonly LoadProtocol[] = ['moshi', 'solacelive'];

export interface Target {
  /** What the clients connect to: /api/chat for Moshi (unless the URL names a path), as given for packets. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: LoadProtocol;
}

export function parseTarget(raw: string, protocol: LoadProtocol): Target {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new LoadtestError('LOADTEST_ERR_URL', `${JSON.stringify(raw)} is not a URL: give ws://HOST:PORT (the Moshi protocol goes to /api/chat there)`);
  }
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new LoadtestError('LOADTEST_ERR_URL', `${raw}: the scheme must be ws://, wss://, http:// or https://`);
  if (u.username || u.password || u.hash) throw new LoadtestError('LOADTEST_ERR_URL', `${raw}: no credentials or #fragment in the URL (give --token T)`);
  if (!u.hostname) throw new LoadtestError('LOADTEST_ERR_URL', `${raw}: no host`);
  const url = protocol === 'moshi' ? moshiUrl(u.href).href : u.href;
  const port = Number(u.port || (u.protocol === 'wss:' ? 443 : 80));
  return { url, host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port, protocol };
}

/** Resolves when something accepts a TCP connection at the target within timeoutMs; else LOADTEST_ERR_UNREACHABLE. */
export function probe(t: Target, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect({ host: t.host, port: t.port });
    const fail = (why: string) => {
      s.destroy();
      reject(new LoadtestError('LOADTEST_ERR_UNREACHABLE', `${t.url}: ${why}`));
    };
    s.setTimeout(timeoutMs, () => fail(`no TCP connection within ${timeoutMs} ms`));
    s.once('error', (err: NodeJS.ErrnoException) => fail(socketWhy(err)));
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
  });
}
