// Messages between the engine host (server process) and the engine worker (child
// process). Node's 'advanced' IPC serialization carries typed arrays as such.
import type { EngineInfo, SessionOptions, StepInput, StepOutput } from './types.ts';
import type { ModelSpec } from './model-spec.ts';
import type { StageInput, StageOutput } from './stages.ts';

export type Request =
  | { readonly id: number; readonly kind: 'load'; readonly spec: ModelSpec; readonly testStepBurnMs?: number }
  | { readonly id: number; readonly kind: 'open'; readonly session: string; readonly options: SessionOptions; readonly split?: boolean }
  | { readonly id: number; readonly kind: 'step'; readonly input: StepInput }
  | { readonly id: number; readonly kind: 'stage'; readonly input: StageInput }
  | { readonly id: number; readonly kind: 'close'; readonly session: string }
  | { readonly id: number; readonly kind: 'stats' };

export interface WorkerStats {
  readonly rssBytes: number;
  readonly sessions: number;
  readonly steps: number;
  /** process.cpuUsage() of the worker, user + system, in µs: CPU the worker has used since it started. */
  readonly cpuUs: number;
  /** The worker's own clock (performance.now()) when cpuUs was read: the CPU rate's interval, free of the host's event-loop lag. */
  readonly atMs: number;
}

export type Reply =
  | { readonly id: number; readonly ok: true; readonly kind: 'load'; readonly info: EngineInfo }
  | { readonly id: number; readonly ok: true; readonly kind: 'open' | 'close' }
  | { readonly id: number; readonly ok: true; readonly kind: 'step'; readonly output: StepOutput; readonly workerMs: number }
  | { readonly id: number; readonly ok: true; readonly kind: 'stats'; readonly stats: WorkerStats }
  | { readonly id: number; readonly ok: true; readonly kind: 'stage'; readonly output: StageOutput }
  | { readonly id: number; readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

/** Sent once by the worker when its IPC channel is ready, before any request. */
export interface Hello {
  readonly kind: 'hello';
  readonly pid: number;
}
