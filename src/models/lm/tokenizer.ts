// Text detokenizer: reads the id → piece table of a SentencePiece `.model` file (a
// serialized `ModelProto`), which is all Moshi needs — it never tokenizes text, it only
// shows the pieces it generates. The protobuf is read by hand (field 1 = repeated
// SentencePiece {1: piece, 2: score, 3: type}); other fields are skipped.
import { readFileSync } from 'node:fs';
import { CodedError } from '../../errors.ts';

/** SentencePiece piece types (sentencepiece_model.proto). */
export const PieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface Piece {
  readonly piece: string;
  readonly score: number;
  readonly type: number;
}

export class TokenizerError extends CodedError<'TOKENIZER_ERR_FORMAT'> {
  override readonly name = 'TokenizerError';
  constructor(message: string) {
    super('TOKENIZER_ERR_FORMAT', message);
  }
}

/** Ids Moshi's text stream uses as padding markers: never shown. */
export const HIDDEN_TEXT_IDS: ReadonlySet<number> = new Set([0, 3]);

class Reader {
  pos = 0;
  private readonly buf: Uint8Array;
  readonly end: number;
  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new TokenizerError('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 63) throw new TokenizerError('varint too long');
    }
  }

  /** Skips a field of the given wire type; returns [start, end) for length-delimited ones. */
  field(wire: number): [number, number] | null {
    switch (wire) {
      case 0: this.varint(); return null;
      case 1: this.pos += 8; break;
      case 2: {
        const len = this.varint();
        const start = this.pos;
        this.pos += len;
        if (this.pos > this.end) throw new TokenizerError('length-delimited field runs past its message');
        return [start, this.pos];
      }
      case 5: this.pos += 4; break;
      default: throw new TokenizerError(`unsupported protobuf wire type ${wire}`);
    }
    if (this.pos > this.end) throw new TokenizerError('field runs past its message');
    return null;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

export function parseSentencePieceModel(bytes: Uint8Array): Piece[] {
  const pieces: Piece[] = [];
  const r = new Reader(bytes);
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const span = r.field(tag & 7);
    if (field !== 1 || !span) continue;
    const m = new Reader(bytes, span[0], span[1]);
    let piece = '';
    let score = 0;
    let type: number = PieceType.NORMAL;
    while (m.pos < m.end) {
      const t = m.varint();
      const f = Math.floor(t / 8);
      const w = t & 7;
      if (f === 2 && w === 5) {
        score = new DataView(bytes.buffer, bytes.byteOffset + m.pos, 4).getFloat32(0, true);
        m.pos += 4;
      } else if (f === 3 && w === 0) {
        type = m.varint();
      } else {
        const s = m.field(w);
        if (f === 1 && s) piece = utf8.decode(bytes.subarray(s[0], s[1]));
      }
    }
    pieces.push({ piece, score, type });
  }
  if (pieces.length === 0) throw new TokenizerError('no pieces found: not a SentencePiece model file');
  return pieces;
}

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

export class TextDetokenizer {
  readonly pieces: readonly Piece[];

  constructor(pieces: readonly Piece[]) {
    this.pieces = pieces;
  }

  static fromFile(path: string): TextDetokenizer {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new TokenizerError(`cannot read tokenizer ${path}: ${(err as Error).message}`);
    }
    try {
      return new TextDetokenizer(parseSentencePieceModel(bytes));
    } catch (err) {
      throw new TokenizerError(`${path}: ${(err as Error).message}`);
    }
  }

  get size(): number {
    return this.pieces.length;
  }

  /** The raw piece, as stored ("▁" for word starts). */
  idToPiece(id: number): string {
    const p = this.pieces[id];
    if (!p) throw new RangeError(`tokenizer: id ${id} outside 0..${this.pieces.length - 1}`);
    return p.piece;
  }

  /**
   * What to show for a generated text token: "▁" becomes a space, padding ids (0, 3) and
   * control pieces show nothing, byte pieces become their byte (as Latin-1 when alone).
   */
  display(id: number): string {
    if (HIDDEN_TEXT_IDS.has(id)) return '';
    const p = this.pieces[id];
    if (!p || p.type === PieceType.CONTROL) return '';
    if (p.type === PieceType.BYTE) {
      const m = BYTE_PIECE.exec(p.piece);
      return m ? String.fromCharCode(parseInt(m[1]!, 16)) : '';
    }
    return p.piece.replaceAll('\u2581', ' ');
  }

  decode(ids: readonly number[]): string {
    return ids.map((id) => this.display(id)).join('');
  }
}
