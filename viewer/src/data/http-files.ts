// SessionFiles over the view server's API (harness/view/server.ts), so a session from the
// server goes through exactly the same reader as a dropped folder or zip. Reads are byte
// ranges: a WAV is never fetched whole unless it is played or scanned whole. When the page
// was opened as /?token=T (a viewer started with --token), every API call carries it.
import { CodedError } from '../../../src/errors.ts';
import { chunksOf } from '../../../harness/format/bytes.ts';
import { MANIFEST_FILE, SESSION_FILES, STEPS_FILE } from '../../../harness/format/layout.ts';
import { PROXY_FILE } from '../../../harness/format/proxied.ts';
import type { SessionFiles } from '../../../harness/format/reader.ts';
import type { SessionListEntry } from '../../../harness/view/list-entry.ts';
import type { ReplayResult } from '../../../harness/view/replay-result.ts';
import type { LatestResults } from '../../../harness/view/results.ts';

/** A view-server API call that failed: the server's own code (VIEW_ERR_…), or HTTP_<status> when something else answered. */
export class ApiError extends CodedError {
  readonly status: number;
  override readonly name = 'ApiError';
  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

/** A percent-encoded header value, or null when absent or not decodable (another server's header). */
function headerText(v: string | null): string | null {
  try {
    return v === null ? null : decodeURIComponent(v);
  } catch {
    return null;
  }
}

async function failure(res: Response, what: string): Promise<ApiError> {
  // The view server names the error in headers as well (a HEAD reply has no body).
  const said = headerText(res.headers.get('x-error-message'));
  let message = `${what}: ${said ?? `HTTP ${res.status}`}`;
  let code = res.headers.get('x-error-code') ?? `HTTP_${res.status}`;
  try {
    const j = (await res.json()) as { error?: { code?: string; message?: string } };
    if (j.error?.message) message = `${what}: ${j.error.message}`;
    if (typeof j.error?.code === 'string') code = j.error.code;
  } catch {
    // not our JSON error (a proxy's page, an empty HEAD reply): keep the status line
  }
  return new ApiError(res.status, code, message);
}

const fileUrl = (name: string, file: string) => `api/sessions/${encodeURIComponent(name)}/${encodeURIComponent(file)}`;

/** The page's ?token=, sent as a header (not in API URLs, which end up in logs). */
export function apiHeaders(search: string = location.search): Record<string, string> {
  const token = new URLSearchParams(search).get('token');
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** fetch() for the view server's API: the token, when the page has one, plus `init`'s headers. */
function api(url: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { ...apiHeaders(), ...init.headers } });
}

export function httpSessionFiles(name: string): SessionFiles {
  const sizes = new Map<string, Promise<number | undefined>>();
  const head = (file: string) => {
    let p = sizes.get(file);
    if (p === undefined) {
      p = api(fileUrl(name, file), { method: 'HEAD' }).then(async (res) => {
        if (res.status === 404) return undefined;
        if (!res.ok) throw await failure(res, `${name}/${file}`);
        return Number(res.headers.get('content-length'));
      });
      p.catch(() => {}); // awaited by whoever asks; unasked prefetches must not reject unhandled
      sizes.set(file, p);
    }
    return p;
  };
  // Opening a session reads the sizes, then the manifest, then streams steps.jsonl: ask for
  // all of it in the first round trip, and hand the answers over as the reader asks.
  let manifest: Promise<Response> | null = null;
  let steps: Promise<Response> | null = null;
  const prefetch = () => {
    for (const f of SESSION_FILES) head(f);
    manifest = api(fileUrl(name, MANIFEST_FILE));
    steps = api(fileUrl(name, STEPS_FILE));
    manifest.catch(() => {});
    steps.catch(() => {});
  };
  const take = (file: string, start: number): Promise<Response> | null => {
    let r: Promise<Response> | null = null;
    if (start === 0 && file === MANIFEST_FILE) [r, manifest] = [manifest, null];
    if (start === 0 && file === STEPS_FILE) [r, steps] = [steps, null];
    return r;
  };
  return {
    label: name,
    size(file) {
      if (sizes.size === 0) prefetch();
      return head(file);
    },
    async read(file, start, end) {
      if (end <= start) return new Uint8Array(0);
      const early = take(file, start);
      if (early) {
        const res = await early;
        if (res.ok) return new Uint8Array(await res.arrayBuffer()).subarray(0, end);
      }
      const res = await api(fileUrl(name, file), { headers: { range: `bytes=${start}-${end - 1}` } });
      if (res.status === 416) return new Uint8Array(0);
      if (!res.ok) throw await failure(res, `${name}/${file}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      // A server that ignores Range answers 200 with the whole file: cut it here.
      return res.status === 206 ? bytes : bytes.subarray(start, end);
    },
    async *stream(file, start = 0) {
      const res = await (take(file, start) ?? api(fileUrl(name, file), start > 0 ? { headers: { range: `bytes=${start}-` } } : {}));
      if (res.status === 416) return;
      if (!res.ok || res.body === null) throw await failure(res, `${name}/${file}`);
      let skip = res.status === 206 ? 0 : start;
      for await (const chunk of chunksOf(res.body)) {
        if (skip >= chunk.length) {
          skip -= chunk.length;
          continue;
        }
        yield skip > 0 ? chunk.subarray(skip) : chunk;
        skip = 0;
      }
    },
  };
}

export async function fetchSessionList(): Promise<SessionListEntry[]> {
  const res = await api('api/sessions');
  if (!res.ok) throw await failure(res, 'sessions list');
  return ((await res.json()) as { sessions: SessionListEntry[] }).sessions;
}

async function fetchResult(name: string, which: 'replay' | 'diff'): Promise<ReplayResult | null> {
  const res = await api(fileUrl(name, which));
  if (res.status === 404) return null;
  if (!res.ok) throw await failure(res, `${name} ${which}`);
  return (await res.json()) as ReplayResult;
}

/** The newest saved replay and diff of a server session (each null when none). */
export async function fetchResults(name: string): Promise<LatestResults> {
  const [replay, diff] = await Promise.all([fetchResult(name, 'replay'), fetchResult(name, 'diff')]);
  return { replay, diff };
}

/** A server session's proxy.json text (a proxied or load-test session's figures), or null when it has none. */
export async function fetchProxyFile(name: string): Promise<string | null> {
  const res = await api(fileUrl(name, PROXY_FILE));
  if (res.status === 404) return null;
  if (!res.ok) throw await failure(res, `${name}/${PROXY_FILE}`);
  return res.text();
}
