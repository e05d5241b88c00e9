// Where replay verdicts are kept: `replays/<time>-<kind>.json` inside the session folder,
// written by `solacelive replay` (and read by the view server for the sessions list and
// the session page). A folder beside the session files, not a manifest field: the
// manifest is the recording's, rewritten only by its writer, and one session can be
// replayed many times on different machines.
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPLAYS_DIR, replayResultDirs, replayResultsDir } from '../replay-location.ts';
import type { ReplayResult } from './replay-result.ts';

export { REPLAYS_DIR };

/**
 * Writes a replay result into SESSION/replays/ (atomically), or for a session inside the
 * package (a committed fixture) into the per-user state folder (replay-location.ts); returns
 * its path, or null when SESSION is not a folder (a .zip).
 */
export async function saveReplayResult(sessionPath: string, result: ReplayResult): Promise<string | null> {
  const info = await stat(sessionPath).catch(() => null);
  if (!info?.isDirectory()) return null;
  const dir = await replayResultsDir(sessionPath);
  await mkdir(dir, { recursive: true });
  const name = `${result.at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${result.kind}.json`;
  const path = join(dir, name);
  await writeFile(`${path}.tmp`, JSON.stringify(result, null, 2) + '\n');
  await rename(`${path}.tmp`, path);
  return path;
}

/** The newest replay result of a session folder, or null (none, or unreadable: a result is advisory). */
export async function latestReplayResult(sessionPath: string): Promise<ReplayResult | null> {
  const paths = await listReplayResults(sessionPath);
  for (let i = paths.length - 1; i >= 0; i--) {
    try {
      const r = JSON.parse(await readFile(paths[i]!, 'utf8')) as ReplayResult;
      if (typeof r.verdict === 'string' && typeof r.at === 'string') return r;
    } catch {
      // a torn or foreign file: try the one before
    }
  }
  return null;
}

/** Paths of a session's saved results, oldest first, from SESSION/replays/ and the per-user state folder. */
export async function listReplayResults(sessionPath: string): Promise<string[]> {
  const found: { name: string; path: string }[] = [];
  for (const dir of await replayResultDirs(sessionPath)) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) if (name.endsWith('.json')) found.push({ name, path: join(dir, name) });
  }
  // Names start with the result's UTC time, so name order is time order across both folders.
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((f) => f.path);
}
