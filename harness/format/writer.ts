// Writing a session folder (Node). Append-only and off the hot path: append* calls encode and
// queue the bytes and return; the write() syscalls are issued on the next event-loop turn and
// run on libuv's thread pool, one batch per file, so a step never waits for the disk.
//
// Durability (README.md, "Crash safety"): every append reaches the kernel within one loop turn
// plus one write, so a kill -9 loses the step in flight (more only while the pool waits for CPU). fdatasync runs every
// fsyncIntervalMs (default 1 s) and at flush()/close(), so power loss can cost up to that
// interval. After the first disk error the writer stops writing (state 'failed', a typed
// error via `error` and onError), drops later appends, and leaves what is on disk readable.
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { accessSync, constants, mkdirSync, writevSync } from 'node:fs';
import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../src/telemetry/clock.ts';
import { SessionError, isSessionError } from './errors.ts';
import type { SessionErrorCode } from './errors.ts';
import { FRAME_SAMPLES, INPUT_WAV, MANIFEST_FILE, OUTPUT_WAV, PACKETS_FILE, SESSION_FILES, STEPS_FILE } from './layout.ts';
import type { PacketDirection } from './layout.ts';
import { buildManifest, serializeManifest, validateManifestInit } from './manifest.ts';
import type { ManifestCounts, ManifestInit, SessionManifest } from './manifest.ts';
import type { FileDigests } from './integrity.ts';
import { float32leBytes } from './pcm-hash.ts';
import { encodePacketRecord, encodePacketsHeader } from './records.ts';
import { directStepOk, encodeStepLine, encodeStepsHeader } from './steps.ts';
import type { StepRecord } from './steps.ts';
import { encodeWavHeader, WAV_HEADER_BYTES } from './wav.ts';

export interface SessionWriterOptions {
  /** Capture-time clock (ms); the session starts at its reading when create() returns. */
  readonly clock?: Clock;
  /** Wall clock for createdAt/closedAt. */
  readonly wallClock?: () => Date;
  /** fdatasync period in ms (default 1000); 0 syncs after every write batch. */
  readonly fsyncIntervalMs?: number;
  /** Bytes allowed to wait for the disk before the writer gives up (default 64 MiB). */
  readonly maxPendingBytes?: number;
  /** Called once, when the writer enters the 'failed' state. */
  readonly onError?: (error: SessionError) => void;
  /**
   * Appends with blocking write calls on the calling thread instead of libuv's pool: for a thread
   * that does nothing else (the recorder's writer thread), where each pool round trip cost more
   * CPU than the write itself (~20-80 µs per submission on a 2-core VM). Never on a server's loop.
   */
  readonly blockingWrites?: boolean;
}

export const DEFAULT_FSYNC_INTERVAL_MS = 1000;
export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;
const MANIFEST_TMP = `${MANIFEST_FILE}.tmp`;
/** Keeps each writev under every platform's IOV_MAX. */
const MAX_IOVECS = 512;

export type WriterState = 'open' | 'failed' | 'closing' | 'closed';

export interface WriterStats extends ManifestCounts {
  /** Bytes queued, not yet handed to the kernel. */
  readonly pendingBytes: number;
  /** Bytes the kernel has accepted, all files. */
  readonly writtenBytes: number;
  /** Appends ignored because the writer had failed or was closing. */
  readonly dropped: number;
}

export interface CloseResult {
  readonly status: 'complete' | 'failed';
  readonly error: SessionError | null;
  /** What was accepted before close (or before the failure: the files may hold a little less). */
  readonly counts: ManifestCounts;
  readonly dropped: number;
}

const ZERO_FRAME = new Uint8Array(FRAME_SAMPLES * 4);

/** Creates a recording folder (with its parents) and checks it is writable, before anything records into it. */
export function prepareRecordingFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw diskError(err, `use ${dir} as the recording folder`);
  }
}

