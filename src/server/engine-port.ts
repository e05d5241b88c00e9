// What the server needs from the engine (src/engine), as an interface only: the server is
// written and tested against this shape, and the engine host implements it. Keeping the
// server on an interface also keeps it free of the engine's process management.
import type { EngineInfo, EngineState, SessionOptions, StepInput, StepOutput } from '../engine/types.ts';
import type { WorkerFigures } from '../engine/host.ts';

export interface EnginePort {
  /** 'ok' is the only state in which sessions can open and step. */
  readonly state: EngineState;
  /** Why the engine is degraded or restarting (shown on /health and to clients). */
  readonly reason: string | null;
  /** The loaded model, once started; null while starting or degraded. */
  readonly info: EngineInfo | null;
  /** Times the engine process has been restarted after dying (for /health). */
  readonly restartCount?: number;
  /** The engine process id, while one runs (for /health; tests kill it to test recovery). */
  readonly pid?: number | null;
  /** Each engine worker process (one, or the pool's N): state, sessions, steps, step p99, CPU (for /health and the dashboard). */
  readonly workers?: readonly WorkerFigures[];

  /** Starts the engine; resolves with the model info, or null when it comes up degraded. */
  start(): Promise<EngineInfo | null>;
  openSession(session: string, options: SessionOptions): Promise<void>;
  /** One 80 ms step; steps of one session are issued strictly one after another. */
  step(input: StepInput): Promise<StepOutput>;
  closeSession(session: string): Promise<void>;
  close(): Promise<void>;

  /** State changes (e.g. ok → restarting after a crash → ok). */
  on(event: 'state', listener: (state: EngineState, reason: string | null) => void): unknown;
  /** Sessions whose model state died with the engine process: they cannot continue. */
  on(event: 'sessions-lost', listener: (sessions: readonly string[], reason: string) => void): unknown;
  off(event: 'state', listener: (state: EngineState, reason: string | null) => void): unknown;
  off(event: 'sessions-lost', listener: (sessions: readonly string[], reason: string) => void): unknown;
}
