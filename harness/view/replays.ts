// Where replay verdicts are kept: `replays/<time>-<kind>.json` inside the session folder,
// written by `solacelive replay` (and read by the view server for the sessions list and
// the session page). A folder beside the session files, not a manifest field: the
// manifest is the recording's, rewritten only by its writer, and one session can be
// replayed many times on different machines.
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReplayResult } from './replay-result.ts';

export const REPLAYS_DIR = 'replays';

/** Writes a replay result into SESSION/replays/ (atomically); returns its path, or null when SESSION is not a folder (a .zip). */
export async function saveReplayResult(sessionPath: string, result: ReplayResult): Promise<string | null> {
  const info = await stat(sessionPath).catch(() => null);
  if (!info?.isDirectory()) return null;
  const dir = join(sessionPath, REPLAYS_DIR);
  await mkdir(dir, { recursive: true });
  const name = `${result.at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${result.kind}.json`;
  const path = join(dir, name);
  await writeFile(`${path}.tmp`, JSON.stringify(result, null, 2) + '\n');
  await rename(`${path}.tmp`, path);
  return path;
}

/** The newest replay result of a session folder, or null (none, or unreadable: a result is advisory). */
export async function latestReplayResult(sessionPath: string): Promise<ReplayResult | null> {
  let names: string[];
  try {
    names = (await readdir(join(sessionPath, REPLAYS_DIR))).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return null;
  }
  for (let i = names.length - 1; i >= 0; i--) {
    try {
      const r = JSON.parse(await readFile(join(sessionPath, REPLAYS_DIR, names[i]!), 'utf8')) as ReplayResult;
      if (typeof r.verdict === 'string' && typeof r.at === 'string') return r;
    } catch {
      // a torn or foreign file: try the one before
    }
  }
  return null;
}