/** Maps a file-system failure to the code a recorder reports (ENOSPC → disk full…). */
export function diskError(err: unknown, action: string): SessionError {
  if (isSessionError(err)) return err;
  const errno = errnoOf(err);
  let code: SessionErrorCode = 'SESSION_ERR_IO';
  let why = errno ?? String(err);
  if (errno === 'ENOSPC' || errno === 'EDQUOT' || errno === 'EFBIG') {
    code = 'SESSION_ERR_DISK_FULL';
    why = errno === 'EFBIG' ? 'file size limit reached (EFBIG)' : `no space left on the device (${errno})`;
  } else if (errno === 'EACCES' || errno === 'EPERM' || errno === 'EROFS' || errno === 'ENOTDIR' || errno === 'EISDIR' || errno === 'EEXIST') {
    code = 'SESSION_ERR_UNWRITABLE';
    why = errno === 'EROFS' ? 'read-only file system (EROFS)' : errno === 'ENOTDIR' || errno === 'EEXIST' ? `a path component is not a folder (${errno})` : `permission denied (${errno})`;
  }
  return new SessionError(code, `cannot ${action}: ${why}`, { errno, cause: err });
}

class Appender {
  readonly name: string;
  readonly fh: FileHandle;
  position: number;
  pending: Uint8Array[] = [];
  pendingBytes = 0;
  dirty = false;
  /** sha256 of what is appended (after `hashedFrom`: the header for logs, the samples for WAVs), for the manifest at close. */
  private readonly hash: Hash = createHash('sha256');

  private readonly blocking: boolean;

  constructor(name: string, fh: FileHandle, position: number, header: Uint8Array | null, blocking: boolean) {
    this.name = name;
    this.blocking = blocking;
    this.fh = fh;
    this.position = position;
    if (header !== null) this.hash.update(header);
  }

  push(bytes: Uint8Array): void {
    // Hashed on append (~80 µs per step): at close a re-read would stall the server for seconds on a long session.
    this.hash.update(bytes);
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  digest(): string {
    return this.hash.digest('hex');
  }

  /** Writes everything queued; returns the bytes written. Handles short writes. */
  async drain(): Promise<number> {
    let bufs = this.pending;
    const total = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    let left = total;
    while (bufs.length > 0) {
      const batch = bufs.length > MAX_IOVECS ? bufs.slice(0, MAX_IOVECS) : bufs;
      const bytesWritten = this.blocking ? writevSync(this.fh.fd, batch, this.position) : (await this.fh.writev(batch, this.position)).bytesWritten;
      this.position += bytesWritten;
      left -= bytesWritten;
      this.dirty = true;
      // Drop what was written (possibly ending mid-buffer), keep the rest.
      let skip = bytesWritten;
      let i = 0;
      while (i < bufs.length && skip >= bufs[i]!.length) skip -= bufs[i++]!.length;
      bufs = bufs.slice(i);
      if (skip > 0) bufs[0] = bufs[0]!.subarray(skip);
    }
    return total - left;
  }
}

export class SessionWriter {
  readonly dir: string;
  private manifest: SessionManifest;
  private readonly clock: Clock;
  private readonly wallClock: () => Date;
  private readonly t0: number;
  private readonly fsyncIntervalMs: number;
  private readonly maxPendingBytes: number;
  private readonly onError: ((error: SessionError) => void) | undefined;
  private readonly packetsOut: Appender;
  private readonly stepsOut: Appender;
  private readonly inputOut: Appender;
  private readonly outputOut: Appender;
  private readonly all: readonly Appender[];
  private chain: Promise<void> = Promise.resolve();
  private writeQueued = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private closePromise: Promise<CloseResult> | null = null;
  private currentState: WriterState = 'open';
  private failure: SessionError | null = null;
  private counts = { packets: 0, packetBytes: 0, steps: 0, inputSamples: 0, outputSamples: 0 };
  private lastStep = -1;
  private written = 0;
  private droppedCount = 0;

