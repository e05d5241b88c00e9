// A session writer whose files are written by a worker thread: what a server that records uses,
// so the recording costs its event loop only the encoding. Measured on a 2-core VM, each write
// submission to libuv (one per file per step) cost the loop 20-80 µs, more than everything else
// the recorder did. Here the loop checks a step, copies its fields (the thread writes its line:
// formatting its numbers cost the loop 15-40 µs), frames and packets into a ring of shared
// memory and publishes them at the end of the turn, waking the thread when the turn had a step
// (Atomics.notify); the thread runs a SessionWriter (writer.ts) on them: the step line, CRCs,
// hashing, writes, fsyncs, manifest.
// Same bytes, same files, same errors.
//
// One thread serves every ThreadedSessionWriter of the process, started with the first and kept
// (referenced: the process stays up) from a writer's create until its close is done, so close
// every writer. Disk errors arrive as they do from SessionWriter (state 'failed', onError, the
// typed error at close), one message later: appends made meanwhile are dropped by the thread's
// writer, as a failed writer drops them. A thread that dies fails every open writer
// (SESSION_ERR_IO), never the server.
import { Worker } from 'node:worker_threads';
import { SessionError } from './errors.ts';
import { packetRecordProblem } from './records.ts';
import type { ManifestCounts, ManifestInit } from './manifest.ts';
import { FRAME_SAMPLES, PACKETS_FILE, type PacketDirection } from './layout.ts';
import type { StepRecord } from './steps.ts';
import { float32leBytes } from './pcm-hash.ts';
import { checkedForLater, checkedStepLine, type CloseResult, type WriterState } from './writer.ts';
import { align8, errorFields, H_A, H_B, H_BYTES, H_C, H_ID, H_KIND, MESSAGE, PACKET, RECORD_HEADER, sessionErrorOf, STEP, STEP_FIELDS, stepFieldsBound, WRAP, writeStepFields, type Control, type FromThread, type ThreadData, type ToThread } from './writer-thread-protocol.ts';

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
export { PACKET_WAIT_MS } from './writer-thread-protocol.ts';

/**
 * The ring (writer-thread-protocol.ts) lives as long as the thread: nothing is allocated or
 * moved per step (a fresh buffer per batch cost the loop its page faults, ~4 µs per 4 KiB page
 * on the VM measured, and a message per step 10-50 µs). 16 MiB, ~500 tiny steps: a thread
 * that far behind is starved of CPU, and its sessions' recordings stop (SESSION_ERR_BACKLOG).
 */
const RING_BYTES = 16 * 1024 * 1024;
/** Kept for MESSAGE records, so that open, flush and close always find a place. */
const MESSAGE_RESERVE = 64 * 1024;
/** A record bigger than this goes as a message (a 16 MiB WebSocket message would not fit). */
const RING_RECORD_MAX = RING_BYTES / 8;
const backlog = () => new SessionError('SESSION_ERR_BACKLOG', `more than ${RING_BYTES - MESSAGE_RESERVE} bytes are waiting for the session writer thread (it is starved of CPU); recording stopped`);

/** The writer thread of this process, the ring, and what the current turn has written to it. */
class WriterThread {
  private readonly worker: Worker;
  private readonly writers = new Map<number, ThreadedSessionWriter>();
  private readonly ring = new Uint8Array(new SharedArrayBuffer(RING_BYTES));
  private readonly view = new DataView(this.ring.buffer);
  /** [0] published (written here), [1] consumed (written by the thread): bytes since the start. */
  private readonly counters = new BigInt64Array(new SharedArrayBuffer(16));
  private head = 0;
  private nextSeq = 1;
  private nextId = 1;
  /** This turn's publishing: scheduled, whether it wakes the thread, and which writer's meter it goes to. */
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private wake = false;
  private payer: ThreadedSessionWriter | null = null;
  dead: SessionError | null = null;

