// Recording a scripted conversation: a real server (loopback, free port) with the recorder
// on, and the Node client streaming frames into it in real time, exactly as a live user
// would. The stand-in for a microphone session (`solacelive record`, tests, fixtures).
import { basename, dirname, resolve } from 'node:path';
import { connect } from '../src/client/connect.ts';
import type { SessionResult } from '../src/client/client.ts';
import type { SamplingParams } from '../src/engine/types.ts';
import type { EnginePort } from '../src/server/engine-port.ts';
import type { Pace } from '../src/server/messages.ts';
import { createServer } from '../src/server/server.ts';
import type { CloseResult } from './format/node.ts';
import { Recorder, type RecordingStatus } from './recorder.ts';

export interface RecordOptions {
  /** The session folder to create (NAME.session by convention). */
  readonly out: string;
  /** A started engine (the caller owns it). */
  readonly engine: EnginePort;
  readonly seed?: number;
  readonly sampling?: SamplingParams;
  readonly pace?: Pace;
}

export interface RecordResult {
  readonly path: string;
  readonly client: SessionResult;
  /** The seed the session ran with (the server's pick when none was asked for). */
  readonly seed: number;
  readonly status: RecordingStatus;
  readonly close: CloseResult | null;
}

export async function recordFrames(frames: Iterable<Float32Array> | AsyncIterable<Float32Array>, o: RecordOptions): Promise<RecordResult> {
  const path = resolve(o.out);
  let close: CloseResult | null = null;
  const recorder = new Recorder({
    dir: dirname(path), mode: 'requested', engineInfo: () => o.engine.info, name: () => basename(path),
    onClosed: (_id, _p, r) => (close = r), meta: { recordedBy: 'solacelive record' },
  });
  const server = createServer({ port: 0, host: '127.0.0.1' }, o.engine, recorder);
  const { url } = await server.start();
  try {
    const client = await connect(url, {
      record: true, pace: o.pace ?? 'realtime',
      ...(o.seed === undefined ? {} : { seed: o.seed }), ...(o.sampling === undefined ? {} : { sampling: o.sampling }),
    });
    const seed = client.ready.seed;
    const result = await client.run(frames);
    await server.stop();
    await recorder.closeAll();
    const status = recorder.status().find((s) => s.path === path);
    if (!status) throw new Error(`the server did not record the session (${path})`);
    return { path, client: result, seed, status, close };
  } finally {
    await server.stop();
  }
}