  private constructor(dir: string, manifest: SessionManifest, handles: readonly FileHandle[], options: SessionWriterOptions, clock: Clock, wallClock: () => Date) {
    this.dir = dir;
    this.manifest = manifest;
    this.clock = clock;
    this.wallClock = wallClock;
    this.fsyncIntervalMs = options.fsyncIntervalMs ?? DEFAULT_FSYNC_INTERVAL_MS;
    this.maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    this.onError = options.onError;
    const [p, s, i, o] = handles as [FileHandle, FileHandle, FileHandle, FileHandle];
    const [packetsHeader, stepsHeader] = [encodePacketsHeader(), encodeStepsHeader()];
    const blocking = options.blockingWrites === true;
    this.packetsOut = new Appender(PACKETS_FILE, p, packetsHeader.length, packetsHeader, blocking);
    this.stepsOut = new Appender(STEPS_FILE, s, stepsHeader.length, stepsHeader, blocking);
    this.inputOut = new Appender(INPUT_WAV, i, WAV_HEADER_BYTES, null, blocking);
    this.outputOut = new Appender(OUTPUT_WAV, o, WAV_HEADER_BYTES, null, blocking);
    this.all = [this.packetsOut, this.stepsOut, this.inputOut, this.outputOut];
    if (this.fsyncIntervalMs > 0) {
      this.timer = setInterval(() => {
        if (this.currentState === 'open' && this.all.some((a) => a.dirty)) this.enqueue(() => this.sync());
      }, this.fsyncIntervalMs);
      this.timer.unref();
    }
    this.t0 = clock.now();
  }

  /**
   * Creates `dir` (parents included) and the session files in it, with the manifest in state
   * 'recording'. Throws at once: SESSION_ERR_UNWRITABLE, SESSION_ERR_DISK_FULL,
   * SESSION_ERR_EXISTS (the folder already holds a session), SESSION_ERR_INVALID (a bad init).
   */
  static async create(dir: string, init: ManifestInit, options: SessionWriterOptions = {}): Promise<SessionWriter> {
    validateManifestInit(init);
    for (const [k, v] of [['fsyncIntervalMs', options.fsyncIntervalMs], ['maxPendingBytes', options.maxPendingBytes]] as const) {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new SessionError('SESSION_ERR_INVALID', `SessionWriter.create: ${k} must be a number >= 0, got ${v}`);
    }
    const clock = options.clock ?? { now: () => performance.now() };
    const wallClock = options.wallClock ?? (() => new Date());
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      // Recursive mkdir says ENOENT on a read-only file system; a plain one names the cause.
      const cause = errnoOf(err) === 'ENOENT' ? await mkdir(dir).then(() => err, (e: unknown) => e) : err;
      const typed = diskError(cause, `create the session folder ${dir}`);
      // ENOENT here means the path cannot be made, whatever the reason: unwritable for the user.
      throw errnoOf(cause) === 'ENOENT' ? new SessionError('SESSION_ERR_UNWRITABLE', typed.message, { file: dir, errno: 'ENOENT', cause }) : located(typed, dir);
    }
    let existing: string[];
    try {
      existing = await readdir(dir);
    } catch (err) {
      throw located(diskError(err, `list ${dir}`), dir);
    }
    const clash = existing.filter((n) => (SESSION_FILES as readonly string[]).includes(n) || n === MANIFEST_TMP);
    if (clash.length > 0) throw new SessionError('SESSION_ERR_EXISTS', `${dir} already holds a session (${clash.join(', ')}); choose a new folder`, { file: dir });

    const created: { path: string; fh: FileHandle }[] = [];
    try {
      const headers = [encodePacketsHeader(), encodeStepsHeader(), encodeWavHeader(null), encodeWavHeader(null)];
      for (const [k, name] of [PACKETS_FILE, STEPS_FILE, INPUT_WAV, OUTPUT_WAV].entries()) {
        const path = join(dir, name);
        const fh = await open(path, 'wx');
        created.push({ path, fh });
        await fh.write(headers[k]!, 0, headers[k]!.length, 0);
        await fh.datasync();
      }
      const manifest = buildManifest(init, wallClock().toISOString());
      await writeManifestAtomically(dir, manifest);
      return new SessionWriter(dir, manifest, created.map((c) => c.fh), options, clock, wallClock);
    } catch (err) {
      for (const c of created) {
        await c.fh.close().catch(() => undefined);
        await unlink(c.path).catch(() => undefined);
      }
      if ((err as { code?: unknown }).code === 'EEXIST') throw new SessionError('SESSION_ERR_EXISTS', `${dir} already holds a session file (${(err as { path?: string }).path ?? ''}); choose a new folder`, { file: dir, cause: err });
      throw located(diskError(err, `create the session files in ${dir}`), dir);
    }
  }

