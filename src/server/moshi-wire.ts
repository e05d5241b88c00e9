// The Moshi protocol (Kyutai's web client and servers) as a wire adapter: GET /api/chat,
// one message per item with its kind in the first byte (src/protocol/moshi), Ogg Opus audio
// both ways. The session starts when the connection opens (the query string holds its
// options); the client starts its microphone on the handshake, which is sent once the engine
// has the session. In: Ogg pages in any chunking → demux → Opus decode (one pinned libopus
// build, so replay decodes the same samples) → exact 1920-sample frames on the client
// encoder's boundaries (src/audio/opus/input-frames.ts: the pre-skip counts as silence, so
// frame k is whole when the client's pages for it have arrived). Out: each step's PCM
// as Opus pages (whole pages per message: Kyutai's client does not reassemble them), the text
// piece, errors as kind 0x05, a ping every heartbeat.
import { isOggError } from '../audio/ogg/index.ts';
import { describeLibopus, INPUT_FRAMING, OggOpusEncoder, OpusInputFrames, isOpusError, MOSHI_SERVER_SHAPE, type InputFraming, type Libopus } from '../audio/opus/index.ts';
import type { StepInput, StepOutput } from '../engine/types.ts';
import { concatBytes } from '../protocol/bytes.ts';
import { decodeMoshi, encodeMoshi, MoshiProtocolError, type MoshiMessage } from '../protocol/moshi/index.ts';
import { CLOSE } from './close-codes.ts';
import type { ErrorMessage, ReadyMessage, RecordingMessage } from './messages.ts';
import type { MoshiQuery, MoshiQueryResult } from './moshi-query.ts';
import type { OutItem, OutRole } from './send-queue.ts';
import type { SessionCore, Wire } from './wire.ts';

/** Ogg bytes held until the session streams (the client may send before the handshake). */
const MAX_EARLY_BYTES = 256 * 1024;

export interface MoshiWireOptions {
  /** The parsed query string; a bad one is told to the client and closes the connection. */
  readonly query: MoshiQueryResult;
  /** A fresh libopus instance for this session (its own memory). */
  readonly libopus: () => Promise<Libopus>;
  /** Package version and commit, for the metadata message Kyutai's client shows. */
  readonly build: { readonly version: string; readonly commit: string | null };
}

const item = (m: Exclude<MoshiMessage, { kind: 'unknown' }>, role: OutRole, step: number | null = null, token?: number): OutItem => {
  const bytes = encodeMoshi(m);
  return token === undefined ? { type: m.kind, role, bytes, step } : { type: m.kind, role, bytes, step, token };
};

export class MoshiWire implements Wire {
  readonly protocol = 'moshi' as const;
  readonly framing = { batch: false, stamp: () => undefined };
  readonly startHint = 'engine session';
  private readonly core: SessionCore;
  private readonly o: MoshiWireOptions;
  private lib: Libopus | null = null;
  private input: OpusInputFrames | null = null;
  private encoder: OggOpusEncoder | null = null;
  private early: Uint8Array[] = [];
  private earlyBytes = 0;
  private frames = 0;
  private inputFailed = false;
  /** The client's stream has ended (its EOS page): no more input will come. */
  private eos = false;
  private inputEnded = false;
  private disposed = false;
  /** The metadata message as last sent: Kyutai's client checks every 0x04 against its whole schema, so news goes out inside it. */
  private info_: Record<string, unknown> | null = null;
  /** The step loop takes frames (set with the handshake); before that, input is held. */
  private streaming = false;

  constructor(core: SessionCore, options: MoshiWireOptions) {
    this.core = core;
    this.o = options;
  }

  private get inputFraming(): InputFraming {
    return this.o.query.ok ? this.o.query.query.inputFraming : INPUT_FRAMING;
  }

