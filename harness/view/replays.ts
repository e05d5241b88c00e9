// Where replay verdicts are kept: `replays/<time>-<kind>.json` inside the session folder,
// written by `solacelive replay` (and read by the view server for the sessions list and
// the session page). A folder beside the session files, not a manifest field: the
// manifest is the recording's, rewritten only by its writer, and one session can be
// replayed many times on different machines.
//
// Reading goes through safe-path.ts, confined to the session folder: replays/ or a result in
// it that is a link out of the folder, or not a regular file, or larger than any result, is
// skipped (a result is advisory; the list and the page say "none" rather than fail).
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReplayResult } from './replay-result.ts';
import { MAX_RESULT_BYTES, MAX_RESULT_TRIES, newestResults, type LatestResults } from './results.ts';
import { PathRefused, readJsonInside, resolveInside } from './safe-path.ts';

export const REPLAYS_DIR = 'replays';

/**
 * Writes a replay result into SESSION/replays/ (atomically); returns its path, or null when
 * SESSION is not a folder (a .zip). Refuses (PathRefused) a replays/ that is a link out of
 * the session folder or not a folder, and never writes through a link planted under the
 * temporary name (created exclusively, not followed): a shared sessions folder must not be
 * able to point a replay's write at another file.
 */
export async function saveReplayResult(sessionPath: string, result: ReplayResult): Promise<string | null> {
  const info = await stat(sessionPath).catch(() => null);
  if (!info?.isDirectory()) return null;
  await mkdir(join(sessionPath, REPLAYS_DIR), { recursive: true });
  const dir = await resolveInside(sessionPath, [REPLAYS_DIR]).catch((err: unknown) => {
    throw err instanceof PathRefused && err.reason === 'outside' ? new PathRefused(`${join(sessionPath, REPLAYS_DIR)} is a link out of the session folder`, 'outside') : err;
  });
  if (!(await stat(dir)).isDirectory()) throw new PathRefused(`${join(sessionPath, REPLAYS_DIR)} is not a folder`, 'not-regular');
  const name = `${result.at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${result.kind}.json`;
  const path = join(dir, name);
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    await fh.writeFile(JSON.stringify(result, null, 2) + '\n');
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  return path;
}

/** Result file names in SESSION/replays/, oldest first; [] when there is no such folder inside SESSION. */
async function resultNames(sessionPath: string): Promise<string[]> {
  try {
    const dir = await resolveInside(sessionPath, [REPLAYS_DIR]);
    if (dir === (await resolveInside(sessionPath, []))) return [];
    return (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
  } catch {
    return [];
  }
}

async function readResult(sessionPath: string, name: string): Promise<unknown> {
  return readJsonInside(sessionPath, [REPLAYS_DIR, name], MAX_RESULT_BYTES).catch(() => null);
}

/** The newest replay and the newest diff of a session folder (each null when none reads). */
export async function latestResults(sessionPath: string): Promise<LatestResults> {
  const names = await resultNames(sessionPath);
  const kindOf = (n: string) => (n.endsWith('-diff.json') ? 'diff' : 'replay');
  const pick = async (kind: 'diff' | 'replay') => {
    // The file name carries the kind (saveReplayResult); newestResults checks the content.
    const mine = names.filter((n) => kindOf(n) === kind).slice(-MAX_RESULT_TRIES);
    for (let i = mine.length - 1; i >= 0; i--) {
      const r = newestResults([await readResult(sessionPath, mine[i]!)]);
      const found = kind === 'diff' ? r.diff : r.replay;
      if (found) return found;
    }
    return null;
  };
  const [replay, diff] = await Promise.all([pick('replay'), pick('diff')]);
  return { replay, diff };
}

/** The newest result of any kind, or null (none, or unreadable: a result is advisory). */
export async function latestReplayResult(sessionPath: string): Promise<ReplayResult | null> {
  const names = (await resultNames(sessionPath)).slice(-MAX_RESULT_TRIES);
  for (let i = names.length - 1; i >= 0; i--) {
    const r = newestResults([await readResult(sessionPath, names[i]!)]);
    if (r.replay ?? r.diff) return r.replay ?? r.diff;
  }
  return null;
}
