// Builds viewer/dist when it is missing or older than any source the pages are made from,
// so `solacelive view` works from a clean clone (vite is a runtime dependency). A lock
// folder keeps two builds (say, the CLI and a test run) from emptying dist under each other.
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'viewer', 'dist');
const LOCK = join(ROOT, 'viewer', '.build.lock');
/** What the two pages are bundled from (the viewer imports only these project folders). */
const SOURCES = ['viewer', 'src/protocol', 'src/telemetry', 'src/audio', 'harness/format', 'harness/view', 'harness/compare.ts', 'package.json'];
const SKIP = new Set(['dist', 'node_modules', '.build.lock']);

async function newest(path: string): Promise<number> {
  const s = await stat(path).catch(() => null);
  if (s === null) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  let m = 0;
  for (const d of await readdir(path, { withFileTypes: true })) {
    if (SKIP.has(d.name)) continue;
    m = Math.max(m, await newest(join(path, d.name)));
  }
  return m;
}

/** Why dist must be (re)built, or null when it is up to date. */
export async function viewerIsStale(): Promise<string | null> {
  const built = await Promise.all(['index.html', 'live/index.html'].map((f) => stat(join(DIST, f)).catch(() => null)));
  if (built.some((s) => s === null)) return 'viewer/dist is missing';
  const builtAt = Math.min(...built.map((s) => s!.mtimeMs));
  let src = 0;
  for (const p of SOURCES) src = Math.max(src, await newest(join(ROOT, p)));
  return src > builtAt ? 'viewer sources changed since the last build' : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function lock(): Promise<void> {
  for (;;) {
    try {
      await mkdir(LOCK);
      await writeFile(join(LOCK, 'pid'), String(process.pid));
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
      const pid = Number(await readFile(join(LOCK, 'pid'), 'utf8').catch(() => 'NaN'));
      // A builder that died left its lock: take it over.
      if (Number.isInteger(pid) && !alive(pid)) await rm(LOCK, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Builds viewer/dist if stale; `log` hears why before a build starts. Returns whether it built. */
export async function ensureViewerBuilt(log: (msg: string) => void = () => {}): Promise<boolean> {
  if ((await viewerIsStale()) === null) return false;
  await lock();
  try {
    const why = await viewerIsStale(); // another process may have built it while we waited
    if (why === null) return false;
    log(`${why}: building the viewer (vite) …`);
    const t0 = performance.now();
    const { build } = await import('vite');
    await build({ configFile: join(ROOT, 'viewer', 'vite.config.ts'), logLevel: 'warn' });
    log(`viewer built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return true;
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}
