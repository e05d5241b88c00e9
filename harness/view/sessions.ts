// The sessions folder as the viewer's list: each session folder directly inside it,
// summarised from its manifest and steps.jsonl (streamed), cached until a file changes.
// A folder that does not read as a session still appears, with the error, so a damaged
// recording is visible rather than silently missing.
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { isSessionError, MANIFEST_FILE, openSession, STEPS_FILE, type ReadStep } from '../format/node.ts';
import { latestReplayResult, REPLAYS_DIR } from './replays.ts';
import { SAFE_NAME } from './safe-path.ts';
import { sessionStats } from './stats.ts';
import type { SessionListEntry } from './list-entry.ts';

export type { SessionListEntry };

const cache = new Map<string, { key: string; entry: SessionListEntry }>();

async function changeKey(dir: string): Promise<string> {
  const parts = await Promise.all([MANIFEST_FILE, STEPS_FILE, REPLAYS_DIR].map(async (f) => {
    const s = await stat(join(dir, f)).catch(() => null);
    return s ? `${s.size}:${s.mtimeMs}` : '-';
  }));
  return parts.join('|');
}

export async function summarizeSession(dir: string, name: string): Promise<SessionListEntry> {
  const key = await changeKey(dir);
  const hit = cache.get(dir);
  if (hit?.key === key) return hit.entry;
  let entry: SessionListEntry;
  try {
    const r = await openSession(dir, { allowMissing: true });
    const steps: ReadStep[] = [];
    // salvage: a list should show what a damaged session still has, not fail on it.
    if (!r.missing.includes(STEPS_FILE)) for await (const s of r.steps({ salvage: true })) steps.push(s);
    const st = sessionStats(steps);
    const replay = await latestReplayResult(dir);
    entry = {
      name, createdAt: r.manifest.createdAt, status: r.manifest.status, model: r.manifest.model.id,
      durationMs: st.audioMs, steps: st.steps, budgetMisses: st.budgetMisses,
      p99StepMs: st.spans['step.total']?.p99 ?? null,
      replay: replay && { verdict: replay.verdict, at: replay.at, ok: replay.ok },
      recoveries: r.recoveries.length, error: null,
    };
  } catch (err) {
    const e = isSessionError(err) ? { code: err.code, message: err.message } : { code: 'VIEW_ERR_READ', message: (err as Error).message };
    entry = { name, createdAt: null, status: null, model: null, durationMs: 0, steps: 0, budgetMisses: 0, p99StepMs: null, replay: null, recoveries: 0, error: e };
  }
  cache.set(dir, { key, entry });
  return entry;
}

/** Session folders directly inside `root` (a folder is one if it has a manifest.json), newest first. */
export async function listSessions(root: string): Promise<SessionListEntry[]> {
  const realRoot = await realpath(root);
  const out: SessionListEntry[] = [];
  for (const d of await readdir(realRoot, { withFileTypes: true })) {
    if (!SAFE_NAME.test(d.name) || !(d.isDirectory() || d.isSymbolicLink())) continue;
    const dir = join(realRoot, d.name);
    // A symlinked session is listed only if it stays inside the folder (as the file API requires).
    const real = await realpath(dir).catch(() => null);
    if (real === null || !real.startsWith(realRoot + sep)) continue;
    if (!(await stat(join(real, MANIFEST_FILE)).catch(() => null))?.isFile()) continue;
    out.push(await summarizeSession(real, d.name));
  }
  return out.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || a.name.localeCompare(b.name));
}
