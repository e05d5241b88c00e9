// Turning a request path into a file inside one folder, or refusing. Every check the view
// server relies on is here, so the security tests have one thing to break:
//   - the raw path is percent-decoded exactly once, and a `%` left after that (double
//     encoding such as %252e%252e), a backslash, a NUL or any `.`/`..` segment refuses;
//   - names are matched against a strict pattern (no leading dot, no separators);
//   - the result is realpath'd and must still be inside the root's realpath, which is what
//     stops symlinks that leave the folder.
import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';

export class PathRefused extends Error {
  readonly code = 'VIEW_ERR_PATH';
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

/** The real path of `root/segs…`, which must exist and lie inside root (after symlinks); else PathRefused. */
export async function resolveInside(root: string, segs: readonly string[]): Promise<string> {
  const realRoot = await realpath(root);
  let real: string;
  try {
    real = await realpath([realRoot, ...segs].join(sep));
  } catch {
    throw new PathRefused('no such file');
  }
  if (real !== realRoot && !real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) {
    throw new PathRefused('the path leaves the served folder');
  }
  return real;
}
