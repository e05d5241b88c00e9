// What the two append-only logs (packets.bin, steps.jsonl) share: push-style decoding over
// chunks, and the bookkeeping of what was dropped or skipped. Decoders are synchronous push
// parsers so one implementation serves Node streams, browser ReadableStreams and tests that
// cut a file at every byte.
import { ByteWindow } from './bytes.ts';
import { SessionError, recoveryError } from './errors.ts';
import type { SessionRecovery } from './errors.ts';

export interface LogReadOptions {
  /**
   * Skip corrupt records and resynchronise on the next record that validates, reporting each
   * skipped span as a SESSION_ERR_CORRUPT recovery. Without it, the first corrupt record ends
   * the read with a SESSION_ERR_CORRUPT error (every record before it is still delivered).
   */
  readonly salvage?: boolean;
  /** Treat every recovery (a torn tail, a skipped span) as an error instead. */
  readonly strict?: boolean;
  /** Called once per recovery, as soon as it is known. */
  readonly onRecovery?: (recovery: SessionRecovery) => void;
}

export abstract class LogDecoder<T> {
  readonly file: string;
  readonly recoveries: SessionRecovery[] = [];
  /** Set when the read must stop: records returned so far stay valid. */
  error: SessionError | null = null;
  protected readonly window = new ByteWindow();
  protected readonly salvage: boolean;
  private readonly strict: boolean;
  private readonly onRecovery: ((r: SessionRecovery) => void) | undefined;
  private out: T[] = [];
  private skipFrom = -1;
  private skipTo = -1;
  private skipReason = '';
  private ended = false;

  constructor(file: string, options: LogReadOptions) {
    this.file = file;
    this.salvage = options.salvage === true;
    this.strict = options.strict === true;
    this.onRecovery = options.onRecovery;
  }

  /** Records completed by this chunk (the chunk may be reused by the caller afterwards). */
  push(chunk: Uint8Array): T[] {
    if (this.error !== null || this.ended) return [];
    this.window.push(chunk);
    this.parse(false);
    this.window.settle();
    return this.take();
  }

  /** End of file: the records still pending, and the recovery for any torn tail. */
  end(): T[] {
    if (this.ended) return [];
    this.ended = true;
    if (this.error === null) {
      this.parse(true);
      this.flushSkip();
    }
    return this.take();
  }

  /** Bytes consumed so far (the offset parsing has reached). */
  get offset(): number {
    return this.window.base;
  }

  protected abstract parse(final: boolean): void;

  protected emit(record: T): void {
    this.flushSkip();
    if (this.error === null) this.out.push(record);
  }

  /**
   * A record that fails its check at `offset`, spanning `length` bytes. Under salvage the
   * span joins the current skipped span (adjacent failures are one report); otherwise the
   * read stops.
   */
  protected corrupt(offset: number, length: number, reason: string): void {
    if (!this.salvage) {
      this.fail(new SessionError('SESSION_ERR_CORRUPT', `${this.file}: ${reason} at byte ${offset}${this.salvageHint()}`, { file: this.file, offset, length }));
      return;
    }
    if (this.skipFrom >= 0 && offset <= this.skipTo) {
      this.skipTo = Math.max(this.skipTo, offset + length);
      return;
    }
    this.flushSkip();
    this.skipFrom = offset;
    this.skipTo = offset + length;
    this.skipReason = reason;
  }

  /** The file ends `length` bytes into a record that starts at `offset`. */
  protected truncated(offset: number, length: number, what: string): void {
    this.flushSkip();
    this.report({
      code: 'SESSION_ERR_TRUNCATED', file: this.file, offset, length,
      message: `${this.file}: ${what} at byte ${offset}; dropped ${length} byte${length === 1 ? '' : 's'} (a write cut short, e.g. by a crash)`,
    });
  }

  protected fail(error: SessionError): void {
    if (this.error === null) this.error = error;
  }

  protected salvageHint(): string {
    return ' (read with salvage to skip it and recover the records after it)';
  }

  private flushSkip(): void {
    if (this.skipFrom < 0) return;
    const offset = this.skipFrom;
    const length = this.skipTo - this.skipFrom;
    this.skipFrom = this.skipTo = -1;
    this.report({
      code: 'SESSION_ERR_CORRUPT', file: this.file, offset, length,
      message: `${this.file}: skipped ${length} corrupt byte${length === 1 ? '' : 's'} at byte ${offset} (${this.skipReason})`,
    });
  }

  private report(r: SessionRecovery): void {
    if (this.strict) {
      this.fail(recoveryError(r));
      return;
    }
    this.recoveries.push(r);
    this.onRecovery?.(r);
  }

  private take(): T[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

/** Runs a decoder over chunks: yields records as they complete, then throws its error if any. */
export async function* decodeChunks<T>(decoder: LogDecoder<T>, chunks: AsyncIterable<Uint8Array>): AsyncGenerator<T> {
  for await (const chunk of chunks) {
    yield* decoder.push(chunk);
    if (decoder.error !== null) throw decoder.error;
  }
  yield* decoder.end();
  if (decoder.error !== null) throw decoder.error;
}
