// Running the shipped deploy/haproxy.cfg on other addresses: the test (test/deploy) and the
// benchmark (`solacelive bench --suite server --haproxy`) put it in front of their own `serve` processes.
// Only the frontend bind, the server lines and the stats bind change, so what runs is the
// shipped file; a change to the file that loses one of those lines fails here, by name.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const HAPROXY_CFG = new URL('./haproxy.cfg', import.meta.url).pathname;

export interface HaproxyLayout {
  /** host:port clients connect to. */
  readonly bind: string;
  /** Each `solacelive serve` as name → host:port. */
  readonly servers: Readonly<Record<string, string>>;
  /** host:port of the stats page. */
  readonly stats: string;
}

/** The shipped config with `layout`'s addresses in place of its own. */
export function renderHaproxyConfig(text: string, layout: HaproxyLayout): string {
  const replaceOne = (re: RegExp, by: string, what: string, t: string) => {
    if ((t.match(new RegExp(re.source, 'gm')) ?? []).length !== 1) throw new Error(`deploy/haproxy.cfg: expected exactly one ${what} (${re.source})`);
    return t.replace(new RegExp(re.source, 'm'), by);
  };
  let out = replaceOne(/^(frontend solacelive\n(?:[ \t]*#.*\n)*[ \t]*bind )\S+/, `$1${layout.bind}`, 'frontend bind', text);
  out = replaceOne(/^(listen stats\n(?:[ \t]*#.*\n)*[ \t]*bind )\S+/, `$1${layout.stats}`, 'stats bind', out);
  const serverLines = /^([ \t]*)server \S+ \S+.*\n/gm;
  const first = serverLines.exec(out);
  if (!first) throw new Error('deploy/haproxy.cfg: no `server` line in the backend');
  const lines = Object.entries(layout.servers).map(([name, addr]) => `${first[1]}server ${name} ${addr}\n`).join('');
  let placed = false;
  return out.replace(serverLines, () => (placed ? '' : ((placed = true), lines)));
}

/** The haproxy binary: $HAPROXY, else on PATH, else /usr/sbin (Debian's place, often not on a user's PATH). */
export function haproxyBinary(): string {
  const candidates = [process.env.HAPROXY, ...(process.env.PATH ?? '').split(delimiter).map((d) => d && join(d, 'haproxy')), '/usr/sbin/haproxy', '/usr/local/sbin/haproxy'];
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  throw new Error('haproxy not found (not on PATH, not in /usr/sbin): run npm run setup (it installs Debian\'s haproxy), or set HAPROXY=/path/to/haproxy');
}

/** A free TCP port on 127.0.0.1 (closed again at once: the caller binds it soon after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface ServerState {
  /** HAProxy's word: UP, DOWN, "UP 1/2" (going down), "DOWN 1/2" (coming up), MAINT, no check. */
  readonly status: string;
  /** Connections open to it now (sessions, including those still starting). */
  readonly current: number;
  /** Connections it was given since HAProxy started. */
  readonly total: number;
  /** The last health check's result, e.g. "L7OK", "L7STS" (a non-200), "L4CON" (refused). */
  readonly check: string;
}

export interface RunningHaproxy {
  readonly child: ChildProcess;
  /** ws://bind (the packet protocol; /api/chat for the Moshi protocol). */
  readonly url: string;
  readonly statsUrl: string;
  /** Each server's state from the stats page. */
  states(): Promise<Record<string, ServerState>>;
  /** Resolves once `pred` holds for the states, or rejects after timeoutMs with the last states seen. */
  waitFor(pred: (s: Record<string, ServerState>) => boolean, timeoutMs: number, what: string): Promise<Record<string, ServerState>>;
  log(): string;
  stop(): Promise<void>;
}

/** Starts haproxy in the foreground on the shipped config with `layout`; resolves once its stats page answers. */
export async function startHaproxy(layout: HaproxyLayout, env: NodeJS.ProcessEnv = process.env, timeoutMs = 15_000): Promise<RunningHaproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'solacelive-haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, renderHaproxyConfig(readFileSync(HAPROXY_CFG, 'utf8'), layout));
  // -db: stay in the foreground (the caller owns the process and kills it).
  const child = spawn(haproxyBinary(), ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const statsUrl = `http://${layout.stats}/stats`;
  const states = async (): Promise<Record<string, ServerState>> => {
    // A stats page that does not answer is an error, not a wait: callers poll it in loops with their own deadlines.
    // A connection of its own each time: a kept-alive one that HAProxy closes as it idles out (http-request timeout) can meet the next read and fail it.
    const res = await fetch(`${statsUrl};csv`, { signal: AbortSignal.timeout(5000), headers: { connection: 'close' } });
    if (!res.ok) throw new Error(`haproxy stats answered ${res.status}`);
    const [header, ...rows] = (await res.text()).trim().split('\n');
    const cols = header!.replace(/^# /, '').split(',');
    const at = (name: string) => cols.indexOf(name);
    const out: Record<string, ServerState> = {};
    for (const row of rows) {
      const f = row.split(',');
      if (f[at('pxname')] !== 'solacelive_servers' || f[at('svname')] === 'BACKEND') continue;
      out[f[at('svname')]!] = { status: f[at('status')]!, current: Number(f[at('scur')]), total: Number(f[at('stot')]), check: f[at('check_status')]! };
    }
    return out;
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`haproxy exited (${code}):\n${log}`))));
  exited.catch(() => undefined);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const ok = await Promise.race([states().then(() => true, () => false), exited]).catch(async (e: Error) => {
      await stop();
      throw e;
    });
    if (ok) break;
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`haproxy's stats page did not answer within ${timeoutMs} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const waitFor = async (pred: (s: Record<string, ServerState>) => boolean, ms: number, what: string) => {
    const end = performance.now() + ms;
    let last: Record<string, ServerState> = {};
    for (;;) {
      last = await states();
      if (pred(last)) return last;
      if (performance.now() > end) throw new Error(`haproxy: ${what} not seen within ${ms} ms; servers: ${JSON.stringify(last)}\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  return { child, url: `ws://${layout.bind}`, statsUrl, states, waitFor, log: () => log, stop };
}
