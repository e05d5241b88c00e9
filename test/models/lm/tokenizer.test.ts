// The SentencePiece .model reader, on a small model file written here with the same
// protobuf layout (pieces with score and type, plus trainer/normalizer fields to skip).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PieceType, TextDetokenizer, parseSentencePieceModel } from '../../../src/models/lm/tokenizer.ts';

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}
const bytesField = (field: number, data: Uint8Array | number[]) => [...varint(field * 8 + 2), ...varint(data.length), ...data];
const varintField = (field: number, v: number) => [...varint(field * 8), ...varint(v)];
function floatField(field: number, v: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v, true);
  return [...varint(field * 8 + 5), ...b];
}

function modelBytes(pieces: [string, number, number][]): Uint8Array {
  const enc = new TextEncoder();
  const out: number[] = [];
  for (const [p, score, type] of pieces) out.push(...bytesField(1, [...bytesField(1, enc.encode(p)), ...floatField(2, score), ...varintField(3, type)]));
  // trainer_spec (2) and normalizer_spec (3) with a nested string and a varint: skipped.
  out.push(...bytesField(2, [...bytesField(1, enc.encode('corpus.txt')), ...varintField(3, 32000)]));
  out.push(...bytesField(3, [...bytesField(1, enc.encode('nmt_nfkc')), ...varintField(3, 1)]));
  return Uint8Array.from(out);
}

const PIECES: [string, number, number][] = [
  ['<unk>', 0, PieceType.UNKNOWN],
  ['<s>', 0, PieceType.CONTROL],
  ['</s>', 0, PieceType.CONTROL],
  ['<pad>', 0, PieceType.CONTROL],
  ['▁Hello', -1.5, PieceType.NORMAL],
  [',', -2, PieceType.NORMAL],
  ['▁wörld', -3.25, PieceType.NORMAL],
  ['<0x21>', 0, PieceType.BYTE],
  ['▁', -4, PieceType.NORMAL],
];

const dir = mkdtempSync(join(tmpdir(), 'solacelive-spm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SentencePiece detokenizer', () => {
  const path = join(dir, 'tokenizer.model');
  writeFileSync(path, modelBytes(PIECES));

  it('reads every piece with its score and type, skipping other fields', () => {
    const pieces = parseSentencePieceModel(modelBytes(PIECES));
    expect(pieces.map((p) => [p.piece, p.score, p.type])).toEqual(PIECES);
  });

  it('maps ids to pieces and shows "▁" as a space, hiding ids 0 and 3', () => {
    const tok = TextDetokenizer.fromFile(path);
    expect(tok.size).toBe(PIECES.length);
    expect(tok.idToPiece(6)).toBe('▁wörld');
    expect(tok.decode([0, 4, 3, 5, 6, 7, 3, 3, 8])).toBe(' Hello, wörld! ');
    expect(tok.display(0)).toBe('');
    expect(tok.display(3)).toBe('');
    expect(tok.display(1)).toBe('');
  });

  it('refuses a file that is not a model, and ids out of range', () => {
    const bad = join(dir, 'bad.model');
    writeFileSync(bad, Uint8Array.from([0x0a, 0x05, 0x01]));
    expect(() => TextDetokenizer.fromFile(bad)).toThrow(/bad\.model: length-delimited field runs past/);
    expect(() => TextDetokenizer.fromFile(join(dir, 'none.model'))).toThrow(/cannot read tokenizer/);
    expect(() => TextDetokenizer.fromFile(path).idToPiece(99)).toThrow(RangeError);
  });
});
