// Writes one logical Ogg stream: packets in, whole pages out. A page closes when the caller
// flushes (a page per message, as Kyutai's client and servers send), when its segment table
// is full (a long packet continues on the next page), or at end().

import { OggError } from './errors.ts';
import { OGG_MAX_SEGMENTS, OGG_NO_GRANULE, writeOggPage } from './page.ts';

export interface OggMuxerOptions {
  /** Stream serial number (u32). */
  readonly serial: number;
  /** Sequence number of the first page; 0 unless continuing another writer's stream. */
  readonly firstSequence?: number;
}

export class OggMuxer {
  readonly serial: number;
  private sequence: number;
  private lacing: number[] = [];
  private body: Uint8Array[] = [];
  private bodyBytes = 0;
  /** Granule of the last packet that ended on the open page, or -1. */
  private pageGranule = OGG_NO_GRANULE;
  /** The open page starts inside a packet begun on the previous one. */
  private continued = false;
  private lastGranule = OGG_NO_GRANULE;
  /** Highest granule already on a written page. */
  private writtenGranule = OGG_NO_GRANULE;
  private pagesWritten = 0;
  private ended = false;

  constructor(options: OggMuxerOptions) {
    const { serial, firstSequence = 0 } = options;
    if (!Number.isInteger(serial) || serial < 0 || serial > 0xffffffff) throw new OggError('OGG_ERR_BAD_ARGUMENT', `serial ${serial} is not an unsigned 32-bit integer`);
    if (!Number.isInteger(firstSequence) || firstSequence < 0 || firstSequence > 0xffffffff) throw new OggError('OGG_ERR_BAD_ARGUMENT', `firstSequence ${firstSequence} is not an unsigned 32-bit integer`);
    this.serial = serial;
    this.sequence = firstSequence;
  }

  /** Pages written so far (the next page's index in this stream). */
  get pageCount(): number {
    return this.pagesWritten;
  }

  /**
   * Adds a packet ending at `granulePosition` (never lower than an earlier packet's; -1 is
   * not allowed for a packet). Returns the pages it filled, usually none: call flush() to
   * close the page now.
   */
  addPacket(packet: Uint8Array, granulePosition: number): Uint8Array[] {
    this.checkOpen();
    if (!(packet instanceof Uint8Array)) throw new OggError('OGG_ERR_BAD_ARGUMENT', 'a packet must be a Uint8Array');
    if (!Number.isSafeInteger(granulePosition) || granulePosition < 0) throw new OggError('OGG_ERR_BAD_ARGUMENT', `granule position ${granulePosition} is not a safe non-negative integer`);
    if (granulePosition < this.lastGranule) {
      throw new OggError('OGG_ERR_GRANULE', `granule position ${granulePosition} is lower than the previous packet's ${this.lastGranule}`, { expected: this.lastGranule, found: granulePosition });
    }
    const pages: Uint8Array[] = [];
    // Lacing: 255-byte segments, then one shorter (possibly 0) segment that ends the packet.
    let at = 0;
    for (;;) {
      if (this.lacing.length === OGG_MAX_SEGMENTS) {
        pages.push(this.closePage(false));
        this.continued = true;
      }
      const n = Math.min(255, packet.length - at);
      this.lacing.push(n);
      if (n > 0) this.body.push(packet.subarray(at, at + n));
      this.bodyBytes += n;
      at += n;
      if (n < 255) break;
    }
    this.pageGranule = granulePosition;
    this.lastGranule = granulePosition;
    // A page whose table is now full closes at once, so the next packet starts a fresh one.
    if (this.lacing.length === OGG_MAX_SEGMENTS) pages.push(this.closePage(false));
    return pages;
  }

  /** Closes the open page if it holds anything; null when there is nothing to write. */
  flush(): Uint8Array | null {
    this.checkOpen();
    return this.lacing.length === 0 ? null : this.closePage(false);
  }

  /**
   * Ends the stream: the open page, or an empty page when nothing is open, goes out with EOS.
   * A stream that wrote no page at all gets a single BOS+EOS page. `finalGranule` replaces the
   * last packet's granule on that page, lower for end trimming (RFC 7845 §4.4), but never
   * below a granule already written on an earlier page.
   */
  end(finalGranule?: number): Uint8Array {
    this.checkOpen();
    if (finalGranule !== undefined) {
      if (!Number.isSafeInteger(finalGranule) || finalGranule < 0) throw new OggError('OGG_ERR_BAD_ARGUMENT', `final granule ${finalGranule} is not a safe non-negative integer`);
      if (finalGranule < this.writtenGranule) {
        throw new OggError('OGG_ERR_GRANULE', `final granule ${finalGranule} is lower than ${this.writtenGranule}, already written on an earlier page`, { expected: this.writtenGranule, found: finalGranule });
      }
      if (this.pageGranule !== OGG_NO_GRANULE) this.pageGranule = finalGranule;
      else this.lastGranule = finalGranule;
    }
    const page = this.closePage(true);
    this.ended = true;
    return page;
  }

  private closePage(eos: boolean): Uint8Array {
    const body = new Uint8Array(this.bodyBytes);
    let at = 0;
    for (const part of this.body) {
      body.set(part, at);
      at += part.length;
    }
    // An empty EOS page carries the stream's last granule: it ends no packet but closes the stream.
    const granulePosition = this.pageGranule === OGG_NO_GRANULE && eos ? Math.max(this.lastGranule, 0) : this.pageGranule;
    const page = writeOggPage({
      continued: this.continued,
      bos: this.pagesWritten === 0,
      eos,
      granulePosition,
      serial: this.serial,
      sequence: this.sequence,
      lacing: this.lacing,
      body,
    });
    if (granulePosition !== OGG_NO_GRANULE) this.writtenGranule = granulePosition;
    this.sequence = (this.sequence + 1) >>> 0;
    this.pagesWritten++;
    this.lacing = [];
    this.body = [];
    this.bodyBytes = 0;
    this.pageGranule = OGG_NO_GRANULE;
    this.continued = false;
    return page;
  }

  private checkOpen(): void {
    if (this.ended) throw new OggError('OGG_ERR_CLOSED', `Ogg stream ${this.serial} already ended`);
  }
}
