// The writer thread's side of ThreadedSessionWriter (writer-thread.ts): one SessionWriter per
// session, fed the records the server's thread encoded, so the files' CRCs, hashing, write
// calls, fsyncs and manifests never run on the server's event loop. Batches come in the order
// the server's thread appended; replies go back only for open, flush, close and a failure.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { FRAME_SAMPLES, type PacketDirection } from './layout.ts';
import { SessionWriter } from './writer.ts';
import { CONTROL, errorFields, PACKET, RECORD_FIELDS, STEP, type Batch, type Control, type FromThread, type ThreadData } from './writer-thread-protocol.ts';

const FRAME_BYTES = FRAME_SAMPLES * 4;

if (!parentPort) throw new Error('writer-thread-worker.ts runs as a worker thread (ThreadedSessionWriter starts it)');
const port = parentPort;
lowerPriority();
const writers = new Map<number, SessionWriter>();
const reply = (m: FromThread) => port.postMessage(m);

const { ring: ringBuffer, consumed: consumedBuffer } = workerData as ThreadData;
const ring = new Uint8Array(ringBuffer);
const consumed = new BigInt64Array(consumedBuffer);

/** A record's bytes as a copy of its own (the ring is reused once marked consumed). */
function bytesOf(b: Batch, ref: number, n: number): Uint8Array {
  return ref >= 0 ? ring.slice(ref, ref + n) : b.extra[-1 - ref]!;
}

port.on('message', (b: Batch) => {
  const x = b.index;
  for (let i = 0; i < x.length; i += RECORD_FIELDS) {
    const id = x[i + 1]!;
    switch (x[i]) {
      case PACKET:
        writers.get(id)?.appendPacket(x[i + 2] as PacketDirection, bytesOf(b, x[i + 4]!, x[i + 5]!), x[i + 3]);
        break;
      case STEP: {
        const lineBytes = x[i + 4]!;
        const hasOutput = x[i + 5] === 1;
        const bytes = bytesOf(b, x[i + 3]!, lineBytes + (hasOutput ? 2 : 1) * FRAME_BYTES);
        const inputEnd = lineBytes + FRAME_BYTES;
        writers.get(id)?.appendEncodedStep({ step: x[i + 2]!, line: bytes.subarray(0, lineBytes), input: bytes.subarray(lineBytes, inputEnd), output: hasOutput ? bytes.subarray(inputEnd, inputEnd + FRAME_BYTES) : null });
        break;
      }
      case CONTROL:
        control(id, b.controls[x[i + 2]!]!);
        break;
    }
  }
  Atomics.store(consumed, 0, BigInt(b.end));
});

function control(id: number, c: Control): void {
  switch (c.t) {
    case 'open': {
      let created: SessionWriter | null = null;
      SessionWriter.create(c.dir, c.init, {
        ...(c.fsyncIntervalMs === undefined ? {} : { fsyncIntervalMs: c.fsyncIntervalMs }),
        ...(c.maxPendingBytes === undefined ? {} : { maxPendingBytes: c.maxPendingBytes }),
        // With the steps it had accepted: what the recorder tells the client was recorded.
        onError: (error) => reply({ t: 'failed', id, error: errorFields(error), steps: created?.stats.steps ?? 0 }),
      }).then(
        (w) => {
          created = w;
          writers.set(id, w);
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
    case 'close': {
      const w = writers.get(id);
      writers.delete(id);
      if (!w) return;
      void w.close().then((r) => reply({ t: 'closed', id, status: r.status, error: r.error ? errorFields(r.error) : null, counts: r.counts, dropped: r.dropped }));
      return;
    }
  }
}

/**
 * Background work: nice +10 for this thread only (Linux: a thread id is a pid to setpriority),
 * so that waking it to write does not take the core from the server's loop or the engine,
 * which it otherwise does on a busy 2-core machine. Elsewhere, or if refused, it runs as is.
 */
function lowerPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(tid) && tid > 0) setPriority(tid, 10);
  } catch {
    // Not Linux, or not allowed: same priority as the server, still off its loop.
  }
}
