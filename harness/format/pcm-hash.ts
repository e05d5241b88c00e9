// The per-step PCM hash (design.md: "a hash of the output PCM"). Defined here, in the format,
// because a session outlives the code that wrote it: the engine's node:crypto version
// (src/engine/pcm-hash.ts) must give the same string, and the viewer recomputes it.
//
// Definition: SHA-256 of the samples as float32 little-endian bytes, first 16 bytes of the
// digest as 32 lowercase hex digits. Cryptographic so that equal hashes mean equal samples for
// the bit-exact verdict; 128 bits is far beyond accidental collision for any session count.
import { sha256, toHex } from './sha256.ts';

export const PCM_HASH_ALGORITHM = 'sha256-128/float32le';
export const PCM_HASH_PATTERN = /^[0-9a-f]{32}$/;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Samples as float32 little-endian bytes: a view on little-endian hosts, a copy otherwise. */
export function float32leBytes(samples: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  const out = new Uint8Array(samples.length * 4);
  const v = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) v.setFloat32(i * 4, samples[i]!, true);
  return out;
}

/** The PCM hash of one step's output samples (sync, browser-safe). */
export function pcmHash(samples: Float32Array): string {
  return toHex(sha256(float32leBytes(samples)).subarray(0, 16));
}
