// A session writer whose files are written by a worker thread: what a server that records uses,
// so the recording costs its event loop only the encoding. Measured on a 2-core VM, each write
// submission to libuv (one per file per step) cost the loop 20-80 µs, more than everything else
// the recorder did; here the loop encodes a step's records (CRCs, the step line, frame copies)
// and hands them over with one postMessage per turn (buffers transferred, not copied), and the
// thread runs a SessionWriter (writer.ts) on them: same bytes, same files, same errors.
//
// One thread serves every ThreadedSessionWriter of the process, started with the first and kept
// (referenced: the process stays up) from a writer's create until its close is done, so close
// every writer. Disk errors arrive as they do
// from SessionWriter (state 'failed', onError, the typed error at close), one message later:
// appends made meanwhile are dropped by the thread's writer, as a failed writer drops them.
// A thread that dies fails every open writer (SESSION_ERR_IO), never the server.
import { Worker } from 'node:worker_threads';
import { SessionError } from './errors.ts';
import { packetRecordProblem } from './records.ts';
import type { ManifestCounts, ManifestInit } from './manifest.ts';
import { FRAME_SAMPLES, PACKETS_FILE, type PacketDirection } from './layout.ts';
import type { StepRecord } from './steps.ts';
import { float32leBytes } from './pcm-hash.ts';
import { checkedStepLine, type CloseResult, type WriterState } from './writer.ts';
import { CONTROL, PACKET, sessionErrorOf, STEP, type Batch, type Control, type FromThread, type ThreadData } from './writer-thread-protocol.ts';

export interface ThreadedWriterOptions {
  /** fdatasync period in ms (default 1000); 0 syncs after every write batch. */
  readonly fsyncIntervalMs?: number;
  /** Bytes allowed to wait for the disk in the thread before the writer gives up (default 64 MiB). */
  readonly maxPendingBytes?: number;
  /** Called once, when the writer enters the 'failed' state. */
  readonly onError?: (error: SessionError) => void;
  /** Called with the ms each of the writer's own turns on this thread took (posting, replies): its loop cost beyond the append calls. */
  readonly meter?: (ms: number) => void;
}

const WORKER_URL = new URL('./writer-thread-worker.ts', import.meta.url);
const FRAME_BYTES = FRAME_SAMPLES * 4;
/** How long a packet may wait for the next step's message (a kill -9 then loses at most that). */
export const PACKET_WAIT_MS = 50;

/**
 * The records cross in a ring of shared memory that lives as long as the thread: nothing is
 * allocated or moved per batch (a fresh buffer per batch cost the loop its page faults, ~4 µs
 * per 4 KiB page on the VM measured). The thread copies each record out and then marks the
 * bytes free; a record that finds no room (the thread far behind) travels in the message.
 */
const RING_BYTES = 4 * 1024 * 1024;

/** The writer thread of this process and the batch the current turn is filling. */
class WriterThread {
  private readonly worker: Worker;
  private readonly writers = new Map<number, ThreadedSessionWriter>();
  private readonly ring = new Uint8Array(new SharedArrayBuffer(RING_BYTES));
  /** Ring bytes the thread has copied out (monotonic), written by the thread. */
  private readonly consumed = new BigInt64Array(new SharedArrayBuffer(8));
  /** Ring bytes handed out (monotonic). */
  private head = 0;
  private index: number[] = [];
  private controls: Control[] = [];
  private extra: Uint8Array[] = [];
  /** Writers with records in the batch: they share the posting turn's time. */
  private readonly batch = new Set<ThreadedSessionWriter>();
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private nextId = 1;
  dead: SessionError | null = null;

  constructor() {
    const workerData: ThreadData = { ring: this.ring.buffer as SharedArrayBuffer, consumed: this.consumed.buffer as SharedArrayBuffer };
    this.worker = new Worker(WORKER_URL, { workerData });
    this.worker.on('message', (m: FromThread) => this.writers.get(m.id)?.reply(m));
    this.worker.on('error', (err) => this.die(err));
    this.worker.on('exit', (code) => this.die(new Error(`it exited with code ${code}`)));
    this.worker.unref();
  }

  add(w: ThreadedSessionWriter): number {
    const id = this.nextId++;
    this.writers.set(id, w);
    this.refresh();
    return id;
  }

  remove(id: number): void {
    this.writers.delete(id);
    this.refresh();
  }

  packet(w: ThreadedSessionWriter, id: number, direction: PacketDirection, timeMs: number, bytes: Uint8Array): void {
    const { buf, at, ref } = this.place(bytes.length);
    buf.set(bytes, at);
    this.index.push(PACKET, id, direction, timeMs, ref, bytes.length);
    this.queued(w, false);
  }

