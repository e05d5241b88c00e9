// Ctrl-C during a streaming command (record, client): the first SIGINT/SIGTERM ends the input
// there and lets the session finish normally (the server answers what it holds and closes, so
// a recording is finalized and a reply written); a second one quits at once.
export interface Interrupt {
  /** Aborted on the first signal: pass to SolaceClient.run / recordFrames. */
  readonly signal: AbortSignal;
  /** Removes the handlers (the process's default Ctrl-C again). */
  dispose(): void;
}

/** Exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it. */
export const INTERRUPTED_EXIT = 130;

export function interruptible(log: (message: string) => void): Interrupt {
  const ac = new AbortController();
  const onSignal = () => {
    if (ac.signal.aborted) process.exit(INTERRUPTED_EXIT);
    log('stopping: the input ends here and the session finishes normally (again to quit at once)');
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