  info(): Record<string, unknown> {
    return {
      query: this.o.query.ok ? this.o.query.query.params : null,
      ignoredParams: this.o.query.ok ? this.o.query.query.ignored : [],
      // The decoder build that turned the client's pages into the recorded input frames.
      opus: this.lib ? describeLibopus(this.lib.identity) : null,
      // How those frames were cut (sessions without it were cut with the pre-skip dropped).
      inputFraming: this.inputFraming,
    };
  }

  connected(): void {
    if (!this.o.query.ok) {
      this.core.fail('BAD_HANDSHAKE', `bad /api/chat query: ${this.o.query.message}`, CLOSE.POLICY);
      return;
    }
    const query: MoshiQuery = this.o.query.query;
    this.o.libopus().then(
      (lib) => {
        // Closed while libopus loaded: the instance is dropped whole (its memory goes with it).
        if (this.disposed) return;
        this.lib = lib;
        this.input = new OpusInputFrames({ lib, framing: this.inputFraming, onPage: (page) => { if (page.eos) this.eos = true; } });
        this.encoder = new OggOpusEncoder({ lib, shape: MOSHI_SERVER_SHAPE, serial: 42, vendor: 'SolaceLive' });
        this.core.open(query.start);
      },
      (err: Error) => this.core.fail('ENGINE_UNAVAILABLE', `the Opus codec could not load: ${err.message}`, CLOSE.INTERNAL),
    );
  }

  receive(data: Uint8Array, isBinary: boolean, t: number): void {
    if (!this.core.takeInput(t, 1)) return;
    if (!isBinary) {
      this.core.protocolError('NOT_BINARY', 'send binary WebSocket messages: a kind byte, then its payload');
      return;
    }
    let m: MoshiMessage;
    try {
      m = decodeMoshi(data);
    } catch (err) {
      const e = err as MoshiProtocolError;
      this.core.protocolError(e.code, e.message, CLOSE.INVALID_PAYLOAD);
      return;
    }
    switch (m.kind) {
      case 'audio':
        this.audioIn(m.data, t);
        return;
      case 'ping':
        return;
      case 'control':
      case 'metadata':
      case 'handshake':
        // Part of the protocol but meaningless from a client in full duplex: noted, not acted on.
        this.core.event({ kind: 'ignored-message', byte: data[0]!, reason: `${m.kind} from the client has no effect here` });
        return;
      case 'unknown':
        this.core.event({ kind: 'ignored-message', byte: m.byte, reason: `unknown message kind ${m.byte}` });
        return;
      default:
        this.core.protocolError('UNEXPECTED_MESSAGE', `${m.kind} messages go from server to client only`);
    }
  }

  /** Ogg bytes in: decoded frames go to the step loop; a broken stream ends the session after the frames before it. */
  private audioIn(bytes: Uint8Array, t: number): void {
    if (this.inputFailed || this.inputEnded) return;
    // Frames handed to the core before it streams are refused ('not-started'): hold the bytes instead.
    if (!this.input || !this.streaming) {
      this.earlyBytes += bytes.byteLength;
      if (this.earlyBytes > MAX_EARLY_BYTES) {
        this.core.fail('INPUT_OVERFLOW', `${this.earlyBytes} bytes of audio before the session was ready (limit ${MAX_EARLY_BYTES})`, CLOSE.POLICY);
        return;
      }
      // A view into a message ws may reuse: keep a copy.
      this.early.push(bytes.slice());
      return;
    }
    this.input.push(bytes);
    // read() hands out the frames before a bad page or packet and throws on the next call:
    // read until it is empty or throws, so a failure in this message is reported now, not
    // when (if ever) the client sends another.
    let failure: unknown = null;
    const recvMs = this.core.now() - t;
    for (;;) {
      let frames: Float32Array[];
      try {
        frames = this.input.read();
      } catch (err) {
        failure = err;
        break;
      }
      if (frames.length === 0) break;
      for (const frame of frames) {
        const r = this.core.frame(frame, this.frames++, t, recvMs);
        if (r === 'overflow') return;
      }
    }
    if (failure !== null) this.inputBroken(failure);
    else if (this.eos) this.inputEnd(t, recvMs);
  }

