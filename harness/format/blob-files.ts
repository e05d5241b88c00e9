// The browser side of SessionFiles: a session dropped on a page as a folder (File objects
// with webkitRelativePath, or [path, Blob] pairs from a directory handle) or as a .zip.
// Only Blob APIs, which Node has too, so the same code is tested under vitest.
import { chunksOf } from './bytes.ts';
import { MANIFEST_FILE, SESSION_FILES } from './layout.ts';
import type { SessionFiles } from './reader.ts';
import { ZipArchive } from './zip.ts';
import type { ZipEntry } from './zip.ts';

/** SessionFiles over Blobs (or Files) by file name. */
export function blobSessionFiles(files: Readonly<Record<string, Blob>> | Iterable<readonly [string, Blob]>, label = 'session'): SessionFiles {
  const map = new Map<string, Blob>(Symbol.iterator in files ? (files as Iterable<readonly [string, Blob]>) : Object.entries(files));
  return {
    label,
    size: async (name) => map.get(name)?.size,
    read: async (name, start, end) => {
      const blob = map.get(name);
      return blob === undefined ? new Uint8Array(0) : new Uint8Array(await blob.slice(start, end).arrayBuffer());
    },
    stream: (name, start = 0) => chunksOf((map.get(name) ?? new Blob([])).slice(start).stream()),
  };
}

function splitPath(path: string): { dir: string; base: string } | null {
  const clean = path.replace(/\\/g, '/').replace(/^(\.\/|\/)+/, '');
  // macOS archives carry AppleDouble twins (__MACOSX/…/._manifest.json): never session files.
  if (clean.startsWith('__MACOSX/')) return null;
  const cut = clean.lastIndexOf('/');
  return { dir: cut < 0 ? '' : clean.slice(0, cut), base: clean.slice(cut + 1) };
}

/** Session files grouped by the folder holding them ('' for the top level). */
function group<T>(entries: Iterable<readonly [string, T]>): Map<string, Map<string, T>> {
  const out = new Map<string, Map<string, T>>();
  for (const [path, item] of entries) {
    const p = splitPath(path);
    if (p === null || !(SESSION_FILES as readonly string[]).includes(p.base)) continue;
    let files = out.get(p.dir);
    if (files === undefined) out.set(p.dir, (files = new Map()));
    files.set(p.base, item);
  }
  // Folders with a manifest first, so a caller taking the first one gets a real session.
  return new Map([...out].sort(([, a], [, b]) => Number(b.has(MANIFEST_FILE)) - Number(a.has(MANIFEST_FILE))));
}

/** Sessions among [path, Blob] pairs, keyed by folder path ('' when the files sit at the top). */
export function sessionsFromEntries(entries: Iterable<readonly [string, Blob]>, label = 'dropped files'): Map<string, SessionFiles> {
  const out = new Map<string, SessionFiles>();
  for (const [dir, files] of group(entries)) out.set(dir, blobSessionFiles(files, dir === '' ? label : dir));
  return out;
}

/** Sessions among dropped or picked Files (a folder drop gives each its webkitRelativePath). */
export function sessionsFromFiles(files: Iterable<Blob & { readonly name: string; readonly webkitRelativePath?: string }>): Map<string, SessionFiles> {
  return sessionsFromEntries([...files].map((f) => [f.webkitRelativePath || f.name, f] as const));
}

/** Sessions inside a zip archive, keyed by folder path inside it. */
export async function sessionsFromZip(zip: Blob, label = 'archive.zip'): Promise<Map<string, SessionFiles>> {
  const archive = await ZipArchive.open(zip, label);
  const out = new Map<string, SessionFiles>();
  for (const [dir, files] of group(archive.entries.map((e) => [e.name, e] as const))) {
    out.set(dir, zipSessionFiles(archive, files, dir === '' ? label : `${label}:${dir}`));
  }
  return out;
}

function zipSessionFiles(archive: ZipArchive, files: ReadonlyMap<string, ZipEntry>, label: string): SessionFiles {
  return {
    label,
    size: async (name) => files.get(name)?.size,
    read: async (name, start, end) => {
      const e = files.get(name);
      return e === undefined ? new Uint8Array(0) : archive.read(e, start, end);
    },
    stream: (name, start = 0) => {
      const e = files.get(name);
      return e === undefined ? chunksOf([]) : archive.stream(e, start);
    },
  };
}
