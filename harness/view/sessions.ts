// The sessions folder as the viewer's list: each session folder directly inside it,
// summarised from its manifest and steps.jsonl (streamed), cached until a file changes.
// A folder that does not read as a session still appears, with the error, so a damaged
// recording is visible rather than silently missing. Files are read only as the file API
// would serve them (confined-files.ts), and an error names the file and what is wrong with
// it, never the bytes (a parser's message quotes them, and a link may point anywhere).
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isSessionError, MANIFEST_FILE, openSessionFiles, STEPS_FILE, type SessionError, type SessionFiles } from '../format/node.ts';
import { PROXY_FILE } from '../format/proxied.ts';
import { confinedSessionFiles } from './confined-files.ts';
import type { SessionListEntry } from './list-entry.ts';
import { measuredSession, parseProxyFile, ProxyFileError } from './proxied.ts';
import { latestResults, REPLAYS_DIR } from './replays.ts';
import { summarizeResult } from './results.ts';
import { isInside, PathRefused, SAFE_NAME } from './safe-path.ts';
import { sessionStats, type StepTiming } from './stats.ts';

export type { SessionListEntry };

/** Steps the list reads of one session (10 h of audio); the page reads the rest. */
export const LIST_MAX_STEPS = 450_000;

type Summary = Omit<SessionListEntry, 'name' | 'aliases'>;
const cache = new Map<string, { key: string; summary: Summary }>();

async function changeKey(dir: string): Promise<string> {
  const parts = await Promise.all([MANIFEST_FILE, STEPS_FILE, REPLAYS_DIR, PROXY_FILE].map(async (f) => {
    const s = await stat(join(dir, f)).catch(() => null);
    return s ? `${s.size}:${s.mtimeMs}` : '-';
  }));
  return parts.join('|');
}

const SESSION_ERROR_TEXT: Partial<Record<SessionError['code'], string>> = {
  SESSION_ERR_NOT_A_SESSION: 'is not a SolaceLive session',
  SESSION_ERR_VERSION: 'has a format version this viewer does not read',
  SESSION_ERR_MANIFEST: 'lacks a field or has a malformed one',
  SESSION_ERR_CORRUPT: 'is damaged',
  SESSION_ERR_TRUNCATED: 'ends inside a record',
  SESSION_ERR_UNFINALIZED: 'was never finalised',
  SESSION_ERR_MISSING_FILE: 'is missing',
  SESSION_ERR_UNSUPPORTED: 'uses a zip feature this reader lacks',
};

/** The list's error for a session that does not read: code, file and place, no content. */
export function listError(err: unknown): { code: string; message: string } {
  if (err instanceof PathRefused) return { code: err.code, message: err.message };
  if (isSessionError(err)) {
    const where = `${err.file !== undefined ? basename(err.file) : 'the session'}${err.offset !== undefined ? ` (at byte ${err.offset})` : ''}`;
    const what = SESSION_ERROR_TEXT[err.code] ?? `cannot be read${err.errno ? ` (${err.errno})` : ''}`;
    return { code: err.code, message: `${where} ${what}; open the session for details` };
  }
  const errno = (err as { code?: unknown }).code;
  return { code: 'VIEW_ERR_READ', message: `the session cannot be read${typeof errno === 'string' ? ` (${errno})` : ''}` };
}

/** Largest proxy.json the list reads (a 10-hour session's figures are ~10 MB). */
const MAX_PROXY_FILE_BYTES = 64 * 1024 * 1024;

/** The list's figures of a proxied or load-test session, from proxy.json read under the file API's rules. */
async function measuredFigures(files: SessionFiles, m: { kind: 'proxied' | 'load test'; upstream: string }): Promise<NonNullable<SessionListEntry['measured']>> {
  const none = { ...m, lagP99Ms: null, slopeMsPerMin: null, stalls: null };
  try {
    const size = await files.size(PROXY_FILE);
    if (size === undefined) return { ...none, figuresError: `${PROXY_FILE} is missing` };
    if (size > MAX_PROXY_FILE_BYTES) return { ...none, figuresError: `${PROXY_FILE} is larger than ${MAX_PROXY_FILE_BYTES} bytes` };
    const f = parseProxyFile(new TextDecoder().decode(await files.read(PROXY_FILE, 0, size))).figures;
    return { ...m, lagP99Ms: f.lag.p99, slopeMsPerMin: f.lag.slopeMsPerMin, stalls: f.stalls.count, figuresError: null };
  } catch (err) {
    return { ...none, figuresError: err instanceof ProxyFileError ? err.message : listError(err).message };
  }
}

