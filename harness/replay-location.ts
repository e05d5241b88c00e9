// Where a session's replay results are saved. Beside the session (SESSION/replays/) as a
// rule; but a session inside the installed package or the checkout (a committed fixture) must
// not change the repository, so its results go to the per-user state folder instead, under a
// name keyed by the session's real path. Readers look in both (replayResultDirs).
import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPLAYS_DIR = 'replays';

/** The package (or checkout) this code runs from. */
const PACKAGE_ROOT = resolve(fileURLToPath(new URL('../', import.meta.url)));

/** Per-user state: $SOLACELIVE_STATE, else $XDG_STATE_HOME/solacelive, else ~/.local/state/solacelive. */
export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SOLACELIVE_STATE) return env.SOLACELIVE_STATE;
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'solacelive');
}

async function real(path: string): Promise<string> {
  return realpath(path).catch(() => resolve(path));
}

/** True when `sessionPath` lies inside the package this code runs from. */
export async function isInPackage(sessionPath: string): Promise<boolean> {
  const [s, root] = await Promise.all([real(sessionPath), real(PACKAGE_ROOT)]);
  return s === root || s.startsWith(root + sep);
}

/** The state folder for a session's results: `<state>/replays/<name>-<sha256(real path), 16 hex>`. */
export async function stateReplaysDir(sessionPath: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const s = await real(sessionPath);
  const key = createHash('sha256').update(s).digest('hex').slice(0, 16);
  return join(stateRoot(env), REPLAYS_DIR, `${basename(s)}-${key}`);
}

/** Where a new result of this session is written. */
export async function replayResultsDir(sessionPath: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return (await isInPackage(sessionPath)) ? stateReplaysDir(sessionPath, env) : join(sessionPath, REPLAYS_DIR);
}

/** Every folder that may hold results of this session: beside it, then the state folder. */
export async function replayResultDirs(sessionPath: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  return [join(sessionPath, REPLAYS_DIR), await stateReplaysDir(sessionPath, env)];
}