  get state(): WriterState {
    return this.currentState;
  }

  /** The error that stopped the writer, or null. */
  get error(): SessionError | null {
    return this.failure;
  }

  get stats(): WriterStats {
    return { ...this.counts, pendingBytes: this.pending(), writtenBytes: this.written, dropped: this.droppedCount };
  }

  /** Milliseconds since the session started, on the writer's clock (capture times use it). */
  now(): number {
    return this.clock.now() - this.t0;
  }

  /**
   * Records one WebSocket message (copied before returning, so pooled buffers may be reused).
   * Throws SESSION_ERR_INVALID for a bad direction/time or a message over MAX_RECORD_BYTES;
   * never for disk trouble.
   */
  appendPacket(direction: PacketDirection, bytes: Uint8Array, timeMs: number = this.now()): void {
    const record = encodePacketRecord(direction, timeMs, bytes);
    if (!this.accepting()) return;
    this.packetsOut.push(record);
    this.counts.packets++;
    this.counts.packetBytes += bytes.length;
    this.queued();
  }

  /**
   * Records one step with its input frame and its output frame (null when the step produced
   * no PCM: a zero frame keeps output.wav aligned, frame i ↔ step line i). Frames are copied.
   * Throws SESSION_ERR_INVALID for a malformed record or frame, or a step index that does not
   * increase; never for disk trouble.
   */
  appendStep(record: StepRecord, input: Float32Array, output: Float32Array | null): void {
    const line = checkedStepLine(record, input, output, this.lastStep);
    this.appendEncodedStep({ step: record.step, line, input: copyLE(input), output: output === null ? null : copyLE(output) });
  }

  /** A step already checked (checkedStepLine) and encoded (its bytes owned by the writer from here on): what the writer thread appends. */
  appendEncodedStep(step: EncodedStep): void {
    if (!this.accepting()) return;
    this.lastStep = step.step;
    this.inputOut.push(step.input);
    this.outputOut.push(step.output ?? ZERO_FRAME);
    this.stepsOut.push(step.line);
    this.counts.steps++;
    this.counts.inputSamples += FRAME_SAMPLES;
    this.counts.outputSamples += FRAME_SAMPLES;
    this.queued();
  }

  /**
   * Fails the writer with `error` once what it accepted is written (state 'failed' at once, later
   * appends dropped; onError and the error in the manifest at close): for a caller that gave up
   * on it (the writer thread's caller, a ring behind).
   */
  stop(error: SessionError): void {
    if (this.currentState !== 'open') return;
    // What was accepted is still written (nothing accepted is lost); nothing after it.
    this.currentState = 'failed';
    this.enqueue(() => this.writeAll());
    void this.enqueue(async () => this.fail(error, ''));
  }

  /** Resolves once everything appended before the call is written and fdatasync'ed (or the writer failed). */
  async flush(): Promise<void> {
    this.enqueue(() => this.writeAll());
    await this.enqueue(() => this.sync());
  }

  /**
   * Writes what is queued, patches the WAV sizes and writes the final manifest ('complete',
   * counts, closedAt). Never throws for disk trouble: a failed session closes with status
   * 'failed' and its error (recorded in the manifest when the disk still allows).
   */
  close(): Promise<CloseResult> {
    this.closePromise ??= this.finish();
    return this.closePromise;
  }

