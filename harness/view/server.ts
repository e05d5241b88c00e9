// `solacelive view`'s HTTP server: the built viewer (viewer/dist, both pages) and a
// read-only API over one sessions folder. Nothing outside those two folders is ever
// served (safe-path.ts); only GET and HEAD are answered. Who may ask follows `serve`'s
// rules (src/server): loopback Host names on a loopback bind, loopback Origins unless
// allowed, and the token when there is one (required off loopback).
//
//   GET /api/sessions                       the list (sessions.ts), JSON
//   GET|HEAD /api/sessions/NAME/FILE        manifest.json, steps.jsonl, packets.bin, input.wav,
//                                           output.wav, and proxy.json (a proxied session's
//                                           figures): the bytes, with single byte ranges
//   GET /api/sessions/NAME/replay           the newest saved replay of NAME (404 if none)
//   GET /api/sessions/NAME/diff             the newest saved `sessions diff NAME B` (404 if none)
//   GET /, /live/, /assets/…                the viewer (no token needed: it is the public build,
//                                           and a page cannot put a token on its script tags)
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodedError } from '../../src/errors.ts';
import { isAuthorized } from '../../src/server/auth.ts';
import { isLoopbackHost, MIN_TOKEN_LENGTH, ServerOptionsError } from '../../src/server/options.ts';
import { checkRequest } from '../../src/server/request-guard.ts';
import { SESSION_FILES } from '../format/layout.ts';
import { PROXY_FILE } from '../format/proxied.ts';
import { parseRange } from './range.ts';
import { latestResults } from './replays.ts';
import { decodeSegments, openInside, PathRefused, resolveInside, SAFE_NAME, type OpenedFile } from './safe-path.ts';
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
  /** Required for a non-loopback host; API requests send `Authorization: Bearer T` or `?token=T`. */
  readonly token?: string | null;
  /** Browser Origins allowed besides loopback ones, normalised (parseAllowOrigins). */
  readonly allowOrigins?: readonly string[];
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

class HttpError extends CodedError {
  readonly status: number;
  override readonly name = 'HttpError';
  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, head = false, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(head ? undefined : text);
}

