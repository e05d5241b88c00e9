// A corpus replay: many recorded sessions, each replayed offline on one engine worker of its
// own (BLAS pinned as recorded, as the live engine pins it, so each verdict is the one a lone
// `replay SESSION` gives), `jobs` workers at once so every core works. A worker is reused for
// the next session when the model and pinning are the same (a model load costs more than a
// tiny session). A session that cannot be replayed (damaged, refused, engine failure) is
// one result among the others: the rest go on.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineHost, type BlasPinning } from '../../src/engine/host.ts';
import type { ModelSpec } from '../../src/engine/model-spec.ts';
import type { EnginePort } from '../../src/server/engine-port.ts';
import { satisfies } from '../compare.ts';
import { PIPELINE_WINDOW } from './pipelined.ts';
import { ReplayError, replaySession, type ReplayEngineSource, type ReplayOptions, type ReplayReport } from '../replayer.ts';

export type Expectation = 'bit-exact' | 'token-exact';

/** What one session of the corpus came to. */
export interface CorpusEntry {
  readonly session: string;
  /** Which worker slot replayed it (0-based), and that worker's process id. */
  readonly worker: number;
  readonly pid: number | null;
  /** The verdict asked for: --expect, else what the session's platform fingerprints allow. */
  readonly expect: Expectation | null;
  readonly ok: boolean;
  /** The replay's report, or null when the session could not be replayed. */
  readonly report: ReplayReport | null;
  /** Why it could not be replayed (stable code + message), or null. */
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly wallMs: number;
}

/** Corpus progress, for the dashboard and the plain progress lines. */
export interface CorpusProgress {
  readonly kind: 'replay-corpus';
  readonly sessions: number;
  readonly done: number;
  /** Sessions being replayed now, by worker slot (null: idle). */
  readonly running: readonly (string | null)[];
  /** Steps done in each running session, by slot, and their whole steps. */
  readonly steps: readonly { readonly done: number; readonly total: number }[];
  /** Finished sessions by verdict (bit-exact, token-exact, diverged, or an error code). */
  readonly counts: Readonly<Record<string, number>>;
  readonly failed: number;
  readonly wallMs: number;
  /** Replayed audio of finished sessions / wall time so far. */
  readonly speed: number;
  readonly finished: boolean;
}

export interface CorpusSummary {
  readonly entries: readonly CorpusEntry[];
  readonly counts: Readonly<Record<string, number>>;
  readonly jobs: number;
  readonly wallMs: number;
  /** Audio replayed (steps × 80 ms) over all sessions. */
  readonly audioMs: number;
  readonly speed: number;
  /** True when every session met its expectation. */
  readonly ok: boolean;
}

export interface CorpusOptions extends Omit<ReplayOptions, 'engine' | 'engines' | 'onProgress' | 'out' | 'from'> {
  /** Engine workers at once (default: one per core). */
  readonly jobs: number;
  readonly expect?: Expectation;
  /** Each session as it finishes (in finishing order). */
  readonly onResult?: (e: CorpusEntry) => void;
  readonly onProgress?: (p: CorpusProgress) => void;
}

/** A session is a folder holding manifest.json, a folder named *.session, or a .zip. */
async function isSession(path: string): Promise<boolean> {
  const s = await stat(path).catch(() => null);
  if (!s) return false;
  if (s.isFile()) return path.endsWith('.zip');
  if (path.replace(/\/+$/, '').endsWith('.session')) return true;
  return (await stat(join(path, 'manifest.json')).catch(() => null))?.isFile() === true;
}

/**
 * The sessions the arguments name: a folder of sessions as its sessions (sorted by name),
 * anything else as itself, so that an argument that is no session (missing, empty, damaged)
 * is replayed like any other and reported with the session reader's own error.
 */
export async function corpusSessions(args: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const raw of args) {
    const a = raw.replace(/(.)\/+$/, '$1');
    const found: string[] = [];
    if (!(await isSession(a)) && (await stat(a).catch(() => null))?.isDirectory()) {
      for (const n of (await readdir(a)).sort()) if (await isSession(join(a, n))) found.push(join(a, n));
    }
    out.push(...(found.length > 0 ? found : [a]));
  }
  return out;
}

