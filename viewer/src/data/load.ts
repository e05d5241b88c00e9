// Loading a session for the page, in the order a person needs it: manifest and steps first
// (the timeline, tokens and summary need only those: a 7,500-step session is ~4 MB of
// steps.jsonl), then in the background the packet table (packets.bin can be hundreds of MB)
// and per-frame audio peaks for the waveforms. Damage is reported, not hidden: recoveries
// and the error that stopped a file are kept beside what was read before it.
import { openSessionFiles, type SessionFiles, type SessionReader } from '../../../harness/format/reader.ts';
import type { SessionManifest } from '../../../harness/format/manifest.ts';
import type { SessionRecovery } from '../../../harness/format/errors.ts';
import type { ReadStep } from '../../../harness/format/steps.ts';
import { FRAME_SAMPLES } from '../../../harness/format/layout.ts';
import { inputFramingOf, packetRowReader, wireOf, type PacketRow } from '../../../harness/view/packets.ts';
import { sessionStats, type SessionStats } from '../../../harness/view/stats.ts';
import type { LatestResults } from '../../../harness/view/results.ts';

export interface LoadProblem {
  readonly file: string;
  readonly code: string;
  readonly message: string;
}

export interface LoadedSession {
  readonly name: string;
  readonly reader: SessionReader;
  readonly manifest: SessionManifest;
  readonly steps: readonly ReadStep[];
  readonly stats: SessionStats;
  /** What the reader got past (torn tails, skipped corrupt records…). */
  readonly recoveries: readonly SessionRecovery[];
  /** A file that stopped being read part-way (steps before it are kept). */
  readonly stepsError: LoadProblem | null;
  /** The newest saved replay and diff (each null when none). */
  readonly results: LatestResults;
  /** ms from the start of loading until steps were in (until this part was, for a partial one). */
  readonly loadMs: number;
  /** False while steps.jsonl is still being read (the first `partialAt` steps are here). */
  readonly complete: boolean;
}

/** Steps after which a long session is shown while the rest is read: the first view's worth (60 s). */
export const PARTIAL_AT = 750;

function problem(err: unknown, file: string): LoadProblem {
  const e = err as { code?: unknown; file?: unknown; message?: unknown };
  return { file: typeof e.file === 'string' ? e.file : file, code: typeof e.code === 'string' ? e.code : 'ERROR', message: String(e.message ?? err) };
}

/**
 * Opens the session and reads every step. Salvage mode: a damaged line costs that line only.
 * A long session is handed to `onPartial` once its first PARTIAL_AT steps are in, so the page
 * can draw the first minute while the rest is parsed.
 */
export async function loadSession(name: string, files: SessionFiles, results: () => Promise<LatestResults>, onPartial?: (s: LoadedSession) => void): Promise<LoadedSession> {
  const t0 = performance.now();
  const none: LatestResults = { replay: null, diff: null };
  const saved = results().catch(() => none); // in parallel with the steps
  const reader = await openSessionFiles(files, { allowMissing: true, salvage: true });
  performance.mark('manifest-read');
  const steps: ReadStep[] = [];
  let stepsError: LoadProblem | null = null;
  const resultsSoFar = () => Promise.race([saved, Promise.resolve(none)]);
  try {
    for await (const s of reader.steps()) {
      steps.push(s);
      if (steps.length === PARTIAL_AT && onPartial) {
        performance.mark('steps-partial');
        const part = steps.slice();
        onPartial({
          name, reader, manifest: reader.manifest, steps: part, stats: sessionStats(part), recoveries: reader.recoveries, stepsError: null,
          results: await resultsSoFar(), loadMs: performance.now() - t0, complete: false,
        });
        // Let the page render and paint a frame before parsing on.
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      }
    }
  } catch (err) {
    stepsError = problem(err, 'steps.jsonl');
  }
  const loadMs = performance.now() - t0;
  performance.mark('steps-read');
  return {
    name, reader, manifest: reader.manifest, steps, stats: sessionStats(steps), recoveries: reader.recoveries, stepsError,
    results: await saved, loadMs, complete: true,
  };
}

/** Reads packets.bin into table rows (decoded for the session's wire protocol), reporting progress every `every` rows. */
export async function loadPackets(reader: SessionReader, onProgress: (rows: readonly PacketRow[]) => void, every = 2000): Promise<{ rows: PacketRow[]; error: LoadProblem | null }> {
  const rows: PacketRow[] = [];
  const row = packetRowReader(wireOf(reader.manifest), inputFramingOf(reader.manifest));
  try {
    for await (const p of reader.packets()) {
      rows.push(row(rows.length, p.direction, p.timeMs, p.bytes));
      if (rows.length % every === 0) onProgress(rows);
    }
  } catch (err) {
    return { rows, error: problem(err, 'packets.bin') };
  }
  return { rows, error: null };
}

/** Per-frame min/max of a session WAV (2 values per 80 ms frame): enough for any zoom above one frame per pixel. */
export interface Peaks {
  readonly min: Float32Array;
  readonly max: Float32Array;
  readonly frames: number;
}

export async function loadPeaks(reader: SessionReader, which: 'input' | 'output'): Promise<Peaks> {
  const track = await reader.wav(which);
  const min = new Float32Array(track.frameCount), max = new Float32Array(track.frameCount);
  let i = 0;
  for await (const f of track.frames()) {
    let lo = Infinity, hi = -Infinity;
    for (let k = 0; k < FRAME_SAMPLES; k++) {
      const v = f[k]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    min[i] = lo;
    max[i] = hi;
    i++;
  }
  return { min, max, frames: i };
}
