// `solacelive serve` with session recording and --dashboard: src/cli/serve.ts's command given
// the harness's recorder and live view (src never imports harness; bin/solacelive.mjs composes the two).
import { accessSync, constants, mkdirSync } from 'node:fs';
import { makeServeCommand } from '../../src/cli/serve.ts';
import type { SolaceServer } from '../../src/server/server.ts';
import { useProductionReact } from '../dashboard/react-mode.ts';
import { diskError } from '../format/writer.ts';
import { Recorder } from '../recorder.ts';

export const command = makeServeCommand(({ dir, mode, engineInfo, log }) => {
  writableFolder(dir);
  return new Recorder({
    dir,
    mode,
    engineInfo,
    onFailure: (id, path, e) => log(`recording of session ${id} stopped (${e.code}: ${e.message}); the session goes on. Kept: ${path}`),
    onClosed: (_id, path, r) => log(`session recorded: ${path} (${r.status}, ${r.counts.steps} steps)`),
  });
}, dashboard);

/** The --record folder, made and checked before the server listens: otherwise every session would fail to record, each found out alone. */
function writableFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw diskError(err, `use ${dir} as the recording folder`);
  }
}

/** The live view on this process's server (its feed, no HTTP in between); Ink loads only when asked for. */
async function dashboard(server: SolaceServer, url: string): Promise<void> {
  useProductionReact();
  const [{ runLive }, { feedSource }] = await Promise.all([import('../dashboard/live.ts'), import('../dashboard/source.ts')]);
  await runLive({ source: feedSource(server.telemetry, 5, url) });
}
