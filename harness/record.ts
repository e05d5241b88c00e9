// Recording a scripted conversation: a real server (loopback, free port) with the recorder
// on, and the Node client streaming frames into it in real time, exactly as a live user
// would. The stand-in for a microphone session (`solacelive record`, tests, fixtures).
import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { connect } from '../src/client/connect.ts';
import type { SessionResult } from '../src/client/client.ts';
import { connectMoshi, moshiQuery, type MoshiResult } from '../src/client/moshi.ts';
import type { SamplingParams } from '../src/engine/types.ts';
import type { EnginePort } from '../src/server/engine-port.ts';
import type { Pace } from '../src/server/messages.ts';
import type { ServerOptions } from '../src/server/options.ts';
import { createServer } from '../src/server/server.ts';
import { SessionError } from './format/errors.ts';
import { SESSION_FILES } from './format/layout.ts';
import type { CloseResult } from './format/node.ts';
import { Recorder, type RecordingStatus } from './recorder.ts';

export interface RecordOptions {
  /** The session folder to create (NAME.session by convention). */
  readonly out: string;
  /** A started engine (the caller owns it). */
  readonly engine: EnginePort;
  readonly seed?: number;
  /** Moshi protocol only: audio_seed (default: `seed`). */
  readonly audioSeed?: number;
  readonly sampling?: Partial<SamplingParams>;
  readonly pace?: Pace;
  /** The wire protocol the client speaks (default SolaceLive packets; moshi: /api/chat, real time only). */
  readonly protocol?: 'solacelive' | 'moshi';
  /** Ends the input early (the user's Ctrl-C); the session still ends normally and is finalized. */
  readonly signal?: AbortSignal;
  /** Options of the loopback server the session is recorded through (its limits and timings). */
  readonly server?: ServerOptions;
}

export interface RecordResult {
  readonly path: string;
  /** What the client saw (the fields both protocols share: ok, close, framesSent, audioFrames, latency). */
  readonly client: SessionResult | MoshiResult;
  /** The seed the session ran with (the server's pick when none was asked for). */
  readonly seed: number;
  readonly status: RecordingStatus;
  readonly close: CloseResult | null;
}

/**
 * Refuses a session folder the recorder would refuse, before anything streams: the recorder
 * opens the folder only once the session runs and reports a failure when it ends, by which
 * time the whole input has been streamed for nothing. SESSION_ERR_EXISTS when `out` already
 * holds session files, SESSION_ERR_UNWRITABLE when it cannot be made.
 */
export async function checkNewSessionFolder(out: string): Promise<void> {
  const path = resolve(out);
  const info = await stat(path).catch(() => null);
  if (info && !info.isDirectory()) throw new SessionError('SESSION_ERR_UNWRITABLE', `${path} is a file, not a folder; choose a new folder`, { file: path });
  if (info) {
    const clash = (await readdir(path)).filter((n) => (SESSION_FILES as readonly string[]).includes(n));
    if (clash.length > 0) throw new SessionError('SESSION_ERR_EXISTS', `${path} already holds a session (${clash.join(', ')}); choose a new folder`, { file: path });
  }
  // The nearest folder that exists must take a new entry (the recorder creates the rest).
  let parent = info ? path : dirname(path);
  for (;;) {
    const p = await stat(parent).catch(() => null);
    if (p) {
      if (!p.isDirectory()) throw new SessionError('SESSION_ERR_UNWRITABLE', `cannot create ${path}: ${parent} is a file, not a folder`, { file: path });
      break;
    }
    parent = dirname(parent);
  }
  await access(parent, constants.W_OK).catch((err: NodeJS.ErrnoException) => {
    throw new SessionError('SESSION_ERR_UNWRITABLE', `cannot create ${path}: ${parent} is not writable (${err.code ?? err.message})`, { file: path, errno: err.code, cause: err });
  });
}

export async function recordFrames(frames: Iterable<Float32Array> | AsyncIterable<Float32Array>, o: RecordOptions): Promise<RecordResult> {
  const path = resolve(o.out);
  await checkNewSessionFolder(path);
  let close: CloseResult | null = null;
  const recorder = new Recorder({
    dir: dirname(path), mode: 'requested', engineInfo: () => o.engine.info, name: () => basename(path),
    onClosed: (_id, _p, r) => (close = r), meta: { recordedBy: 'solacelive record' },
  });
  const server = createServer({ ...o.server, port: 0, host: '127.0.0.1' }, o.engine, recorder);
  const { url } = await server.start();
  try {
    let result: SessionResult | MoshiResult;
    let seed: number;
    if (o.protocol === 'moshi') {
      if (o.pace === 'fast') throw new Error('the Moshi protocol streams in real time: no fast pace');
      const client = await connectMoshi(url, { query: moshiQuery({ seed: o.seed, audioSeed: o.audioSeed, sampling: o.sampling, record: true }) });
      result = await client.run(frames, o.signal);
      // SolaceLive's metadata names the session's seed (the server's pick when none was asked for).
      if (!result.solacelive) throw new Error('the server sent no SolaceLive metadata on /api/chat');
      seed = result.solacelive.seed;
    } else {
      const client = await connect(url, {
        record: true, pace: o.pace ?? 'realtime',
        ...(o.seed === undefined ? {} : { seed: o.seed }), ...(o.sampling === undefined ? {} : { sampling: o.sampling }),
      });
      seed = client.ready.seed;
      result = await client.run(frames, o.signal);
    }
    await server.stop();
    await recorder.closeAll();
    const status = recorder.status().find((s) => s.path === path);
    if (!status) throw new Error(`the server did not record the session (${path})`);
    return { path, client: result, seed, status, close };
  } finally {
    await server.stop();
  }
}
