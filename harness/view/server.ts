// `solacelive view`'s HTTP server: the built viewer (viewer/dist, both pages) and a
// read-only API over one sessions folder. Nothing outside those two folders is ever
// served (safe-path.ts); only GET and HEAD are answered.
//
//   GET /api/sessions                       the list (sessions.ts), JSON
//   GET|HEAD /api/sessions/NAME/FILE        manifest.json, steps.jsonl, packets.bin, input.wav,
//                                           output.wav: the bytes, with single byte ranges
//   GET /api/sessions/NAME/replay           the newest saved replay result (404 if none)
//   GET /, /live/, /assets/…                the viewer
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SESSION_FILES } from '../format/layout.ts';
import { parseRange } from './range.ts';
import { latestReplayResult } from './replays.ts';
import { decodeSegments, PathRefused, resolveInside, SAFE_NAME } from './safe-path.ts';
import { listSessions } from './sessions.ts';

export const DEFAULT_VIEW_PORT = 5178;
export const DEFAULT_VIEW_HOST = '127.0.0.1';
/** viewer/dist of this checkout. */
export const VIEWER_DIST = fileURLToPath(new URL('../../viewer/dist/', import.meta.url));

export interface ViewServerOptions {
  /** The folder whose session folders are listed and served. */
  readonly sessionsDir: string;
  /** 0 picks a free port. Default 5178. */
  readonly port?: number;
  /** Default 127.0.0.1 (loopback only). */
  readonly host?: string;
  /** The built viewer (default viewer/dist). */
  readonly distDir?: string;
  /** One line per request that failed (for the CLI's log). */
  readonly log?: (msg: string) => void;
}

export interface ViewServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.jsonl': 'application/x-ndjson', '.wav': 'audio/wav', '.bin': 'application/octet-stream', '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
};

class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, head = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(head ? undefined : text);
}

async function sendFile(req: IncomingMessage, res: ServerResponse, path: string, cache: string): Promise<void> {
  const info = await stat(path);
  if (!info.isFile()) throw new HttpError(404, 'VIEW_ERR_NOT_FOUND', 'not a file');
  const size = info.size;
  const headers: Record<string, string | number> = {
    'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'accept-ranges': 'bytes', 'cache-control': cache,
    'last-modified': info.mtime.toUTCString(),
  };
  const range = parseRange(req.headers.range, size);
  if (range.kind === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': 0 });
    res.end();
    return;
  }
  const [start, end, status] = range.kind === 'partial' ? [range.start, range.end, 206] : [0, size - 1, 200];
  if (range.kind === 'partial') headers['content-range'] = `bytes ${start}-${end}/${size}`;
  headers['content-length'] = Math.max(0, end - start + 1);
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const s = createReadStream(path, { start, end });
    s.on('error', reject);
    res.on('close', () => {
      s.destroy();
      resolve();
    });
    s.pipe(res);
  });
}

// DNS rebinding: a page on another origin could make a browser send requests here under a
// name that resolves to 127.0.0.1; a loopback server answers only loopback Host names.
function hostAllowed(req: IncomingMessage, bindHost: string): boolean {
  if (!['127.0.0.1', '::1', 'localhost'].includes(bindHost)) return true;
  const h = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return h === '127.0.0.1' || h === 'localhost' || h === '::1';
}

async function handle(req: IncomingMessage, res: ServerResponse, o: Required<Omit<ViewServerOptions, 'log'>>): Promise<void> {
  res.setHeader('x-content-type-options', 'nosniff');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    throw new HttpError(405, 'VIEW_ERR_METHOD', 'read-only server: GET and HEAD only');
  }
  if (!hostAllowed(req, o.host)) throw new HttpError(403, 'VIEW_ERR_HOST', 'unexpected Host header for a loopback server');
  // The raw target, not new URL(): URL parsing would resolve `..` before we could refuse it.
  const raw = (req.url ?? '/').split(/[?#]/, 1)[0]!;
  if (!raw.startsWith('/')) throw new HttpError(400, 'VIEW_ERR_PATH', 'request target must be a path');
  const segs = decodeSegments(raw);
  const head = req.method === 'HEAD';
  if (segs[0] === 'api') {
    if (segs[1] !== 'sessions') throw new HttpError(404, 'VIEW_ERR_NOT_FOUND', 'no such API');
    if (segs.length === 2) return sendJson(res, 200, { sessions: await listSessions(o.sessionsDir) }, head);
    const [, , name, file, ...rest] = segs;
    if (name === undefined || !SAFE_NAME.test(name) || file === undefined || rest.length > 0) throw new PathRefused('expected /api/sessions/NAME/FILE');
    if (file === 'replay') {
      const dir = await resolveInside(o.sessionsDir, [name]);
      const r = await latestReplayResult(dir);
      if (r === null) throw new HttpError(404, 'VIEW_ERR_NO_REPLAY', `no replay result saved for ${name} (run: solacelive replay SESSION)`);
      return sendJson(res, 200, r, head);
    }
    if (!(SESSION_FILES as readonly string[]).includes(file)) throw new HttpError(404, 'VIEW_ERR_NOT_FOUND', `a session serves only ${SESSION_FILES.join(', ')}`);
    return sendFile(req, res, await resolveInside(o.sessionsDir, [name, file]), 'no-cache');
  }
  if (segs.length === 1 && segs[0] === 'live' && !raw.endsWith('/')) {
    res.writeHead(301, { location: '/live/' });
    res.end();
    return;
  }
  const target = segs.length === 0 || raw.endsWith('/') ? [...segs, 'index.html'] : segs;
  let path: string;
  try {
    path = await resolveInside(o.distDir, target);
  } catch (err) {
    // Client-side routes (#/session/…) never reach here; an unknown path is a 404.
    if (err instanceof PathRefused && err.message === 'no such file') throw new HttpError(404, 'VIEW_ERR_NOT_FOUND', `no such file: ${raw}`);
    throw err;
  }
  // Hashed assets never change under a name; the pages must be re-read after a rebuild.
  return sendFile(req, res, path, segs[0] === 'assets' ? 'public, max-age=31536000, immutable' : 'no-cache');
}

/** Starts the server; resolves once it listens. The sessions folder must exist. */
export async function startViewServer(options: ViewServerOptions): Promise<ViewServer> {
  const o = {
    sessionsDir: options.sessionsDir,
    port: options.port ?? DEFAULT_VIEW_PORT,
    host: options.host ?? DEFAULT_VIEW_HOST,
    distDir: options.distDir ?? VIEWER_DIST,
  };
  const info = await stat(o.sessionsDir).catch(() => null);
  if (!info?.isDirectory()) throw new Error(`sessions folder ${o.sessionsDir} does not exist or is not a folder`);
  const log = options.log ?? (() => {});
  const server = createServer((req, res) => {
    handle(req, res, o).catch((err: unknown) => {
      const e = err instanceof HttpError ? err
        : err instanceof PathRefused ? new HttpError(err.message === 'no such file' ? 404 : 400, err.code, err.message)
          : new HttpError(500, 'VIEW_ERR_INTERNAL', (err as Error).message);
      if (e.status >= 500) log(`${req.method} ${req.url}: ${e.message}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, e.status, { error: { code: e.code, message: e.message } }, req.method === 'HEAD');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${urlHost}:${port}/`,
    host: o.host,
    port,
    server,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
