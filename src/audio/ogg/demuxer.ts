// Reads one Ogg byte stream pushed in arbitrary chunks (pages split or joined across
// WebSocket messages) and hands out whole packets. Parsing is eager and delivery is pulled:
// push() checks every page as soon as its bytes are in, next() returns the packets in order
// and throws the stream's error only after every packet before the bad page was handed out.

import { OggError } from './errors.ts';
import { measureOggPage, OGG_MAX_PAGE_BYTES, OGG_NO_GRANULE, readOggPageHeader, type OggPageHeader } from './page.ts';

export interface OggPacket {
  readonly data: Uint8Array;
  /** Packet number in its logical stream, from 0 (the first packet after BOS). */
  readonly index: number;
  /** The page this packet ends on (its granule position belongs to the last packet ending there). */
  readonly page: OggPageHeader;
  /** Last packet ending on its page: the page's granule position is this packet's end. */
  readonly lastOnPage: boolean;
}

export interface OggDemuxerOptions {
  /** Largest page accepted (default and ceiling: 65307, the largest the format allows). */
  readonly maxPageBytes?: number;
  /** Largest packet accepted, however many pages it spans (default 1 MiB). */
  readonly maxPacketBytes?: number;
  /** Called for each page that passed every check, before its packets are queued. */
  readonly onPage?: (page: OggPageHeader) => void;
}

export interface OggDemuxerStats {
  readonly bytesPushed: number;
  /** Bytes copied into the partial-page buffer: never more than bytesPushed (each byte at most once). */
  readonly bytesBuffered: number;
  readonly pages: number;
  readonly packets: number;
}

const DEFAULT_MAX_PACKET_BYTES = 1 << 20;

export class OggDemuxer {
  private readonly maxPageBytes: number;
  private readonly maxPacketBytes: number;
  private readonly onPage: ((page: OggPageHeader) => void) | undefined;

  // The page being assembled when it arrived in pieces; empty when pages come whole.
  private partial: Uint8Array | null = null;
  private partialLen = 0;
  private partialNeed = 0;
  /** partialNeed is the whole page's length (its segment table is in). */
  private partialSized = false;
  /** Stream offset of the next page's first byte. */
  private offset = 0;

  // A packet continued across pages.
  private packetBuf: Uint8Array | null = null;
  private packetLen = 0;
  private packetOpen = false;

  private inStream = false;
  private serial = 0;
  private nextSequence = 0;
  private lastGranule = OGG_NO_GRANULE;
  private packetIndex = 0;

  private queue: OggPacket[] = [];
  private head = 0;
  private failure: OggError | null = null;
  private ended = false;
  private counts = { bytesPushed: 0, bytesBuffered: 0, pages: 0, packets: 0 };

  constructor(options: OggDemuxerOptions = {}) {
    const { maxPageBytes = OGG_MAX_PAGE_BYTES, maxPacketBytes = DEFAULT_MAX_PACKET_BYTES } = options;
    if (!Number.isInteger(maxPageBytes) || maxPageBytes < 27 || maxPageBytes > OGG_MAX_PAGE_BYTES) {
      throw new OggError('OGG_ERR_BAD_ARGUMENT', `maxPageBytes ${maxPageBytes} is outside 27..${OGG_MAX_PAGE_BYTES}`);
    }
    if (!Number.isInteger(maxPacketBytes) || maxPacketBytes < 0) throw new OggError('OGG_ERR_BAD_ARGUMENT', `maxPacketBytes ${maxPacketBytes} is not a non-negative integer`);
    this.maxPageBytes = maxPageBytes;
    this.maxPacketBytes = maxPacketBytes;
    this.onPage = options.onPage;
  }

  /** The stream's error once a bad page was met (sticky), or null. */
  get error(): OggError | null {
    return this.failure;
  }

  /** True between a BOS page and its EOS page. */
  get inLogicalStream(): boolean {
    return this.inStream;
  }

  get stats(): OggDemuxerStats {
    return { ...this.counts };
  }