  /**
   * Closes the files as a crash would leave them (no size patch, manifest still 'recording')
   * after writing what is queued. For tests and for a recorder that must let go at once.
   */
  async abandon(): Promise<void> {
    if (this.closePromise !== null) return;
    this.closePromise = (async () => {
      this.stopTimer();
      this.currentState = 'closing';
      await this.enqueue(() => this.writeAll());
      await Promise.all(this.all.map((a) => a.fh.close().catch(() => undefined)));
      this.currentState = 'closed';
      return { status: 'failed' as const, error: this.failure, counts: { ...this.counts }, dropped: this.droppedCount };
    })();
    await this.closePromise;
  }

  private async finish(): Promise<CloseResult> {
    this.stopTimer();
    const failedBefore = this.currentState === 'failed';
    this.currentState = 'closing';
    await this.enqueue(() => this.writeAll());
    await this.enqueue(() => this.sync());
    const counts = { ...this.counts };
    if (this.failure === null && !failedBefore) {
      try {
        for (const a of [this.inputOut, this.outputOut]) {
          const header = encodeWavHeader((a.position - WAV_HEADER_BYTES) / 4);
          await a.fh.write(header, 0, header.length, 0);
          await a.fh.datasync();
        }
        const files: FileDigests = {
          [PACKETS_FILE]: { bytes: this.packetsOut.position, sha256: this.packetsOut.digest() },
          [STEPS_FILE]: { bytes: this.stepsOut.position, sha256: this.stepsOut.digest() },
          [INPUT_WAV]: { samples: (this.inputOut.position - WAV_HEADER_BYTES) / 4, sha256: this.inputOut.digest() },
          [OUTPUT_WAV]: { samples: (this.outputOut.position - WAV_HEADER_BYTES) / 4, sha256: this.outputOut.digest() },
        };
        this.manifest = { ...this.manifest, status: 'complete', closedAt: this.wallClock().toISOString(), counts, integrity: { setupSha256: this.manifest.integrity!.setupSha256, files } };
        await writeManifestAtomically(this.dir, this.manifest);
      } catch (err) {
        this.fail(err, 'finalise the session');
      }
    }
    if (this.failure !== null) {
      const error = { code: this.failure.code, message: this.failure.message };
      this.manifest = { ...this.manifest, status: 'failed', closedAt: this.wallClock().toISOString(), counts, error };
      // Best effort: on a full disk even the small manifest may not fit; the old one stays.
      await writeManifestAtomically(this.dir, this.manifest).catch(() => undefined);
    }
    await Promise.all(this.all.map((a) => a.fh.close().catch(() => undefined)));
    this.currentState = 'closed';
    return { status: this.failure === null ? 'complete' : 'failed', error: this.failure, counts, dropped: this.droppedCount };
  }

  private accepting(): boolean {
    if (this.currentState === 'open') return true;
    this.droppedCount++;
    return false;
  }

  private pending(): number {
    let n = 0;
    for (const a of this.all) n += a.pendingBytes;
    return n;
  }

  private queued(): void {
    if (this.pending() > this.maxPendingBytes) {
      this.fail(new SessionError('SESSION_ERR_BACKLOG', `more than ${this.maxPendingBytes} bytes are waiting for the disk (it is too slow for this session); recording stopped`), '');
      return;
    }
    if (this.writeQueued) return;
    this.writeQueued = true;
    // Next turn, not now: appends of the same turn (a step and its packets) share one write.
    setImmediate(() => void this.enqueue(() => this.writeAll()));
  }

  /** Runs `op` after every earlier operation; failures end in fail(), never in a rejection. */
  private enqueue(op: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(op).catch((err: unknown) => this.fail(err, 'write the session'));
    return this.chain;
  }

  private async writeAll(): Promise<void> {
    this.writeQueued = false;
    if (this.failure !== null) return;
    const results = await Promise.allSettled(this.all.map((a) => (a.pendingBytes > 0 ? a.drain() : Promise.resolve(0))));
    for (const [i, r] of results.entries()) {
      if (r.status === 'fulfilled') this.written += r.value;
      else this.fail(r.reason, `append to ${join(this.dir, this.all[i]!.name)}`, this.all[i]!.name);
    }
    if (this.fsyncIntervalMs === 0) await this.sync();
  }

