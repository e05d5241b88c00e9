// The writer thread's side of ThreadedSessionWriter (writer-thread.ts): one SessionWriter per
// session, fed the records the server's thread encoded, so the files' CRCs, hashing, write
// calls, fsyncs and manifests never run on the server's event loop. Records come through the
// shared ring in the order the server's thread appended (writer-thread-protocol.ts); replies
// go back only for open, flush, close and a failure.
import { parentPort, workerData } from 'node:worker_threads';
import { FRAME_SAMPLES, type PacketDirection } from './layout.ts';
import { encodeStepLine } from './steps.ts';
import { SessionWriter } from './writer.ts';
import { align8, errorFields, PACKET_WAIT_MS, sessionErrorOf, H_A, H_B, H_BYTES, H_C, H_ID, H_KIND, MESSAGE, PACKET, readStepFields, RECORD_HEADER, STEP, STEP_FIELDS, WRAP, type Control, type FromThread, type ThreadData, type ToThread } from './writer-thread-protocol.ts';

const FRAME_BYTES = FRAME_SAMPLES * 4;

if (!parentPort) throw new Error('writer-thread-worker.ts runs as a worker thread (ThreadedSessionWriter starts it)');
const port = parentPort;
const writers = new Map<number, SessionWriter>();
const reply = (m: FromThread) => port.postMessage(m);

const { ring: ringBuffer, counters: countersBuffer } = workerData as ThreadData;
const ring = new Uint8Array(ringBuffer);
const view = new DataView(ringBuffer);
const counters = new BigInt64Array(countersBuffer);
const RING_BYTES = ring.length;
/** Ring bytes read (monotonic), and messages arrived ahead of their place in the ring. */
let tail = 0;
const waiting = new Map<number, ToThread>();

port.on('message', (m: ToThread) => {
  waiting.set(m.seq, m);
  drain();
});
// Every page of the ring mapped now, here: else the server's thread pays the page faults as it
// first writes each one (~4 µs per 4 KiB page on the VM measured, a tiny step's 30 KiB per step).
// An atomic or of 0: a write (a read would map the shared zero page) that keeps what the
// server's thread may already have written there.
const words = new Int32Array(ringBuffer);
for (let i = 0; i < words.length; i += 1024) Atomics.or(words, i, 0);
void (async () => {
  for (let seen = 0n; ;) {
    // Wakes when a step is published (not when the reader catches up: it may wait on a message),
    // and every PACKET_WAIT_MS while a session is open, for packets published without a wake.
    const r = Atomics.waitAsync(counters, 0, seen, writers.size > 0 ? PACKET_WAIT_MS : Infinity);
    if (r.async) await r.value;
    seen = Atomics.load(counters, 0);
    drain();
  }
})();

/** Applies every published record in order, stopping at a message that has not arrived yet. */
function drain(): void {
  const published = Number(Atomics.load(counters, 0));
  while (tail < published) {
    const p = tail % RING_BYTES;
    if (RING_BYTES - p < RECORD_HEADER || view.getUint32(p + H_KIND, true) === WRAP) {
      tail += RING_BYTES - p;
      continue;
    }
    const kind = view.getUint32(p + H_KIND, true);
    const id = view.getUint32(p + H_ID, true);
    const a = view.getFloat64(p + H_A, true);
    const n = view.getUint32(p + H_BYTES, true);
    const at = p + RECORD_HEADER;
    if (kind === MESSAGE) {
      const m = waiting.get(a);
      if (!m) break; // its message is on its way: the 'message' handler drains on
      waiting.delete(a);
      control(id, m.control);
    } else if (kind === PACKET) {
      // appendPacket copies the message into its record: a view of the ring will do.
      writers.get(id)?.appendPacket(view.getUint32(p + H_B, true) as PacketDirection, ring.subarray(at, at + n), a);
    } else if (kind === STEP_FIELDS) {
      const fieldsBytes = view.getUint32(p + H_B, true);
      const line = encodeStepLine(readStepFields(a, ring, view, at));
      const frames = ring.slice(at + fieldsBytes, at + n); // the files' queues keep these until written
      writers.get(id)?.appendEncodedStep({ step: a, line, input: frames.subarray(0, FRAME_BYTES), output: view.getUint32(p + H_C, true) === 1 ? frames.subarray(FRAME_BYTES, 2 * FRAME_BYTES) : null });
    } else if (kind === STEP) {
      const bytes = ring.slice(at, at + n); // the files' queues keep these until written
      const lineBytes = view.getUint32(p + H_B, true);
      const inputEnd = lineBytes + FRAME_BYTES;
      writers.get(id)?.appendEncodedStep({ step: a, line: bytes.subarray(0, lineBytes), input: bytes.subarray(lineBytes, inputEnd), output: view.getUint32(p + H_C, true) === 1 ? bytes.subarray(inputEnd, inputEnd + FRAME_BYTES) : null });
    }
    tail += align8(RECORD_HEADER + n);
  }
  Atomics.store(counters, 1, BigInt(tail));
}

function control(id: number, c: Control): void {
  switch (c.t) {
    case 'open': {
      let created: SessionWriter | null = null;
      SessionWriter.create(c.dir, c.init, {
        // This thread has nothing else to do: a blocking write costs less than a pool round trip.
        blockingWrites: true,
        ...(c.fsyncIntervalMs === undefined ? {} : { fsyncIntervalMs: c.fsyncIntervalMs }),
        ...(c.maxPendingBytes === undefined ? {} : { maxPendingBytes: c.maxPendingBytes }),
        // With the steps it had accepted: what the recorder tells the client was recorded.
        onError: (error) => reply({ t: 'failed', id, error: errorFields(error), steps: created?.stats.steps ?? 0 }),
      }).then(
        (w) => {
          created = w;
          writers.set(id, w);
          // The wait above may have no timeout (no session was open): start it over with one.
          if (writers.size === 1) Atomics.notify(counters, 0);
          reply({ t: 'opened', id });
        },
        (err: unknown) => reply({ t: 'open-failed', id, error: errorFields(err) }),
      );
      return;
    }
    case 'flush': {
      const w = writers.get(id);
      void (w ? w.flush() : Promise.resolve()).then(() => reply({ t: 'flushed', id }));
      return;
    }
    case 'packet':
      writers.get(id)?.appendPacket(c.direction, c.bytes, c.timeMs);
      return;
    case 'stop':
      writers.get(id)?.stop(sessionErrorOf(c.error));
      return;
    case 'close': {
      const w = writers.get(id);
      writers.delete(id);
      if (!w) return;
      void w.close().then((r) => reply({ t: 'closed', id, status: r.status, error: r.error ? errorFields(r.error) : null, counts: r.counts, dropped: r.dropped }));
      return;
    }
  }
}