  /**
   * Adds bytes. Never throws for what the bytes hold (that is queued behind the packets before
   * it); throws OGG_ERR_CLOSED after end(). After an error, further bytes are counted and ignored.
   */
  push(chunk: Uint8Array): void {
    if (!(chunk instanceof Uint8Array)) throw new OggError('OGG_ERR_BAD_ARGUMENT', 'push() takes a Uint8Array');
    if (this.ended) throw new OggError('OGG_ERR_CLOSED', 'push() after end()');
    this.counts.bytesPushed += chunk.length;
    try {
      this.consume(chunk);
    } catch (err) {
      if (!(err instanceof OggError)) throw err;
      this.failure = err;
    }
  }

  /** No more bytes: a page or packet left incomplete becomes OGG_ERR_INCOMPLETE. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.failure) return;
    if (this.partialLen > 0) {
      const need = this.partialNeed > 0 ? ` of ${this.partialNeed}` : '';
      this.failure = new OggError('OGG_ERR_INCOMPLETE', `stream ended inside the Ogg page at byte ${this.offset} (${this.partialLen}${need} bytes received)`, { offset: this.offset, found: this.partialLen });
    } else if (this.packetOpen) {
      this.failure = new OggError('OGG_ERR_INCOMPLETE', `stream ended inside a packet continued across pages (${this.packetLen} bytes so far)`, { offset: this.offset, found: this.packetLen });
    }
  }

  /** The next packet, null when more bytes are needed (or the stream ended cleanly); throws the stream's OggError once the packets before it are taken. */
  next(): OggPacket | null {
    if (this.head < this.queue.length) {
      const p = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as OggPacket; // let it be collected
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      }
      return p;
    }
    if (this.failure) throw this.failure;
    return null;
  }

  /** All packets ready now (possibly none); throws like next() when none is left and the stream failed. */
  take(): OggPacket[] {
    if (this.head === this.queue.length && this.failure) throw this.failure;
    const out = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    return out;
  }

  private consume(chunk: Uint8Array): void {
    let pos = 0;
    if (this.failure) return;
    while (pos < chunk.length) {
      if (this.partialLen === 0) {
        // Fast path: a page whole inside the chunk is read where it lies, without a copy.
        const avail = chunk.length - pos;
        const m = measureOggPage(chunk, pos, avail, this.offset, this.maxPageBytes);
        if (m.complete) {
          this.readPage(chunk, pos, m.need);
          pos += m.need;
          continue;
        }
        this.ensurePartial();
        this.partial!.set(chunk.subarray(pos), 0);
        this.partialLen = avail;
        this.partialNeed = m.need;
        this.partialSized = avail >= 27 && avail >= 27 + chunk[pos + 26]!;
        this.counts.bytesBuffered += avail;
        return;
      }
      // Slow path: top the partial page up with just the bytes it still needs.
      const take = Math.min(this.partialNeed - this.partialLen, chunk.length - pos);
      this.partial!.set(chunk.subarray(pos, pos + take), this.partialLen);
      this.partialLen += take;
      this.counts.bytesBuffered += take;
      pos += take;
      if (!this.partialSized) {
        // Header still coming in: check the bytes so far, learn the page length once it can be.
        const m = measureOggPage(this.partial!, 0, this.partialLen, this.offset, this.maxPageBytes);
        this.partialNeed = m.need;
        this.partialSized = this.partialLen >= 27 && this.partialLen >= 27 + this.partial![26]!;
      }
      if (this.partialSized && this.partialLen === this.partialNeed) {
        this.readPage(this.partial!, 0, this.partialNeed);
        this.partialLen = 0;
        this.partialNeed = 0;
        this.partialSized = false;
      }
    }
  }

  private ensurePartial(): void {
    // Sized once for the largest page allowed: the pending bytes never exceed one page.
    if (!this.partial) this.partial = new Uint8Array(this.maxPageBytes);
  }

  private readPage(src: Uint8Array, start: number, pageBytes: number): void {
    const page = readOggPageHeader(src, start, pageBytes, this.offset);
    const where = `Ogg page ${page.sequence} at byte ${page.offset}`;
    const ctx = { offset: page.offset, sequence: page.sequence };
    if (!this.inStream) {
      if (!page.bos) throw new OggError('OGG_ERR_BOS', `${where} starts a stream without the BOS flag`, ctx);
      if (page.continued) throw new OggError('OGG_ERR_CONTINUATION', `${where} is the first page of stream ${page.serial} but claims to continue a packet`, ctx);
      this.serial = page.serial;
      this.lastGranule = OGG_NO_GRANULE;
      this.packetIndex = 0;
    } else {
      if (page.bos) throw new OggError('OGG_ERR_BOS', `${where} has the BOS flag inside stream ${this.serial} (no EOS before it)`, ctx);
      if (page.serial !== this.serial) {
        throw new OggError('OGG_ERR_SERIAL', `${where} belongs to stream ${page.serial}, not ${this.serial}; multiplexed streams are not read`, { ...ctx, expected: this.serial, found: page.serial });
      }
      if (page.sequence !== this.nextSequence) {
        throw new OggError('OGG_ERR_SEQUENCE', `${where}: expected page ${this.nextSequence} (a page was lost, repeated or reordered)`, { ...ctx, expected: this.nextSequence, found: page.sequence });
      }
      if (page.continued !== this.packetOpen) {
        throw new OggError('OGG_ERR_CONTINUATION', this.packetOpen
          ? `${where} does not continue the packet left open by the page before it`
          : `${where} claims to continue a packet but the page before it ended its last packet`, ctx);
      }
    }
    if (page.granulePosition !== OGG_NO_GRANULE) {
      if (page.granulePosition < this.lastGranule) {
        throw new OggError('OGG_ERR_GRANULE', `${where} has granule position ${page.granulePosition}, below the earlier ${this.lastGranule}`, { ...ctx, expected: this.lastGranule, found: page.granulePosition });
      }
    }

    // Cut the body into packets; nothing is queued unless the whole page is good.
    const ready: Uint8Array[] = [];
    let body = start + 27 + page.segments;
    let open = this.packetOpen;
    let openLen = this.packetLen;
    let runStart = body; // start of the current packet's bytes on this page
    for (let i = 0; i < page.segments; i++) {
      const v = src[start + 27 + i]!;
      body += v;
      const runLen = body - runStart;
      if ((open ? openLen : 0) + runLen > this.maxPacketBytes) {
        throw new OggError('OGG_ERR_PACKET_TOO_LARGE', `${where}: a packet exceeds ${this.maxPacketBytes} bytes`, { ...ctx, expected: this.maxPacketBytes, found: (open ? openLen : 0) + runLen });
      }
      if (v < 255) {
        if (open) {
          const whole = new Uint8Array(openLen + runLen);
          whole.set(this.packetBuf!.subarray(0, openLen), 0);
          whole.set(src.subarray(runStart, body), openLen);
          ready.push(whole);
          open = false;
          openLen = 0;
        } else {
          ready.push(src.slice(runStart, body));
        }
        runStart = body;
      }
    }
    const tail = body - runStart; // bytes of a packet that goes on past this page
    const continues = page.segments > 0 && src[start + 27 + page.segments - 1] === 255;
    if (page.eos && continues) throw new OggError('OGG_ERR_CONTINUATION', `${where} ends the stream (EOS) inside a packet`, ctx);

    // The page is good: commit.
    if (continues) {
      const base = open ? openLen : 0;
      this.growPacket(base + tail);
      this.packetBuf!.set(src.subarray(runStart, body), base);
      this.packetLen = base + tail;
      this.packetOpen = true;
    } else if (!open) {
      this.packetOpen = false;
      this.packetLen = 0;
    } else {
      // A page of zero segments inside an open packet keeps it open unchanged.
      this.packetOpen = true;
      this.packetLen = openLen;
    }
    this.inStream = !page.eos;
    this.nextSequence = (page.sequence + 1) >>> 0;
    if (page.granulePosition !== OGG_NO_GRANULE) this.lastGranule = page.granulePosition;
    this.offset += pageBytes;
    this.counts.pages++;
    this.onPage?.(page);
    ready.forEach((data, i) => {
      this.queue.push({ data, index: this.packetIndex++, page, lastOnPage: i === ready.length - 1 });
    });
    this.counts.packets += ready.length;
  }

  private growPacket(size: number): void {
    if (this.packetBuf && this.packetBuf.length >= size) return;
    const next = new Uint8Array(Math.min(this.maxPacketBytes, Math.max(size, (this.packetBuf?.length ?? 0) * 2, 4096)));
    if (this.packetBuf) next.set(this.packetBuf.subarray(0, this.packetLen), 0);
    this.packetBuf = next;
  }
}