/** Summary of `root/name` (a folder directly inside root), read under the file API's rules; at most `maxSteps` steps are read. */
export async function summarizeSession(root: string, name: string, maxSteps = LIST_MAX_STEPS): Promise<SessionListEntry> {
  const dir = join(root, name);
  const key = `${await changeKey(dir)}|${maxSteps}`;
  const real = await realpath(dir).catch(() => dir);
  const hit = cache.get(real);
  if (hit?.key === key) return { name, aliases: [], ...hit.summary };
  let summary: Summary;
  try {
    const files = confinedSessionFiles(root, name);
    const r = await openSessionFiles(files, { allowMissing: true });
    // Only what the stats need of a step: the list must not hold whole step records.
    const steps: StepTiming[] = [];
    let cut = false;
    // salvage: a list should show what a damaged session still has, not fail on it.
    if (!r.missing.includes(STEPS_FILE)) {
      for await (const s of r.steps({ salvage: true })) {
        if (steps.length === maxSteps) {
          cut = true;
          break;
        }
        steps.push({ step: s.step, timeMs: s.timeMs, spans: s.spans, events: s.events });
      }
    }
    const st = sessionStats(steps);
    const results = await latestResults(real);
    const m = measuredSession(r.manifest);
    summary = {
      createdAt: r.manifest.createdAt, status: r.manifest.status, model: r.manifest.model.id,
      durationMs: st.audioMs, steps: st.steps, budgetMisses: st.budgetMisses,
      p99StepMs: st.spans['step.total']?.p99 ?? null,
      replay: results.replay && summarizeResult(results.replay),
      diff: results.diff && summarizeResult(results.diff),
      recoveries: r.recoveries.length,
      measured: m && await measuredFigures(files, m),
      error: cut ? { code: 'VIEW_ERR_TOO_LARGE', message: `only the first ${maxSteps} steps are summarised here; open the session for all of them` } : null,
    };
  } catch (err) {
    summary = { createdAt: null, status: null, model: null, durationMs: 0, steps: 0, budgetMisses: 0, p99StepMs: null, replay: null, diff: null, recoveries: 0, measured: null, error: listError(err) };
  }
  cache.set(real, { key, summary });
  return { name, aliases: [], ...summary };
}

/**
 * Session folders directly inside `root` (a folder is one if it has a manifest.json), newest
 * first. A session reached under several names (symlinks to one folder) is listed once: under
 * its own folder's name when that folder is directly inside root (the link is the alias), else
 * under the first link name; the other names are its `aliases`.
 */
export async function listSessions(root: string, maxSteps = LIST_MAX_STEPS): Promise<SessionListEntry[]> {
  const realRoot = await realpath(root);
  const byReal = new Map<string, string[]>();
  for (const d of await readdir(realRoot, { withFileTypes: true })) {
    if (!SAFE_NAME.test(d.name) || !(d.isDirectory() || d.isSymbolicLink())) continue;
    // A symlinked session is listed only if it stays inside the folder (as the file API requires).
    const real = await realpath(join(realRoot, d.name)).catch(() => null);
    if (real === null || real === realRoot || !isInside(realRoot, real)) continue;
    if (!(await stat(real).catch(() => null))?.isDirectory()) continue;
    if (!(await stat(join(real, MANIFEST_FILE)).catch(() => null))) continue;
    byReal.set(real, [...(byReal.get(real) ?? []), d.name]);
  }
  const out: SessionListEntry[] = [];
  for (const [real, names] of byReal) {
    const own = dirname(real) === realRoot && names.includes(basename(real)) ? basename(real) : names.slice().sort()[0]!;
    const entry = await summarizeSession(realRoot, own, maxSteps);
    out.push({ ...entry, aliases: names.filter((n) => n !== own).sort() });
  }
  for (const k of cache.keys()) if (isInside(realRoot, k) && !byReal.has(k)) cache.delete(k);
  return out.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || a.name.localeCompare(b.name));
}