/** One worker slot: keeps its engine process between sessions while model and pinning stay the same. */
class WorkerSlot implements ReplayEngineSource {
  private host: EngineHost | null = null;
  private key = '';
  readonly index: number;
  constructor(index: number) {
    this.index = index;
  }

  get pid(): number | null {
    return this.host?.pid ?? null;
  }

  async engineFor(spec: ModelSpec, blas: BlasPinning): Promise<EnginePort> {
    const key = JSON.stringify([spec, blas]);
    if (this.host && this.key === key && this.host.state === 'ok') return this.host;
    await this.close();
    const host = new EngineHost({ spec, blas });
    const info = await host.start().catch(async (e: Error) => {
      await host.close();
      throw new ReplayError('REPLAY_ERR_ENGINE', `engine did not start: ${e.message}`);
    });
    if (!info) {
      const why = host.reason ?? host.state;
      await host.close();
      throw new ReplayError('REPLAY_ERR_ENGINE', `engine did not start: ${why}`);
    }
    this.host = host;
    this.key = key;
    return host;
  }

  async close(): Promise<void> {
    const h = this.host;
    this.host = null;
    await h?.close();
  }
}

/** The verdict a finished entry is counted under. */
export function entryVerdict(e: CorpusEntry): string {
  return e.report ? e.report.comparison.kind : e.error!.code;
}

export async function replayCorpus(sessions: readonly string[], o: CorpusOptions): Promise<CorpusSummary> {
  if (!(Number.isInteger(o.jobs) && o.jobs >= 1)) throw new RangeError(`jobs must be a positive integer, got ${o.jobs}`);
  const jobs = Math.min(o.jobs, Math.max(1, sessions.length));
  const slots = Array.from({ length: jobs }, (_, i) => new WorkerSlot(i));
  const entries: CorpusEntry[] = [];
  const counts: Record<string, number> = {};
  const running: (string | null)[] = slots.map(() => null);
  const steps = slots.map(() => ({ done: 0, total: 0 }));
  let next = 0;
  let audioMs = 0;
  const t0 = performance.now();
  const progress = (finished: boolean) => {
    if (!o.onProgress) return;
    const wallMs = performance.now() - t0;
    o.onProgress({
      kind: 'replay-corpus', sessions: sessions.length, done: entries.length, running: [...running], steps: steps.map((s) => ({ ...s })),
      counts: { ...counts }, failed: entries.filter((e) => !e.ok).length, wallMs, speed: audioMs / Math.max(1e-9, wallMs), finished,
    });
  };
  const one = async (slot: WorkerSlot, session: string): Promise<CorpusEntry> => {
    const started = performance.now();
    try {
      const report = await replaySession(session, {
        // Steps sent ahead: the worker never idles waiting for this (shared) process.
        window: PIPELINE_WINDOW, ...o, engines: slot,
        onProgress: (p) => {
          steps[slot.index] = { done: p.stepsDone, total: p.stepsTotal };
          progress(false);
        },
      });
      const expect = o.expect ?? report.expected;
      return { session, worker: slot.index, pid: slot.pid, expect, ok: satisfies(report.comparison.kind, expect), report, error: null, wallMs: performance.now() - started };
    } catch (err) {
      const e = err as Error & { code?: string };
      return { session, worker: slot.index, pid: slot.pid, expect: o.expect ?? null, ok: false, report: null, error: { code: e.code ?? 'REPLAY_ERR_ENGINE', message: e.message }, wallMs: performance.now() - started };
    }
  };
  const work = async (slot: WorkerSlot) => {
    while (next < sessions.length) {
      const session = sessions[next++]!;
      running[slot.index] = session;
      steps[slot.index] = { done: 0, total: 0 };
      progress(false);
      const e = await one(slot, session);
      running[slot.index] = null;
      entries.push(e);
      const v = entryVerdict(e);
      counts[v] = (counts[v] ?? 0) + 1;
      audioMs += (e.report?.stepsReplayed ?? 0) * 80;
      o.onResult?.(e);
      progress(false);
    }
  };
  try {
    await Promise.all(slots.map((s) => work(s)));
  } finally {
    await Promise.all(slots.map((s) => s.close()));
  }
  const wallMs = performance.now() - t0;
  progress(true);
  return { entries, counts, jobs, wallMs, audioMs, speed: audioMs / Math.max(1e-9, wallMs), ok: entries.every((e) => e.ok) };
}
