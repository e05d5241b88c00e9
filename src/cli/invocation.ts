// How to run `solacelive` from where the user is, for the commands the CLI prints (the
// demo's "look" lines, record's "replay …" line, error hints): `solacelive` when that name
// on PATH is this checkout's bin (scripts/setup.sh links it), else `node <path to the bin>`,
// so a printed command runs as printed whether or not set-up linked it.
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN_PATH = fileURLToPath(new URL('../../bin/solacelive.mjs', import.meta.url));

function realpathOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

/** The first executable `name` on PATH (as a shell would find it), or null. */
function onPath(name: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here: the shell looks further
    }
  }
  return null;
}

/** Whether `solacelive` typed in a shell with this PATH runs this checkout's bin. */
export function linkedOnPath(path = process.env.PATH ?? ''): boolean {
  const found = onPath('solacelive', path);
  return found !== null && realpathOrNull(found) === realpathOrNull(BIN_PATH);
}

/** Single-quotes a shell word when it needs it (spaces, quotes, $…); plain paths stay as they are. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command prefix that runs this CLI from `cwd`: `solacelive`, or `node bin/solacelive.mjs` (relative when under cwd). */
export function selfCommand(o: { path?: string; cwd?: string } = {}): string {
  if (linkedOnPath(o.path)) return 'solacelive';
  const cwd = o.cwd ?? process.cwd();
  // Under `npm run`, cwd is the package root but the user's shell may be elsewhere (INIT_CWD):
  // a path relative to cwd would not run there, an absolute one runs anywhere.
  const userCwd = o.cwd ?? process.env.INIT_CWD ?? cwd;
  const rel = relative(cwd, BIN_PATH);
  const bin = userCwd === cwd && rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : BIN_PATH;
  return `node ${shellWord(bin)}`;
}

/** A full command line the user can paste: the prefix plus the arguments, quoted where needed. */
export function commandLine(args: readonly string[], o: { path?: string; cwd?: string } = {}): string {
  return [selfCommand(o), ...args.map(shellWord)].join(' ');
}
