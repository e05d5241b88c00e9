// The proxy's measuring worker (a worker thread): decodes, measures (MoshiMeter) and records
// (ProxyRecording) what the forwarding loop forwarded, so decoding a message (~0.4 ms) never
// holds up the next one being forwarded. Loaded by Node's own type stripping, as the CLI is.
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { loadLibopusNode } from '../../src/audio/opus/node.ts';
import type { SessionError } from '../format/node.ts';
import { MoshiMeter } from '../measure/index.ts';
import { PROGRESS_BYTES, PROGRESS_MESSAGES, PROGRESS_STOP, type FromWorker, type RecordingEnd, type ToWorker, type WorkerSetup } from './measure-protocol.ts';
import { ProxyRecording } from './recording.ts';

class Connection {
  readonly meter: MoshiMeter;
  rec: ProxyRecording | null = null;
  readonly progress: Int32Array;
  private readonly t0: number;

  constructor(m: Extract<ToWorker, { k: 'open' }>) {
    this.meter = new MoshiMeter(lib, { ...m.meter, onFrame: (side, f) => this.rec?.frame(side, f) });
    this.progress = m.progress;
    this.t0 = m.t0;
  }

  /** ms since the connection started, on the forwarding loop's clock (a worker's performance.now() has its own origin). */
  now(): number {
    return performance.timeOrigin + performance.now() - this.t0;
  }
}

/**
 * Measuring is background work: where nice is per thread (Linux), this thread runs at nice 10 (or
 * its own, if nicer), so on a busy machine the scheduler runs the forwarding loop before it.
 * Elsewhere it stays as is.
 */
function yieldToForwarding(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, Math.max(10, getPriority(tid)));
  } catch {
    // No /proc/thread-self (not Linux) or not allowed: the same priority as forwarding.
  }
}

yieldToForwarding();
const port = parentPort!;
const setup = workerData as WorkerSetup;
const lib = await loadLibopusNode();
const connections = new Map<string, Connection>();
let measured = 0;

const post = (m: FromWorker): void => port.postMessage(m);

async function open(m: Extract<ToWorker, { k: 'open' }>): Promise<void> {
  const c = new Connection(m);
  connections.set(m.id, c);
  if (m.record) {
    const stopped = (e: SessionError) => {
      c.meter.event({ kind: 'recording-stopped', atMs: c.now(), side: 'proxy', message: `${e.code}: ${e.message}`, code: e.code });
      post({ k: 'log', id: m.id, line: `recording stopped (${e.code}: ${e.message}); the connection goes on. Kept: ${m.record?.dir ?? ''}` });
    };
    try {
      c.rec = await ProxyRecording.create(m.record.dir, m.record.init, m.record.warmupFrames, stopped, m.record.maxPendingBytes);
    } catch (err) {
      const e = err as SessionError;
      c.meter.event({ kind: 'recording-failed', atMs: c.now(), side: 'proxy', message: `${e.code ?? 'ERR'}: ${e.message}`, code: e.code });
      post({ k: 'log', id: m.id, line: `not recorded (${e.code ?? 'ERR'}: ${e.message}); forwarding anyway` });
    }
  }
  post({ k: 'opened', id: m.id, path: c.rec?.dir ?? null });
}

function message(c: Connection, m: Extract<ToWorker, { k: 'msg' }>): void {
  // The forwarding loop gave up on this connection's measuring: what is still queued is skipped.
  if (Atomics.load(c.progress, PROGRESS_STOP) !== 0) return;
  if (setup.testBurnMs > 0) for (const until = performance.now() + setup.testBurnMs; performance.now() < until;);
  c.rec?.packet(m.side, m.bytes, m.t);
  c.meter.message(m.side, m.bytes, m.isBinary, m.t);
  Atomics.add(c.progress, PROGRESS_MESSAGES, 1);
  Atomics.add(c.progress, PROGRESS_BYTES, m.bytes.length);
  ++measured;
  if (setup.testCrashAt > 0 && measured === setup.testCrashAt) throw new Error(`test crash after ${measured} messages (testMeasureCrashAt)`);
  // As a write blocked on a dead disk: the thread waits for ever, and only terminate() ends it.
  if (setup.testHangAt > 0 && measured === setup.testHangAt) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

async function finish(id: string, c: Connection, upstream: string): Promise<void> {
  connections.delete(id);
  const figures = c.meter.figures();
  let recording: RecordingEnd = null;
  if (c.rec) {
    const { result, figuresError } = await c.rec.close({ format: 'solacelive.proxy', version: 1, connection: id, upstream, figures });
    const error = result.error ?? figuresError;
    recording = { status: error ? 'failed' : 'complete', error: error ? { code: error.code, message: error.message } : null };
    if (figuresError) post({ k: 'log', id, line: `proxy.json not written (${figuresError.code}: ${figuresError.message})` });
  }
  post({ k: 'finished', id, figures, recording });
}

port.on('message', (m: ToWorker) => {
  if (m.k === 'open') {
    void open(m);
    return;
  }
  const c = connections.get(m.id);
  if (c === undefined) return;
  switch (m.k) {
    case 'msg':
      message(c, m);
      return;
    case 'upstream-open':
      c.meter.upstreamOpen(m.t);
      return;
    case 'event':
      c.meter.event(m.e);
      return;
    case 'end':
      c.meter.end(m.by, m.code, m.reason, m.t);
      return;
    case 'finish':
      void finish(m.id, c, m.upstream);
      return;
    default:
  }
});
if (setup.testHangAtStart) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
post({ k: 'ready' });
