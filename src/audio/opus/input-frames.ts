// The one rule for cutting a Moshi client's Ogg Opus into 1920-sample input frames, used by
// the server (src/server/moshi-wire.ts), by verify's re-decode of a session's client audio,
// by the proxy's tap and by the tests. Two framings, recorded per session in the Moshi wire's
// info (manifest meta.wireInfo.inputFraming):
//   'encoder'  frames fall on the client encoder's boundaries: the stream's pre-skip counts as
//              input, as silence (codec warm-up, not audio), so frame k is whole once the
//              client's pages for its frame k have arrived (decoded audio lags the encoder's
//              input by the pre-skip, 6.5 ms at 24 kHz: a shift inside the frame, not a wait).
//   'decoded'  frames of the decoded audio with the pre-skip dropped (sessions recorded before
//              `inputFraming` existed): frame k needed the first page of the client's frame
//              k+1, 40 ms later with Kyutai's pages.
// Either way the input's end (the EOS page) pads the last partial frame with silence.
import { FrameCutter } from '../frame-cutter.ts';
import type { OggPageHeader } from '../ogg/page.ts';
import { OggOpusDecoder } from './decoder.ts';
import type { OpusHead } from './head.ts';
import type { Libopus } from './libopus.ts';

export type InputFraming = 'encoder' | 'decoded';
export const INPUT_FRAMINGS: readonly InputFraming[] = ['encoder', 'decoded'];
/** What a server cuts today. */
export const INPUT_FRAMING: InputFraming = 'encoder';

/**
 * The framing a recorded Moshi session's input frames were cut with, from its wire info
 * (manifest meta.wireInfo): none recorded is the old 'decoded'; a name this build does not
 * know is null.
 */
export function recordedInputFraming(wireInfo: unknown): InputFraming | null {
  const v = wireInfo !== null && typeof wireInfo === 'object' ? (wireInfo as { inputFraming?: unknown }).inputFraming : undefined;
  if (v === undefined) return 'decoded';
  return INPUT_FRAMINGS.find((f) => f === v) ?? null;
}

export interface OpusInputFramesOptions {
  readonly lib: Libopus;
  readonly framing: InputFraming;
  readonly onPage?: (page: OggPageHeader) => void;
}

/** Ogg Opus bytes in (any chunking), whole input frames out, cut by `framing`. */
export class OpusInputFrames {
  readonly framing: InputFraming;
  private readonly decoder: OggOpusDecoder;
  private readonly cutter = new FrameCutter();

  constructor(o: OpusInputFramesOptions) {
    this.framing = o.framing;
    this.decoder = new OggOpusDecoder({ lib: o.lib, onPage: o.onPage, preSkip: o.framing === 'encoder' ? 'silence' : 'drop' });
  }

  get head(): OpusHead | null {
    return this.decoder.head;
  }

  /** Samples waiting for a whole frame. */
  get pending(): number {
    return this.cutter.pending;
  }

  push(bytes: Uint8Array): void {
    this.decoder.push(bytes);
  }

  /**
   * The frames completed by the bytes pushed so far (possibly none). A broken stream (OggError,
   * OpusError) throws once the frames before it have been returned, and on every call after.
   */
  read(): Float32Array[] {
    const frames: Float32Array[] = [];
    for (;;) {
      let pcm: Float32Array;
      try {
        pcm = this.decoder.read();
      } catch (err) {
        if (frames.length === 0) throw err;
        return frames;
      }
      if (pcm.length === 0) return frames;
      frames.push(...this.cutter.push(pcm));
    }
  }

  /** The input ended: the last partial frame, padded with silence; null when none waits. */
  flush(): { readonly frame: Float32Array; readonly paddedSamples: number } | null {
    return this.cutter.flush();
  }

  close(): void {
    this.decoder.close();
  }
}
