// `solacelive serve` with session recording: src/cli/serve.ts's command given the
// harness's recorder (src never imports harness; bin/solacelive.mjs composes the two).
import { makeServeCommand } from '../../src/cli/serve.ts';
import { Recorder } from '../recorder.ts';

export const command = makeServeCommand(({ dir, mode, engineInfo, log }) => new Recorder({
  dir,
  mode,
  engineInfo,
  onFailure: (id, path, e) => log(`recording of session ${id} stopped (${e.code}: ${e.message}); the session goes on. Kept: ${path}`),
  onClosed: (_id, path, r) => log(`session recorded: ${path} (${r.status}, ${r.counts.steps} steps)`),
}));
