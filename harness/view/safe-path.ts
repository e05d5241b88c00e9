// Turning a request path into a file inside one folder, or refusing. Every check the view
// server relies on is here, so the security tests have one thing to break:
//   - the raw path is percent-decoded exactly once, and a `%` left after that (double
//     encoding such as %252e%252e), a backslash, a NUL or any `.`/`..` segment refuses;
//   - names are matched against a strict pattern (no leading dot, no separators);
//   - the result is realpath'd and must still be inside the root's realpath, which is what
//     stops symlinks that leave the folder;
//   - a file is opened (openInside) without following a final symlink and without blocking
//     on a FIFO, and must be a regular file that is the very inode the checks looked at, so
//     swapping a link in between check and open gains nothing.
import { constants } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { sep } from 'node:path';
import { CodedError } from '../../src/errors.ts';

/** Why a path was refused: the server maps `missing` to 404 and the others to 400/403. */
export type RefusalReason = 'malformed' | 'missing' | 'outside' | 'not-regular' | 'changed' | 'too-large';

export class PathRefused extends CodedError<'VIEW_ERR_PATH'> {
  readonly reason: RefusalReason;
  override readonly name = 'PathRefused';
  constructor(message: string, reason: RefusalReason = 'malformed') {
    super('VIEW_ERR_PATH', message);
    this.reason = reason;
  }
}

/** A session folder or file name we serve: letters, digits, `._-`, no leading dot. */
export const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/;

/** Splits a URL path (after its prefix) into decoded segments, refusing anything suspicious. */
export function decodeSegments(rawPath: string): string[] {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    throw new PathRefused('malformed percent-encoding');
  }
  if (/[%\\\0]/.test(decoded)) throw new PathRefused('encoded or forbidden characters in the path');
  const segs = decoded.split('/').filter((s) => s !== '');
  for (const s of segs) if (s === '.' || s === '..') throw new PathRefused('dot segments are not allowed');
  return segs;
}

/** True when `real` is `realRoot` or lies under it (both real paths). */
export function isInside(realRoot: string, real: string): boolean {
  return real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);
}

/** The real path of `root/segs…`, which must exist and lie inside root (after symlinks); else PathRefused. */
export async function resolveInside(root: string, segs: readonly string[]): Promise<string> {
  const realRoot = await realpath(root);
  let real: string;
  try {
    real = await realpath([realRoot, ...segs].join(sep));
  } catch {
    throw new PathRefused('no such file', 'missing');
  }
  if (!isInside(realRoot, real)) throw new PathRefused('the path leaves the served folder', 'outside');
  return real;
}

export interface OpenedFile {
  /** The real path that was checked and opened. */
  readonly path: string;
  readonly handle: FileHandle;
  readonly size: number;
  readonly mtime: Date;
}

// O_NONBLOCK: opening a FIFO swapped in after the check must not hang the request (it is then
// refused by the fstat below); for regular files the flag changes nothing.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Opens the regular file `path` (a real path already checked to be inside the folder) only if
 * it is still the inode `expected` describes; closes and refuses otherwise.
 */
export async function openChecked(path: string, expected: { readonly dev: number; readonly ino: number }): Promise<OpenedFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw code === 'ENOENT' ? new PathRefused('no such file', 'missing') : new PathRefused('the file changed while it was opened', 'changed');
  }
  const info = await handle.stat().catch(() => null);
  if (info === null || !info.isFile() || info.dev !== expected.dev || info.ino !== expected.ino) {
    await handle.close();
    throw new PathRefused(info !== null && !info.isFile() ? 'not a regular file' : 'the file changed while it was opened', info !== null && !info.isFile() ? 'not-regular' : 'changed');
  }
  return { path, handle, size: info.size, mtime: info.mtime };
}

/** Opens `root/segs…` for reading: inside root after symlinks, a regular file, the one checked. */
export async function openInside(root: string, segs: readonly string[]): Promise<OpenedFile> {
  const real = await resolveInside(root, segs);
  const info = await stat(real).catch(() => null);
  if (info === null) throw new PathRefused('no such file', 'missing');
  if (!info.isFile()) throw new PathRefused('not a regular file', 'not-regular');
  return openChecked(real, info);
}

/**
 * Reads at most `maxBytes` of a file opened by openInside (and closes it); a larger file is
 * refused rather than cut, since a cut JSON or text file would only mislead.
 */
export async function readOpened(f: OpenedFile, maxBytes: number): Promise<Uint8Array> {
  try {
    if (f.size > maxBytes) throw new PathRefused(`larger than ${maxBytes} bytes`, 'too-large');
    // One byte more than allowed: a file that grew since fstat is caught too.
    const buf = new Uint8Array(Math.min(f.size, maxBytes) + 1);
    let fill = 0;
    for (;;) {
      const { bytesRead } = await f.handle.read(buf, fill, buf.length - fill, fill);
      if (bytesRead === 0) break;
      fill += bytesRead;
      if (fill > maxBytes) throw new PathRefused(`larger than ${maxBytes} bytes`, 'too-large');
      if (fill === buf.length) break;
    }
    return buf.subarray(0, fill);
  } finally {
    await f.handle.close();
  }
}

/** Content-free description of a JSON file that does not parse (a parser's message quotes the bytes). */
export class NotJson extends CodedError<'VIEW_ERR_NOT_JSON'> {
  override readonly name = 'NotJson';
  constructor(message: string) {
    super('VIEW_ERR_NOT_JSON', message);
  }
}

/** `root/segs…` parsed as JSON, read under every check above and at most `maxBytes`. */
export async function readJsonInside(root: string, segs: readonly string[], maxBytes: number): Promise<unknown> {
  const bytes = await readOpened(await openInside(root, segs), maxBytes);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch {
    throw new NotJson(`${segs[segs.length - 1] ?? 'file'} is not valid JSON`);
  }
}
