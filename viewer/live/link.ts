// What the session needs from a wire protocol, so the page speaks either one without ifs
// everywhere: open (handshake included) with the page's options, send 1920-sample frames,
// end, close; and events back in the page's own terms. Two implementations: packet-link.ts
// (SolaceLive packets) and moshi-link.ts (Kyutai's Moshi protocol at /api/chat).
import type { Sampling } from './config.ts';
import type { ServerMessage, TextFinal } from './messages.ts';

export type ProtocolName = 'solacelive' | 'moshi';
export const PROTOCOLS: readonly ProtocolName[] = ['solacelive', 'moshi'];

/** The page's session options, as each protocol carries them (start message or query string). */
export interface LinkStart {
  readonly seed: number | null;
  readonly sampling: Sampling | null;
  readonly record: boolean;
}

/** What the server said about the session once ready (a foreign Moshi server may say less). */
export interface SessionInfo {
  readonly id: string | null;
  readonly model: string;
  readonly untrained: boolean;
  readonly seed: number | null;
  /** The server took the record request (it may still not record: no recorder). */
  readonly record: boolean;
}

/** One text item: a packet TEXT_PARTIAL (step, token, piece) or a Moshi text piece (piece only). */
export interface TextItem {
  readonly seq: number;
  readonly step: number | null;
  readonly token: number | null;
  readonly piece: string | null;
}

export interface LinkEvents {
  /** Reply audio to play; `steps`: the 80 ms steps of reply this completes (for latency and the count). */
  readonly onAudio: (samples: Float32Array, t: number, steps: number) => void;
  readonly onText: (item: TextItem) => void;
  readonly onFinal: (f: TextFinal) => void;
  /** Session messages: gap, events, recording, error (ready and ended have their own paths). */
  readonly onMessage: (m: ServerMessage, t: number) => void;
  /** The session is over by agreement; `steps`: the server's step count, when it says it. */
  readonly onEnded: (steps: number | null, note: string) => void;
  /** The server sent something we cannot use: shown, not fatal. */
  readonly onBadPacket: (message: string) => void;
  readonly onClose: (code: number, reason: string) => void;
}

export interface Link {
  readonly info: SessionInfo;
  /**
   * Leading steps assumed to have no audio, for the latency readout: 0 where the server says
   * which steps have none (packets: 'gap'), the model's warm-up where it cannot (Moshi).
   */
  readonly warmupSteps: number;
  readonly isOpen: boolean;
  /** Microphone audio, in chunks of the protocol's CAPTURE_CHUNK (whole frames for packets). */
  sendChunk(samples: Float32Array): void;
  /** Stop talking: the rest of the reply comes, then the session ends (onEnded, onClose). */
  end(): void;
  /** Closes from this side; no events follow (the page asked for it). */
  close(): void;
}

export type OpenLink = (url: string, start: LinkStart, events: LinkEvents) => Promise<Link>;