  /**
   * The client ended its stream (an EOS page; Kyutai's client closes without one): the last
   * partial frame is padded with silence and stepped, every frame is answered, then the
   * session ends normally, rather than running silent steps until the client closes.
   */
  private inputEnd(t: number, recvMs: number): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    const last = this.input!.flush();
    if (last) this.core.frame(last.frame, this.frames++, t, recvMs);
    this.core.end();
  }

  private inputBroken(err: unknown): void {
    this.inputFailed = true;
    if (isOggError(err) || isOpusError(err)) {
      // Everything decoded before the bad page is stepped and answered; then the session ends.
      this.core.protocolError(err.code, err.message, CLOSE.INVALID_PAYLOAD);
      this.core.end({ code: CLOSE.INVALID_PAYLOAD, reason: `${err.code}: ${err.message}` });
    } else {
      this.core.fail('INTERNAL', `audio input failed: ${(err as Error).message}`, CLOSE.INTERNAL);
    }
  }

  ready(ready: ReadyMessage): OutItem[] {
    const s = ready.sampling;
    // The fields Kyutai's client shows (its ServerInfo), then ours.
    const info = {
      text_temperature: s.textTemperature, text_topk: s.textTopK, audio_temperature: s.audioTemperature, audio_topk: s.audioTopK,
      pad_mult: 0, repetition_penalty_context: 0, repetition_penalty: 1, lm_model_file: ready.model, instance_name: 'solacelive',
      build_info: {
        build_timestamp: '', build_date: '', git_branch: '', git_timestamp: '', git_date: '', git_hash: this.o.build.commit ?? '',
        git_describe: `solacelive ${this.o.build.version}`, rustc_host_triple: '', rustc_version: '', cargo_target_triple: '',
      },
      solacelive: { ...ready, ignoredParams: this.o.query.ok ? this.o.query.query.ignored : [] },
    };
    const headers = this.encoder!.start();
    this.info_ = info;
    this.streaming = true;
    // After the handshake items are sent and the session is announced (this runs inside the core's open).
    queueMicrotask(() => this.releaseEarly());
    return [
      item({ kind: 'metadata', json: info }, 'control'),
      item({ kind: 'handshake', payload: new Uint8Array(0) }, 'control'),
      item({ kind: 'audio', data: concatBytes(headers) }, 'control'),
    ];
  }

  stepped(input: StepInput, out: StepOutput): OutItem[] {
    const items: OutItem[] = [];
    if (out.pcm && this.encoder) {
      items.push(item({ kind: 'audio', data: concatBytes(this.encoder.push(out.pcm)) }, 'audio', input.step));
    }
    if (out.text !== null && out.textPiece) {
      // SentencePiece marks a word start with U+2581; upstream sends it as a space.
      items.push(item({ kind: 'text', text: out.textPiece.replaceAll('\u2581', ' ') }, 'partial', input.step, out.text));
    }
    return items;
  }

  /** The audio that came before the session streamed, decoded now, in order. */
  private releaseEarly(): void {
    const held = this.early;
    this.early = [];
    for (const b of held) {
      if (this.disposed) return;
      this.audioIn(b, this.core.now());
    }
  }

  ended(): OutItem[] {
    return [];
  }

  error(message: ErrorMessage): OutItem {
    return item({ kind: 'error', text: `${message.code}: ${message.message}` }, 'control');
  }

  keepalive(): OutItem {
    return item({ kind: 'ping' }, 'keepalive');
  }

  recording(message: RecordingMessage): OutItem | null {
    if (!this.info_) return null;
    const ours = this.info_.solacelive as Record<string, unknown>;
    this.info_ = { ...this.info_, solacelive: { ...ours, recording: message } };
    return item({ kind: 'metadata', json: this.info_ }, 'control');
  }

  dispose(): void {
    this.disposed = true;
    // The session's libopus instance (its own WebAssembly memory) goes with these references.
    this.input?.close();
    this.input = null;
    this.lib = null;
    this.encoder = null;
    this.early = [];
  }
}
