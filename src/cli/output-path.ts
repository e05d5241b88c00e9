// Checking where a command will write a file before it does the work that produces it (a
// whole streamed session, a trace), so a mistyped folder fails at once with what is wrong
// instead of a raw ENOENT at the end.
import { constants, accessSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CliError } from './args.ts';

/** Throws CLI_ERR_OUTPUT unless `path` can be written as a file: its folder exists and is writable, and it is not a folder. */
export function checkOutputFile(path: string, option = '--out'): void {
  const full = resolve(path);
  const info = statOrNull(full);
  if (info?.isDirectory()) throw new CliError('CLI_ERR_OUTPUT', `${option} ${path} is a folder; give a file name`);
  const dir = dirname(full);
  const d = statOrNull(dir);
  if (!d) throw new CliError('CLI_ERR_OUTPUT', `${option} ${path}: the folder ${dir} does not exist`);
  if (!d.isDirectory()) throw new CliError('CLI_ERR_OUTPUT', `${option} ${path}: ${dir} is a file, not a folder`);
  try {
    accessSync(info ? full : dir, constants.W_OK);
  } catch (err) {
    throw new CliError('CLI_ERR_OUTPUT', `${option} ${path}: ${info ? 'the file' : `the folder ${dir}`} is not writable (${(err as NodeJS.ErrnoException).code})`, { cause: err });
  }
}

function statOrNull(p: string) {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}
