// Sessions opened without a server: a folder or a .zip dropped on the page (or picked with
// the file inputs). Folders are walked through the File System entries API; the session
// files are grouped per folder by harness/format's blob adapters, and the replays/*.json
// beside them give the session's newest replay and newest diff (harness/view/results.ts).
import { sessionsFromEntries, sessionsFromZip } from '../../../harness/format/blob-files.ts';
import { ZipArchive } from '../../../harness/format/zip.ts';
import { PROXY_FILE } from '../../../harness/format/proxied.ts';
import type { SessionFiles } from '../../../harness/format/reader.ts';
import { MAX_RESULT_BYTES, MAX_RESULT_TRIES, newestResults, type LatestResults } from '../../../harness/view/results.ts';

export interface LocalSession {
  readonly name: string;
  readonly files: SessionFiles;
  readonly results: () => Promise<LatestResults>;
  /** proxy.json beside the session files (a proxied or load-test session's figures), or null. */
  readonly figures: () => Promise<string | null>;
}

const NO_FIGURES = async () => null;

/** proxy.json beside a session inside a zip (the archive's session files leave it out). */
function zipFiguresOf(archive: ZipArchive, dir: string): () => Promise<string | null> {
  const clean = (n: string) => n.replace(/\\/g, '/').replace(/^(\.\/|\/)+/, '');
  const entry = archive.entries.find((e) => clean(e.name) === (dir === '' ? PROXY_FILE : `${dir}/${PROXY_FILE}`));
  return entry === undefined ? NO_FIGURES : async () => new TextDecoder().decode(await archive.read(entry, 0, entry.size));
}

function figuresOf(entries: readonly (readonly [string, Blob])[], dir: string): () => Promise<string | null> {
  const blob = entries.find(([p]) => p === (dir === '' ? PROXY_FILE : `${dir}/${PROXY_FILE}`))?.[1];
  return blob === undefined ? NO_FIGURES : () => blob.text();
}

function readEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  return new Promise((resolve, reject) => {
    // readEntries returns the folder in batches (100 in Chromium) until an empty one.
    const next = () => reader.readEntries((batch) => {
      if (batch.length === 0) resolve(all);
      else {
        all.push(...batch);
        next();
      }
    }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, prefix: string, out: [string, File][]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push([path, file]);
  } else if (entry.isDirectory) {
    for (const child of await readEntries(entry as FileSystemDirectoryEntry)) await walk(child, path, out);
  }
}

function resultsOf(entries: readonly (readonly [string, Blob])[], dir: string): () => Promise<LatestResults> {
  const prefix = dir === '' ? 'replays/' : `${dir}/replays/`;
  const found = entries.filter(([p]) => p.startsWith(prefix) && p.endsWith('.json') && !p.slice(prefix.length).includes('/')).sort(([a], [b]) => a.localeCompare(b));
  // The newest few of each kind, as the view server reads them (harness/view/replays.ts).
  const newest = [...found.filter(([p]) => !p.endsWith('-diff.json')).slice(-MAX_RESULT_TRIES), ...found.filter(([p]) => p.endsWith('-diff.json')).slice(-MAX_RESULT_TRIES)]
    .sort(([a], [b]) => a.localeCompare(b));
  return async () => newestResults(await Promise.all(newest.map(async ([, blob]) => {
    if (blob.size > MAX_RESULT_BYTES) return null;
    try {
      return JSON.parse(await blob.text()) as unknown;
    } catch {
      return null; // unreadable result: newestResults skips it
    }
  })));
}

function fromEntries(entries: readonly (readonly [string, Blob])[], label: string): LocalSession[] {
  const clean = entries.map(([p, b]) => [p.replace(/\\/g, '/').replace(/^\/+/, ''), b] as const);
  return [...sessionsFromEntries(clean, label)].map(([dir, files]) => ({ name: dir === '' ? label : dir, files, results: resultsOf(clean, dir), figures: figuresOf(clean, dir) }));
}

/** Files picked with an <input type=file> (webkitdirectory gives each its relative path), or zips. */
export async function sessionsFromPicked(files: readonly File[]): Promise<LocalSession[]> {
  const out: LocalSession[] = [];
  const loose: [string, File][] = [];
  for (const f of files) {
    if (/\.zip$/i.test(f.name)) {
      const archive = await ZipArchive.open(f, f.name);
      out.push(...[...(await sessionsFromZip(f, f.name))].map(([dir, s]) => ({ name: dir === '' ? f.name : `${f.name}:${dir}`, files: s, results: async () => ({ replay: null, diff: null }), figures: zipFiguresOf(archive, dir) })));
    }
    else loose.push([f.webkitRelativePath || f.name, f]);
  }
  if (loose.length) out.push(...fromEntries(loose, 'dropped files'));
  return out;
}

/** Whatever was dropped: folders (walked), session files, zips. */
export async function sessionsFromDrop(dt: DataTransfer): Promise<LocalSession[]> {
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry?.() ?? null);
  if (entries.every((e) => e === null)) return sessionsFromPicked([...dt.files]);
  const files: [string, File][] = [];
  const zips: File[] = [];
  for (const e of entries) {
    if (e === null) continue;
    if (e.isFile && /\.zip$/i.test(e.name)) zips.push(await new Promise<File>((resolve, reject) => (e as FileSystemFileEntry).file(resolve, reject)));
    else await walk(e, '', files);
  }
  const out = files.length ? fromEntries(files, 'dropped files') : [];
  if (zips.length) out.push(...(await sessionsFromPicked(zips)));
  return out;
}