  constructor() {
    const workerData: ThreadData = { ring: this.ring.buffer as SharedArrayBuffer, counters: this.counters.buffer as SharedArrayBuffer };
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

  /** Hands a packet over; false when the ring had no room (the writer is stopped). */
  packet(w: ThreadedSessionWriter, id: number, direction: PacketDirection, timeMs: number, bytes: Uint8Array): boolean {
    if (bytes.length > RING_RECORD_MAX) return this.message(w, id, { t: 'packet', direction, timeMs, bytes: new Uint8Array(bytes) });
    const at = this.place(bytes.length, MESSAGE_RESERVE);
    if (at < 0) return this.giveUp(w, id);
    this.header(at, PACKET, id, timeMs, bytes.length, direction, 0);
    this.ring.set(bytes, at + RECORD_HEADER);
    this.publish(w, false);
    return true;
  }

  /** Hands over a step whose line the thread writes from its fields (it passed directStepOk); false when the ring had no room. */
  stepFields(w: ThreadedSessionWriter, id: number, record: StepRecord, input: Float32Array, output: Float32Array | null): boolean {
    const bound = align8(stepFieldsBound(record));
    const frames = (output === null ? 1 : 2) * FRAME_BYTES;
    const at = this.place(bound + frames, MESSAGE_RESERVE);
    if (at < 0) return this.giveUp(w, id);
    this.header(at, STEP_FIELDS, id, record.step, bound + frames, bound, output === null ? 0 : 1);
    const p = at + RECORD_HEADER;
    writeStepFields(record, this.ring, this.view, p);
    this.ring.set(float32leBytes(input), p + bound);
    if (output !== null) this.ring.set(float32leBytes(output), p + bound + FRAME_BYTES);
    this.publish(w, true);
    return true;
  }

  /** Hands a step over with its line; false when the ring had no room (the writer is stopped). */
  step(w: ThreadedSessionWriter, id: number, step: number, line: Uint8Array, input: Float32Array, output: Float32Array | null): boolean {
    const n = line.length + (output === null ? 1 : 2) * FRAME_BYTES;
    const at = this.place(n, MESSAGE_RESERVE);
    if (at < 0) return this.giveUp(w, id);
    this.header(at, STEP, id, step, n, line.length, output === null ? 0 : 1);
    const p = at + RECORD_HEADER;
    this.ring.set(line, p);
    this.ring.set(float32leBytes(input), p + line.length);
    if (output !== null) this.ring.set(float32leBytes(output), p + line.length + FRAME_BYTES);
    this.publish(w, true);
    return true;
  }

  control(w: ThreadedSessionWriter, id: number, c: Control): void {
    this.message(w, id, c);
  }

  /** The thread is a ring behind: this writer stops, here and there (its manifest says why), as SessionWriter's backlog does. */
  private giveUp(w: ThreadedSessionWriter, id: number): false {
    const error = backlog();
    w.stopped(error);
    this.message(w, id, { t: 'stop', error: errorFields(error) });
    return false;
  }

  /** A message, with a MESSAGE record holding its place among the ring's records. */
  private message(w: ThreadedSessionWriter, id: number, control: Control): boolean {
    const at = this.place(0, 0);
    if (at < 0) {
      w.stopped(backlog());
      return false;
    }
    const seq = this.nextSeq++;
    this.header(at, MESSAGE, id, seq, 0, 0, 0);
    const t = performance.now();
    if (this.dead === null) this.worker.postMessage({ seq, id, control } satisfies ToThread);
    w.metered(performance.now() - t);
    this.publish(w, true);
    return true;
  }

  private header(at: number, kind: number, id: number, a: number, bytes: number, b: number, c: number): void {
    const v = this.view;
    v.setUint32(at + H_KIND, kind, true);
    v.setUint32(at + H_ID, id, true);
    v.setFloat64(at + H_A, a, true);
    v.setUint32(at + H_BYTES, bytes, true);
    v.setUint32(at + H_B, b, true);
    v.setUint32(at + H_C, c, true);
  }

  /** Where a record with an n-byte payload goes in the ring, leaving `reserve` bytes free, or -1 without room. */
  private place(n: number, reserve: number): number {
    const size = align8(RECORD_HEADER + n);
    const p = this.head % RING_BYTES;
    const left = RING_BYTES - p;
    // A record never wraps: it starts over at 0 when the end has no room for it.
    const skip = size > left ? left : 0;
    if (this.head + skip + size - Number(Atomics.load(this.counters, 1)) > RING_BYTES - reserve) return -1;
    if (skip > 0 && left >= RECORD_HEADER) this.header(p, WRAP, 0, 0, 0, 0, 0);
    this.head += skip + size;
    return skip > 0 ? 0 : p;
  }

  /**
   * Published at the end of this turn (one turn's records are one batch for the thread, and what
   * the ring holds bounds what a turn may append: SESSION_ERR_BACKLOG). A turn with a step wakes
   * the thread (Atomics.notify: a kill -9 loses only the step in flight while the thread gets CPU); a turn of packets
   * alone does not (a wake costs the loop a cross-thread wake-up, 10-20 µs on the VM measured):
   * the thread's own PACKET_WAIT_MS timeout brings them in. No timer per turn either: arming
   * and clearing one cost the loop ~10 µs per step.
   */
  private publish(w: ThreadedSessionWriter, wake: boolean): void {
    if (!wake && this.immediate === null) {
      // A packet with nothing held before it (a turn that starts with one, as a client's frame
      // does): visible now, no wake and no turn to schedule.
      Atomics.store(this.counters, 0, BigInt(this.head));
      return;
    }
    this.wake ||= wake;
    if (this.immediate !== null) return;
    this.payer = w;
    this.immediate = setImmediate(this.publishTurn);
  }

  private readonly publishTurn = (): void => {
    const t = performance.now();
    this.immediate = null;
    Atomics.store(this.counters, 0, BigInt(this.head));
    if (this.wake) Atomics.notify(this.counters, 0);
    this.wake = false;
    // The turn's first writer pays for it: with one session exactly its cost, with several the same total.
    this.payer?.metered(performance.now() - t);
    this.payer = null;
  };

  private refresh(): void {
    // A writer is registered from create until its close is done: every reply awaited is covered.
    if (this.writers.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private die(err: Error): void {
    if (this.dead !== null) return;
    this.dead = new SessionError('SESSION_ERR_IO', `the session writer thread stopped: ${err.message}`, { cause: err });
    if (thread === this) thread = null;
    for (const w of [...this.writers.values()]) w.stopped(this.dead);
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
   * Starts the writer thread now rather than with the first session. Until a session's folder
   * exists a kill loses all of it, answered steps included, and a thread started with the
   * session took hundreds of ms to load under load (a kill test lost a session it had answered).
   */
  static prestart(): void {
    thread ??= new WriterThread();
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
    if (!this.t.packet(this, this.id, direction, timeMs, bytes)) {
      this.droppedCount++;
      return;
    }
    this.counts.packets++;
    this.counts.packetBytes += bytes.length;
  }

  /** As SessionWriter.appendStep: checked and encoded here (same errors, thrown here), written there. */
  appendStep(record: StepRecord, input: Float32Array, output: Float32Array | null): void {
    // Checked here either way; the usual step (no events) has its line written by the thread.
    const later = checkedForLater(record, input, output, this.lastStep);
    const line = later ? null : checkedStepLine(record, input, output, this.lastStep);
    if (!this.accepting()) return;
    this.lastStep = record.step;
    if (!(line === null ? this.t.stepFields(this, this.id, record, input, output) : this.t.step(this, this.id, record.step, line, input, output))) {
      this.droppedCount++;
      return;
    }
    this.counts.steps++;
    this.counts.inputSamples += FRAME_SAMPLES;
    this.counts.outputSamples += FRAME_SAMPLES;
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

  /** Stops this writer (its thread died, or cannot keep up): fail, and settle whatever waits. */
  stopped(error: SessionError): void {
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
