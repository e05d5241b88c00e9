// Bytes of weights one model call reads, for the memory-bandwidth floors of the model suites.
// Mimi's from its config (every used tensor once, float32 as loaded); the LM's come from the
// loaded model itself (Lm.weightBytesByStage: it knows its quantization).
import { expectedCheckpointKeys, type MimiConfig } from '../../src/models/mimi/index.ts';

/** Per 80 ms frame: encodeStep and decodeStep. Codebooks count for both (searched when encoding, gathered when decoding). */
export function mimiWeightBytes(cfg: MimiConfig): { encode: number; decode: number } {
  const used = (k: string) => {
    const m = /^quantizer\.rvq_(first|rest)\.vq\.layers\.(\d+)\._codebook\.embedding_sum$/.exec(k);
    if (m) return Number(m[2]) < (m[1] === 'first' ? cfg.quantizer.nQSemantic : cfg.numCodebooks - cfg.quantizer.nQSemantic);
    return !/_codebook\./.test(k);
  };
  let encode = 0;
  let decode = 0;
  for (const [k, { shape }] of expectedCheckpointKeys(cfg)) {
    if (!used(k)) continue;
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    if (/^(encoder|encoder_transformer|downsample)\./.test(k) || k.endsWith('input_proj.weight')) encode += bytes;
    else if (/^(decoder|decoder_transformer|upsample)\./.test(k) || k.endsWith('output_proj.weight')) decode += bytes;
    else {
      encode += bytes;
      decode += bytes;
    }
  }
  return { encode, decode };
}

export const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(bytes >= 1e7 ? 0 : 2)} MB`;
