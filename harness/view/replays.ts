// Where replay verdicts are kept: `replays/<time>-<kind>.json` inside the session folder,
// written by `solacelive replay` and `sessions diff` (and read by the view server for the
// sessions list and the session page) — or, for a session inside the package (a committed
// fixture, which must not change the checkout), in the per-user state folder
// (replay-location.ts). Not a manifest field: the manifest is the recording's, rewritten only
// by its writer, and one session can be replayed many times on different machines.
//
// Reading goes through safe-path.ts, confined to the folder a result belongs in: replays/ or a
// result in it that is a link out, or not a regular file, or larger than any result, is
// skipped (a result is advisory; the list and the page say "none" rather than fail).
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { REPLAYS_DIR, replayResultsDir, stateReplaysDir } from '../replay-location.ts';
import type { ReplayResult } from './replay-result.ts';
import { MAX_RESULT_BYTES, MAX_RESULT_TRIES, newestResults, type LatestResults } from './results.ts';
import { PathRefused, readJsonInside, resolveInside } from './safe-path.ts';

export { REPLAYS_DIR };

/** A folder results may be in: `segs` under `root`, read only inside `root`. */
interface Place {
  readonly root: string;
  readonly segs: readonly string[];
}

/** Beside the session (confined to it), then the state folder (confined to itself). */
async function places(sessionPath: string): Promise<Place[]> {
  return [{ root: sessionPath, segs: [REPLAYS_DIR] }, { root: await stateReplaysDir(sessionPath), segs: [] }];
}

/**
 * Writes a replay result (atomically) into SESSION/replays/, or into the state folder for a
 * session inside the package; returns its path, or null when SESSION is not a folder (a .zip).
 * Refuses (PathRefused) a replays/ that is a link out of the session folder or not a folder,
 * and never writes through a link planted under the temporary name (created exclusively, not
 * followed): a shared sessions folder must not be able to point a replay's write at another file.
 */
export async function saveReplayResult(sessionPath: string, result: ReplayResult): Promise<string | null> {
  const info = await stat(sessionPath).catch(() => null);
  if (!info?.isDirectory()) return null;
  let dir = await replayResultsDir(sessionPath);
  await mkdir(dir, { recursive: true });
  if (dir === join(sessionPath, REPLAYS_DIR)) {
    dir = await resolveInside(sessionPath, [REPLAYS_DIR]).catch((err: unknown) => {
      throw err instanceof PathRefused && err.reason === 'outside' ? new PathRefused(`${join(sessionPath, REPLAYS_DIR)} is a link out of the session folder`, 'outside') : err;
    });
    if (!(await stat(dir)).isDirectory()) throw new PathRefused(`${join(sessionPath, REPLAYS_DIR)} is not a folder`, 'not-regular');
  }
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

interface Found {
  readonly place: Place;
  readonly name: string;
}

/** Result files of a session from every place, oldest first (names start with the UTC time). */
async function resultFiles(sessionPath: string): Promise<Found[]> {
  const found: Found[] = [];
  for (const place of await places(sessionPath)) {
    try {
      const dir = await resolveInside(place.root, place.segs);
      // replays/ that resolves to the session folder itself is not a results folder.
      if (place.segs.length > 0 && dir === (await resolveInside(place.root, []))) continue;
      for (const name of await readdir(dir)) if (name.endsWith('.json') && !name.startsWith('.')) found.push({ place, name });
    } catch {
      // no such folder, or one that leaves its root: no results there
    }
  }
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function readResult(f: Found): Promise<unknown> {
  return readJsonInside(f.place.root, [...f.place.segs, f.name], MAX_RESULT_BYTES).catch(() => null);
}

/** Paths of a session's saved results, oldest first, from SESSION/replays/ and the per-user state folder. */
export async function listReplayResults(sessionPath: string): Promise<string[]> {
  return (await resultFiles(sessionPath)).map((f) => join(f.place.root, ...f.place.segs, f.name));
}

/** The newest replay and the newest diff of a session folder (each null when none reads). */
export async function latestResults(sessionPath: string): Promise<LatestResults> {
  const files = await resultFiles(sessionPath);
  const kindOf = (n: string) => (n.endsWith('-diff.json') ? 'diff' : 'replay');
  const pick = async (kind: 'diff' | 'replay') => {
    // The file name carries the kind (saveReplayResult); newestResults checks the content.
    const mine = files.filter((f) => kindOf(f.name) === kind).slice(-MAX_RESULT_TRIES);
    for (let i = mine.length - 1; i >= 0; i--) {
      const r = newestResults([await readResult(mine[i]!)]);
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
  const files = (await resultFiles(sessionPath)).slice(-MAX_RESULT_TRIES);
  for (let i = files.length - 1; i >= 0; i--) {
    const r = newestResults([await readResult(files[i]!)]);
    if (r.replay ?? r.diff) return r.replay ?? r.diff;
  }
  return null;
}