  private async sync(): Promise<void> {
    if (this.failure !== null) return;
    for (const a of this.all) {
      if (!a.dirty) continue;
      a.dirty = false;
      await a.fh.datasync();
    }
  }

  private fail(err: unknown, action: string, file: string = this.dir): void {
    if (this.failure !== null) return;
    this.failure = action === '' && isSessionError(err) ? err : located(diskError(err, action), file);
    for (const a of this.all) {
      a.pending = [];
      a.pendingBytes = 0;
    }
    if (this.currentState === 'open') this.currentState = 'failed';
    this.stopTimer();
    try {
      this.onError?.(this.failure);
    } catch {
      // A throwing handler must not take the writer (or the session it records) down with it.
    }
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function invalid(message: string): SessionError {
  return new SessionError('SESSION_ERR_INVALID', `SessionWriter: ${message}`);
}

function located(err: SessionError, file: string): SessionError {
  if (err.file !== undefined) return err;
  return new SessionError(err.code, err.message, { file, errno: err.errno, cause: err.cause });
}

/** A step checked and encoded for the files: its steps.jsonl line and both frames as float32le bytes (output null: no PCM). */
export interface EncodedStep {
  readonly step: number;
  readonly line: Uint8Array;
  readonly input: Uint8Array;
  readonly output: Uint8Array | null;
}

/**
 * Checks a step against the format and the previous step index, and returns its steps.jsonl
 * line. Throws SESSION_ERR_INVALID for a malformed record or frame, or a step index that does
 * not increase.
 */
export function checkedStepLine(record: StepRecord, input: Float32Array, output: Float32Array | null, lastStep: number): Uint8Array {
  checkFrames(record, input, output);
  const line = encodeStepLine(record);
  checkOrder(record, lastStep);
  return line;
}

/**
 * The same checks as checkedStepLine without writing the line: true when the step may be
 * written later (elsewhere) by encodeStepLine, which will then accept it; false when it should
 * be encoded now (it may be invalid: encodeStepLine then throws the error). Throws for frames
 * and order as checkedStepLine does.
 */
export function checkedForLater(record: StepRecord, input: Float32Array, output: Float32Array | null, lastStep: number): boolean {
  checkFrames(record, input, output);
  if (!directStepOk(record)) return false;
  checkOrder(record, lastStep);
  return true;
}

function checkFrames(record: StepRecord, input: Float32Array, output: Float32Array | null): void {
  const step = record?.step;
  if (!(input instanceof Float32Array) || input.length !== FRAME_SAMPLES) throw invalid(`step ${step}: the input frame must be a Float32Array of ${FRAME_SAMPLES} samples`);
  if (output !== null && !(output instanceof Float32Array && output.length === FRAME_SAMPLES)) throw invalid(`step ${step}: the output frame must be null or a Float32Array of ${FRAME_SAMPLES} samples`);
  if ((output === null) !== (record?.pcmHash === null)) throw invalid(`step ${step}: pcmHash must be null exactly when the output frame is null`);
}

function checkOrder(record: StepRecord, lastStep: number): void {
  if (record.step <= lastStep) throw invalid(`step ${record.step} does not follow step ${lastStep}: step indices must increase`);
}

/** A private float32le copy of a frame (the caller may reuse its array after returning). */
function copyLE(samples: Float32Array): Uint8Array {
  const bytes = float32leBytes(samples);
  return bytes.buffer === samples.buffer ? bytes.slice() : bytes;
}

/** temp file, fsync, rename, fsync the folder: a crash leaves the old manifest or the new one. */
async function writeManifestAtomically(dir: string, manifest: SessionManifest): Promise<void> {
  const tmp = join(dir, MANIFEST_TMP);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(serializeManifest(manifest));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(dir, MANIFEST_FILE));
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Not every platform can fsync a directory (Windows); the rename is still atomic there.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
