// The session recorder: a SessionHooks implementation that taps the server's traffic and
// each finished step (one record, complete: a steps.jsonl line plus its PCM both ways) into
// a ThreadedSessionWriter (harness/format). It never blocks a step: the server's loop only
// encodes the records; a writer thread hashes and writes them. A disk error stops this
// session's recording only (the writer goes to 'failed'); the session itself goes on.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stepRecordOf, type FinishedStep } from '../src/engine/step-record.ts';
import type { EngineInfo } from '../src/engine/types.ts';
import type { SessionControl, SessionHooks } from '../src/server/hooks.ts';
import type { ReadyMessage } from '../src/server/messages.ts';
import type { StepEvent } from '../src/telemetry/events.ts';
import { ThreadedSessionWriter, type CloseResult, type ManifestInit, type ManifestPlatform, type ManifestSoftware, type SessionError } from './format/node.ts';

export type RecordMode = 'all' | 'requested';

export interface RecorderOptions {
  /** Folder that receives one NAME.session/ folder per recorded session. */
  readonly dir: string;
  /** 'all': every session (serve --record); 'requested': only sessions whose start says record:true. */
  readonly mode: RecordMode;
  /** The engine whose info goes into the manifest (read at session open: it may restart). */
  readonly engineInfo: () => EngineInfo | null;
  /** Folder name for a session (default: time and session id). */
  readonly name?: (sessionId: string) => string;
  readonly fsyncIntervalMs?: number;
  /** Recording of a session stopped (disk full, unwritable): for logs and tests. */
  readonly onFailure?: (sessionId: string, path: string, error: SessionError) => void;
  /** A session's files are closed. */
  readonly onClosed?: (sessionId: string, path: string, result: CloseResult) => void;
  /** Extra manifest meta for every session (e.g. the server's command line). */
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** Time the recorder's code spends on the server's event loop (hooks, and its writers' own turns there): its cost per step. */
export interface RecorderOverhead {
  readonly calls: number;
  /** hooksMs + writerMs. */
  readonly totalMs: number;
  readonly hooksMs: number;
  /** The writers' turns on the loop: handing a turn's records to the writer thread, its replies. */
  readonly writerMs: number;
  readonly steps: number;
  /** totalMs / steps (0 before any step). */
  readonly perStepMs: number;
}

export interface RecordingStatus {
  readonly session: string;
  readonly path: string;
  readonly state: 'opening' | 'recording' | 'failed' | 'closed';
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly steps: number;
}

/** A recorded session: the writer (once created) and what waits for it. */
interface Rec {
  readonly session: string;
  readonly path: string;
  /** Capture-time origin: the connection's first byte (packets.bin time 0). */
  readonly t0: number;
  writer: ThreadedSessionWriter | null;
  /** Messages that came before the writer existed (handshake), replayed into it in order. */
  early: { dir: 0 | 1; bytes: Uint8Array; t: number }[] | null;
  /** Finished steps that came before the writer existed. */
  readonly steps: FinishedStep[];
  /** Events outside any step (protocol errors): attached to the next step written. */
  loose: StepEvent[];
  written: number;
  state: RecordingStatus['state'];
  error: SessionError | null;
  opened: Promise<void> | null;
  /** Tells the session's client when recording starts or stops. */
  control: SessionControl | null;
}

/** Package name/version and the git commit of the code running, once per process. */
export function softwareInfo(): ManifestSoftware {
  const root = new URL('../', import.meta.url);
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { name: string; version: string };
  let gitCommit: string | null = null;
  try {
    gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
  } catch {
    gitCommit = null; // not a checkout (installed package): the manifest says so
  }
  return { package: pkg.name, version: pkg.version, gitCommit };
}

/** The manifest's model and platform parts from the engine's EngineInfo. */
export function manifestFromEngine(info: EngineInfo, ready: Pick<ReadyMessage, 'seed' | 'sampling' | 'audioSeed'>, software: ManifestSoftware, meta: Record<string, unknown>): ManifestInit {
  return {
    model: { id: info.model, config: info.config as Record<string, unknown>, weights: info.weightsSha256 },
    seed: ready.seed,
    ...(ready.audioSeed === undefined ? {} : { audioSeed: ready.audioSeed }),
    sampling: ready.sampling,
    platform: info.fingerprint as ManifestPlatform,
    software,
    meta: { untrained: info.untrained, ...meta },
  };
}

/**
 * A recorded session's folder name: `<time>-<session id>.session`. The time makes a listing sort
 * by age; the whole id (a random UUID, not a prefix) makes names unique across servers that
 * record into one shared folder (scale-out behind a balancer).
 */
export function sessionFolderName(sessionId: string, at: Date = new Date()): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${sessionId}.session`;
}

export class Recorder implements SessionHooks {
  private readonly o: RecorderOptions;
  private readonly recs = new Map<string, Rec>();
  /** Recordings whose session ended and whose files are being closed. */
  private readonly closing = new Set<Rec>();
  private readonly done: RecordingStatus[] = [];
  /** Sessions seen and not recorded (did not ask, or no engine info): their later traffic is ignored. */
  private readonly skipped = new Set<string>();
  private software: ManifestSoftware | null = null;
  private hookMs = 0;
  private writerMs = 0;
  private hookCalls = 0;
  private stepsSeen = 0;

  constructor(options: RecorderOptions) {
    this.o = options;
    // The thread loads while the model does: a session's folder then exists within ms of its start.
    ThreadedSessionWriter.prestart();
  }

  /** Every recording of this server, open or finished (what /health would show). */
  status(): RecordingStatus[] {
    const open = [...this.closing, ...this.recs.values()].map((r) => this.statusOf(r));
    return [...this.done, ...open];
  }

  /** For GET /health: where sessions go, and every recording that stopped and why. */
  health(): Record<string, unknown> {
    const all = this.status();
    return {
      recorder: {
        dir: this.o.dir,
        mode: this.o.mode,
        recording: all.filter((s) => s.state === 'recording' || s.state === 'opening').length,
        recorded: all.filter((s) => s.state === 'closed').length,
        stopped: all.filter((s) => s.state === 'failed').map((s) => ({ session: s.session, path: s.path, steps: s.steps, ...s.error })),
      },
    };
  }

  overhead(): RecorderOverhead {
    const totalMs = this.hookMs + this.writerMs;
    return { calls: this.hookCalls, totalMs, hooksMs: this.hookMs, writerMs: this.writerMs, steps: this.stepsSeen, perStepMs: this.stepsSeen ? totalMs / this.stepsSeen : 0 };
  }

  /** Counts a hook body's time since `t` (performance.now costs ~50 ns, well under what it measures); no closure per call. */
  private timed(t: number): void {
    this.hookMs += performance.now() - t;
    this.hookCalls++;
  }

  /** Resolves once every open session's files are closed. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.recs.keys()].map((id) => this.onSessionClose(id)));
  }

  onInbound(sessionId: string, bytes: Uint8Array, t: number): void {
    const t0 = performance.now();
    try {
      this.packet(sessionId, 0, bytes, t);
    } finally {
      this.timed(t0);
    }
  }

  onOutbound(sessionId: string, bytes: Uint8Array, t: number): void {
    const t0 = performance.now();
    try {
      this.packet(sessionId, 1, bytes, t);
    } finally {
      this.timed(t0);
    }
  }

  onSessionOpen(sessionId: string, ready: ReadyMessage, t: number, control?: SessionControl): void {
    // A Moshi-protocol session opens before its client has said anything.
    const rec = this.recs.get(sessionId) ?? (this.skipped.has(sessionId) ? undefined : this.newRec(sessionId, t));
    if (!rec) return;
    rec.control = control ?? null;
    const info = this.o.engineInfo();
    if ((this.o.mode === 'requested' && !ready.record) || !info) {
      this.recs.delete(sessionId);
      this.skipped.add(sessionId);
      return;
    }
    this.software ??= softwareInfo();
    const wire = { wire: ready.wire ?? 'solacelive', ...(ready.wireInfo ? { wireInfo: ready.wireInfo } : {}) };
    const init = manifestFromEngine(info, ready, this.software, { session: sessionId, pace: ready.pace, requested: ready.record, ...wire, ...this.o.meta });
    rec.opened = ThreadedSessionWriter.create(rec.path, init, {
      fsyncIntervalMs: this.o.fsyncIntervalMs,
      onError: (e) => this.failed(rec, e),
      meter: (ms) => (this.writerMs += ms),
    }).then(
      (w) => {
        rec.writer = w;
        if (rec.state === 'opening') {
          rec.state = 'recording';
          rec.control?.recording('recording');
        }
        for (const m of rec.early ?? []) w.appendPacket(m.dir, m.bytes, this.rel(rec, m.t));
        rec.early = null;
        this.drainSteps(rec);
      },
      (e: SessionError) => this.failed(rec, e),
    );
  }

  onStepFinished(sessionId: string, record: FinishedStep): void {
    const t0 = performance.now();
    try {
      const rec = this.recs.get(sessionId);
      if (!rec || rec.state === 'failed') return;
      this.stepsSeen++;
      // Once the writer exists and nothing waits for it (every step but the first few): straight in.
      if (rec.writer !== null && rec.steps.length === 0) this.writeStep(rec, rec.writer, record);
      else {
        rec.steps.push(record);
        this.drainSteps(rec);
      }
    } finally {
      this.timed(t0);
    }
  }

  onEvent(sessionId: string, event: StepEvent): void {
    this.recs.get(sessionId)?.loose.push(event);
  }

  async onSessionClose(sessionId: string): Promise<void> {
    this.skipped.delete(sessionId);
    const rec = this.recs.get(sessionId);
    if (!rec) return;
    this.recs.delete(sessionId);
    // Listed while its files close, so /health never loses a recording between open and done.
    this.closing.add(rec);
    try {
      await rec.opened?.catch(() => undefined);
      this.drainSteps(rec);
      if (rec.writer) {
        const result = await rec.writer.close();
        if (rec.state !== 'failed') rec.state = 'closed';
        this.o.onClosed?.(sessionId, rec.path, result);
      } else if (rec.state !== 'failed') {
        rec.state = 'closed';
      }
    } finally {
      this.done.push(this.statusOf(rec));
      this.closing.delete(rec);
    }
  }

  // ------------------------------------------------------------------------------------

  private packet(sessionId: string, dir: 0 | 1, bytes: Uint8Array, t: number): void {
    let rec = this.recs.get(sessionId);
    if (!rec) {
      if (this.skipped.has(sessionId)) return;
      // First message of a connection, either way (a Moshi-protocol server speaks first): every
      // session is a candidate until its start says otherwise.
      rec = this.newRec(sessionId, t);
    }
    if (rec.writer) {
      if (rec.state === 'recording') rec.writer.appendPacket(dir, bytes, this.rel(rec, t));
    } else if (rec.early && rec.state === 'opening') {
      // A copy (a Buffer's slice would be a view): ws may reuse the buffer once the handler returns.
      rec.early.push({ dir, bytes: new Uint8Array(bytes), t });
    }
  }

  private newRec(sessionId: string, t: number): Rec {
    const name = this.o.name?.(sessionId) ?? sessionFolderName(sessionId);
    const rec: Rec = { session: sessionId, path: join(this.o.dir, name), t0: t, writer: null, early: [], steps: [], loose: [], written: 0, state: 'opening', error: null, opened: null, control: null };
    this.recs.set(sessionId, rec);
    return rec;
  }

  /** Writes the held steps once the writer exists (the session emits them in step order). */
  private drainSteps(rec: Rec): void {
    const w = rec.writer;
    if (!w) return;
    for (const f of rec.steps.splice(0)) this.writeStep(rec, w, f);
  }

  private writeStep(rec: Rec, w: ThreadedSessionWriter, f: FinishedStep): void {
    if (rec.state !== 'recording') return;
    // Events outside any step ride on the next step line (the format has no other place).
    const line = stepRecordOf(f, rec.t0);
    w.appendStep(rec.loose.length ? { ...line, events: [...rec.loose.splice(0), ...line.events] } : line, f.inputPcm, f.pcm);
    rec.written++;
  }

  private rel(rec: Rec, t: number): number {
    return Math.max(0, t - rec.t0);
  }

  private failed(rec: Rec, e: SessionError): void {
    if (rec.state === 'failed') return;
    rec.state = 'failed';
    rec.error = e;
    // The steps the writer had accepted when it failed (its thread reports the failure a little later).
    if (rec.writer) rec.written = Math.min(rec.written, rec.writer.stats.steps);
    rec.early = null;
    rec.steps.length = 0;
    // The client learns it from the server; the session and the files written so far stay.
    rec.control?.recording('stopped', { code: e.code, message: e.message, steps: rec.written });
    this.o.onFailure?.(rec.session, rec.path, e);
  }

  private statusOf(r: Rec): RecordingStatus {
    return { session: r.session, path: r.path, state: r.state, error: r.error ? { code: r.error.code, message: r.error.message } : null, steps: r.written };
  }
}