  step(w: ThreadedSessionWriter, id: number, step: number, line: Uint8Array, input: Float32Array, output: Float32Array | null): void {
    const n = line.length + (output === null ? 1 : 2) * FRAME_BYTES;
    const { buf, at, ref } = this.place(n);
    buf.set(line, at);
    buf.set(float32leBytes(input), at + line.length);
    if (output !== null) buf.set(float32leBytes(output), at + line.length + FRAME_BYTES);
    this.index.push(STEP, id, step, ref, line.length, output === null ? 0 : 1);
    this.queued(w, true);
  }

  control(w: ThreadedSessionWriter, id: number, c: Control): void {
    this.index.push(CONTROL, id, this.controls.length, 0, 0, 0);
    this.controls.push(c);
    this.queued(w, true);
  }

  /**
   * Posted at the end of this turn, so what one turn appends crosses in one message; a packet
   * alone (not `now`) waits up to PACKET_WAIT_MS for its step, so that a step costs one
   * message, not one per turn that touched it.
   */
  private queued(w: ThreadedSessionWriter, now: boolean): void {
    this.batch.add(w);
    if (now) {
      if (this.immediate === null) this.immediate = setImmediate(() => this.post());
    } else if (this.immediate === null && this.timer === null) {
      this.timer = setTimeout(() => this.post(), PACKET_WAIT_MS);
    }
  }

  /** Where n bytes of a record go: the ring (ref: its offset there) or, without room, a buffer of its own (ref: -1 - its place in extra). */
  private place(n: number): { buf: Uint8Array; at: number; ref: number } {
    const p = this.head % RING_BYTES;
    // A record never wraps: it starts over at 0 when the end has no room for it.
    const skip = p + n > RING_BYTES ? RING_BYTES - p : 0;
    if (this.head + skip + n - Number(Atomics.load(this.consumed, 0)) <= RING_BYTES) {
      this.head += skip + n;
      return { buf: this.ring, at: skip > 0 ? 0 : p, ref: skip > 0 ? 0 : p };
    }
    const own = new Uint8Array(n);
    this.extra.push(own);
    return { buf: own, at: 0, ref: -this.extra.length };
  }

  private post(): void {
    const t = performance.now();
    const batch = [...this.batch];
    const message: Batch = { index: this.index, controls: this.controls, extra: this.extra, end: this.head };
    this.batch.clear();
    this.index = [];
    this.controls = [];
    this.extra = [];
    if (this.immediate !== null) clearImmediate(this.immediate);
    if (this.timer !== null) clearTimeout(this.timer);
    this.immediate = null;
    this.timer = null;
    if (message.index.length === 0) return;
    if (this.dead === null) {
      try {
        this.worker.postMessage(message);
      } catch (err) {
        // Never in practice; if it were, those sessions' recordings stop, not the server.
        for (const w of batch) w.threadDied(new SessionError('SESSION_ERR_IO', `cannot hand records to the session writer thread: ${(err as Error).message}`, { cause: err }));
      }
    }
    const share = (performance.now() - t) / batch.length;
    for (const w of batch) w.metered(share);
  }

