// TEST-ONLY preload for a `solacelive serve` child process, given as
// NODE_OPTIONS="--import <this file's URL>?ms=N": the engine workers it forks inherit it, and in
// each (a process with an IPC channel) it sets the load request's testStepBurnMs, the engine's
// own test hook (EngineHostOptions.testStepBurnMs), so every step burns N ms of CPU more and a
// flag-less `serve` has a known per-step cost on any machine. In the serve process itself (no
// IPC channel) it does nothing. Never imported by production code.
const ms = Number(new URL(import.meta.url).searchParams.get('ms'));
if (!(ms > 0)) throw new RangeError(`step-burn.ts: ?ms= must be a positive number, got ${ms}`);
if (process.send) {
  // Ahead of the worker's own listener, which then reads the same request object.
  process.prependListener('message', (message: unknown) => {
    const req = message as { kind?: string; testStepBurnMs?: number } | null;
    if (req && req.kind === 'load') req.testStepBurnMs = ms;
  });
}