async function sendFile(req: IncomingMessage, res: ServerResponse, file: OpenedFile, cache: string): Promise<void> {
  let handed = false;
  try {
    const size = file.size;
    const headers: Record<string, string | number> = {
      'content-type': TYPES[extname(file.path)] ?? 'application/octet-stream', 'accept-ranges': 'bytes', 'cache-control': cache,
      'last-modified': file.mtime.toUTCString(),
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
    // Streamed from the descriptor that was checked, never past the size it had then: a
    // file that grows (or is swapped) afterwards cannot make a request read more.
    handed = true;
    await new Promise<void>((resolve, reject) => {
      const s = file.handle.createReadStream({ start, end, autoClose: true });
      s.on('error', reject);
      res.on('close', () => {
        s.destroy();
        resolve();
      });
      s.pipe(res);
    });
  } finally {
    if (!handed) await file.handle.close();
  }
}

/** Opens a file for sendFile; "no such file" becomes a 404 naming the request path only. */
async function openServed(root: string, segs: readonly string[], what: string): Promise<OpenedFile> {
  try {
    return await openInside(root, segs);
  } catch (err) {
    if (err instanceof PathRefused && err.reason === 'missing') throw new HttpError(404, 'VIEW_ERR_NOT_FOUND', `no such file: ${what}`);
    throw err;
  }
}

/** The session files, and the figures a proxied session has beside them. */
const SERVED_FILES: readonly string[] = [...SESSION_FILES, PROXY_FILE];

type Resolved = Required<Omit<ViewServerOptions, 'log'>>;

async function handle(req: IncomingMessage, res: ServerResponse, o: Resolved): Promise<void> {
  res.setHeader('x-content-type-options', 'nosniff');
  // DNS rebinding and foreign pages: the same Host and Origin rules as `serve`.
  const refused = checkRequest(req.headers, { bindHost: o.host, allowOrigins: o.allowOrigins });
  if (refused) throw new HttpError(refused.status, refused.code, refused.message);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    throw new HttpError(405, 'VIEW_ERR_METHOD', 'read-only server: GET and HEAD only');
  }
  // The raw target, not new URL(): URL parsing would resolve `..` before we could refuse it.
  const raw = (req.url ?? '/').split(/[?#]/, 1)[0]!;
  if (!raw.startsWith('/')) throw new HttpError(400, 'VIEW_ERR_PATH', 'request target must be a path');
  const segs = decodeSegments(raw);
  const head = req.method === 'HEAD';
  if (segs[0] === 'api') {
    if (!isAuthorized(req, o.token)) {
      res.setHeader('www-authenticate', 'Bearer');
      throw new HttpError(401, 'VIEW_ERR_TOKEN', 'unauthorized: this viewer has a token; open the page as /?token=<token>, or send "Authorization: Bearer <token>"');
    }
    if (segs[1] !== 'sessions') throw new HttpError(404, 'VIEW_ERR_NOT_FOUND', 'no such API');
    if (segs.length === 2) return sendJson(res, 200, { sessions: await listSessions(o.sessionsDir) }, head);
    const [, , name, file, ...rest] = segs;
    if (name === undefined || !SAFE_NAME.test(name) || file === undefined || rest.length > 0) throw new PathRefused('expected /api/sessions/NAME/FILE');
    if (file === 'replay' || file === 'diff') {
      const dir = await resolveInside(o.sessionsDir, [name]);
      if (!(await stat(dir)).isDirectory()) throw new HttpError(404, 'VIEW_ERR_NOT_FOUND', `${name} is not a session folder`);
      const r = (await latestResults(dir))[file];
      if (r === null) {
        throw new HttpError(404, 'VIEW_ERR_NO_REPLAY', file === 'replay'
          ? `no replay result saved for ${name} (run: solacelive replay SESSION)`
          : `no diff result saved for ${name} (run: solacelive sessions diff SESSION OTHER)`);
      }
      return sendJson(res, 200, r, head);
    }
    if (!SERVED_FILES.includes(file)) throw new HttpError(404, 'VIEW_ERR_NOT_FOUND', `a session serves only ${SERVED_FILES.join(', ')}`);
    return sendFile(req, res, await openServed(o.sessionsDir, [name, file], `${name}/${file}`), 'no-cache');
  }
  if (segs.length === 1 && segs[0] === 'live' && !raw.endsWith('/')) {
    res.writeHead(301, { location: '/live/' });
    res.end();
    return;
  }
  // Client-side routes (#/session/…) never reach here; an unknown path is a 404.
  const target = segs.length === 0 || raw.endsWith('/') ? [...segs, 'index.html'] : segs;
  const file = await openServed(o.distDir, target, raw);
  // Hashed assets never change under a name; the pages must be re-read after a rebuild.
  return sendFile(req, res, file, segs[0] === 'assets' ? 'public, max-age=31536000, immutable' : 'no-cache');
}

/**
 * `serve`'s bind and token rules (src/server/options.ts): a token, when given, is long enough
 * and has no spaces; a non-loopback bind needs one. Throws ServerOptionsError.
 */
export function checkViewAccess(host: string, token: string | null): void {
  if (token !== null && (token.length < MIN_TOKEN_LENGTH || /\s/.test(token))) {
    throw new ServerOptionsError('SERVER_ERR_OPTIONS', `token must be at least ${MIN_TOKEN_LENGTH} characters without spaces`);
  }
  if (!isLoopbackHost(host) && token === null) {
    throw new ServerOptionsError(
      'SERVER_ERR_INSECURE_BIND',
      `refusing to listen on ${host} without a token: anyone who can reach it could read every session in the folder. ` +
        'Pass --token T (open the page as /?token=T), or bind 127.0.0.1.',
    );
  }
}

/** Starts the server; resolves once it listens. The sessions folder must exist. */
export async function startViewServer(options: ViewServerOptions): Promise<ViewServer> {
  const o = {
    sessionsDir: options.sessionsDir,
    port: options.port ?? DEFAULT_VIEW_PORT,
    host: options.host ?? DEFAULT_VIEW_HOST,
    distDir: options.distDir ?? VIEWER_DIST,
    token: options.token ?? null,
    allowOrigins: options.allowOrigins ?? [],
  };
  checkViewAccess(o.host, o.token);
  const info = await stat(o.sessionsDir).catch(() => null);
  if (!info?.isDirectory()) throw new Error(`sessions folder ${o.sessionsDir} does not exist or is not a folder`);
  const log = options.log ?? (() => {});
  const server = createServer((req, res) => {
    handle(req, res, o).catch((err: unknown) => {
      // Only messages this server wrote go to the client; anything else is logged here.
      const e = err instanceof HttpError ? err
        : err instanceof PathRefused ? new HttpError(err.reason === 'missing' ? 404 : err.reason === 'malformed' ? 400 : 403, err.code, err.message)
          : new HttpError(500, 'VIEW_ERR_INTERNAL', 'internal error (see the view server\'s log)');
      if (e.status >= 500) log(`${req.method} ${req.url}: ${(err as Error).message}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // The error in headers too: a HEAD (the viewer reads file sizes that way) has no body to carry it.
      sendJson(res, e.status, { error: { code: e.code, message: e.message } }, req.method === 'HEAD', { 'x-error-code': e.code, 'x-error-message': encodeURIComponent(e.message) });
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