  private refresh(): void {
    // A writer is registered from create until its close is done: every reply awaited is covered.
    if (this.writers.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private die(err: Error): void {
    if (this.dead !== null) return;
    this.dead = new SessionError('SESSION_ERR_IO', `the session writer thread stopped: ${err.message}`, { cause: err });
    if (thread === this) thread = null;
    for (const w of [...this.writers.values()]) w.threadDied(this.dead);
    this.writers.clear();
  }
}

let thread: WriterThread | null = null;

export class ThreadedSessionWriter {
  readonly dir: string;
  private readonly t: WriterThread;
  private readonly id: number;
  private readonly options: ThreadedWriterOptions;
  private currentState: WriterState = 'open';
  private failure: SessionError | null = null;
  private lastStep = -1;
  private counts = { packets: 0, packetBytes: 0, steps: 0, inputSamples: 0, outputSamples: 0 };
  private droppedCount = 0;
  private opening: { resolve: () => void; reject: (e: SessionError) => void } | null = null;
  private flushes: (() => void)[] = [];
  private closing: { promise: Promise<CloseResult>; resolve: (r: CloseResult) => void } | null = null;

  private constructor(dir: string, options: ThreadedWriterOptions) {
    this.dir = dir;
    this.options = options;
    thread ??= new WriterThread();
    this.t = thread;
    this.id = this.t.add(this);
  }

  /**
   * Creates the session folder and files (in the writer thread), as SessionWriter.create does,
   * with its errors: SESSION_ERR_UNWRITABLE, SESSION_ERR_DISK_FULL, SESSION_ERR_EXISTS,
   * SESSION_ERR_INVALID.
   */
  static async create(dir: string, init: ManifestInit, options: ThreadedWriterOptions = {}): Promise<ThreadedSessionWriter> {
    const w = new ThreadedSessionWriter(dir, options);
    await w.open(init);
    return w;
  }

  get state(): WriterState {
    return this.currentState;
  }

  /** The error that stopped the writer, or null. */
  get error(): SessionError | null {
    return this.failure;
  }

  /** What was accepted (after a failure: what the thread's writer had accepted before it), and appends dropped here. */
  get stats(): ManifestCounts & { readonly dropped: number } {
    return { ...this.counts, dropped: this.droppedCount };
  }

  /** As SessionWriter.appendPacket (same errors, thrown here): the message is copied here, its record made there. */
  appendPacket(direction: PacketDirection, bytes: Uint8Array, timeMs: number): void {
    const problem = packetRecordProblem(direction, timeMs, bytes.length);
    if (problem !== null) throw new SessionError('SESSION_ERR_INVALID', `packet record: ${problem}`, { file: PACKETS_FILE });
    if (!this.accepting()) return;
    this.counts.packets++;
    this.counts.packetBytes += bytes.length;
    this.t.packet(this, this.id, direction, timeMs, bytes);
  }

  /** As SessionWriter.appendStep: checked and encoded here (same errors, thrown here), written there. */
  appendStep(record: StepRecord, input: Float32Array, output: Float32Array | null): void {
    const line = checkedStepLine(record, input, output, this.lastStep);
    if (!this.accepting()) return;
    this.lastStep = record.step;
    this.counts.steps++;
    this.counts.inputSamples += FRAME_SAMPLES;
    this.counts.outputSamples += FRAME_SAMPLES;
    this.t.step(this, this.id, record.step, line, input, output);
  }

  /** Resolves once everything appended before the call is written and fdatasync'ed (or the writer failed). */
  flush(): Promise<void> {
    if (this.currentState === 'closed' || this.t.dead !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.flushes.push(resolve);
      this.t.control(this, this.id, { t: 'flush' });
    });
  }

  /** As SessionWriter.close: writes what is queued, finalises the files; never throws for disk trouble. */
  close(): Promise<CloseResult> {
    if (this.closing) return this.closing.promise;
    let resolve!: (r: CloseResult) => void;
    const promise = new Promise<CloseResult>((r) => (resolve = r));
    this.closing = { promise, resolve };
    if (this.currentState === 'open') this.currentState = 'closing';
    if (this.currentState === 'closed') {
      // Its create failed: there are no files to finish.
      resolve({ status: 'failed', error: this.failure, counts: { ...this.counts }, dropped: this.droppedCount });
    } else if (this.t.dead !== null) {
      this.finish({ status: 'failed', error: this.failure ?? this.t.dead, counts: { ...this.counts }, dropped: this.droppedCount });
    } else {
      this.t.control(this, this.id, { t: 'close' });
    }
    return promise;
  }

  // ------------------------------------------------------------------ from the thread

  /** A reply from the writer thread (on this thread's loop: metered). */
  reply(m: FromThread): void {
    const t = performance.now();
    switch (m.t) {
      case 'opened':
        this.opening?.resolve();
        this.opening = null;
        break;
      case 'open-failed':
        this.t.remove(this.id);
        this.currentState = 'closed';
        this.opening?.reject(sessionErrorOf(m.error));
        this.opening = null;
        break;
      case 'failed':
        // What the files were to hold when the disk failed: the thread's count, not the appends made since.
        this.counts = { ...this.counts, steps: Math.min(this.counts.steps, m.steps) };
        this.fail(sessionErrorOf(m.error));
        break;
      case 'flushed':
        this.flushes.shift()?.();
        break;
      case 'closed':
        this.finish({ status: m.status, error: m.error === null ? null : (this.failure ?? sessionErrorOf(m.error)), counts: m.counts, dropped: m.dropped + this.droppedCount });
        break;
    }
    this.metered(performance.now() - t);
  }

  /** The thread died: fail, and settle whatever waits. */
  threadDied(error: SessionError): void {
    this.fail(error);
    this.opening?.reject(error);
    this.opening = null;
    for (const f of this.flushes.splice(0)) f();
    if (this.closing) this.finish({ status: 'failed', error: this.failure ?? error, counts: { ...this.counts }, dropped: this.droppedCount });
  }

  metered(ms: number): void {
    this.options.meter?.(ms);
  }

  // ------------------------------------------------------------------

  private open(init: ManifestInit): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.opening = { resolve, reject };
      const { fsyncIntervalMs, maxPendingBytes } = this.options;
      this.t.control(this, this.id, {
        t: 'open', dir: this.dir, init,
        ...(fsyncIntervalMs === undefined ? {} : { fsyncIntervalMs }),
        ...(maxPendingBytes === undefined ? {} : { maxPendingBytes }),
      });
    });
  }

  private finish(r: CloseResult): void {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    this.t.remove(this.id);
    for (const f of this.flushes.splice(0)) f();
    this.closing?.resolve(r);
  }

  private accepting(): boolean {
    if (this.currentState === 'open') return true;
    this.droppedCount++;
    return false;
  }

  private fail(error: SessionError): void {
    if (this.failure !== null) return;
    this.failure = error;
    if (this.currentState === 'open') this.currentState = 'failed';
    try {
      this.options.onError?.(error);
    } catch {
      // A throwing handler must not take the writer (or the session it records) down with it.
    }
  }
}
