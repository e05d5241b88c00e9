// The PCM hash recorded per step (design.md: "a hash of the output PCM"): SHA-256 of the
// samples as float32 little-endian bytes, first 16 bytes as 32 hex digits. Cryptographic
// so that "equal hash" means "equal samples" for replay verdicts; a browser can recompute
// it with crypto.subtle.digest('SHA-256', bytes).
import { createHash } from 'node:crypto';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function pcmHash(samples: Float32Array): string {
  let bytes: Uint8Array;
  if (LITTLE_ENDIAN_HOST) {
    bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  } else {
    bytes = new Uint8Array(samples.length * 4);
    const v = new DataView(bytes.buffer);
    samples.forEach((x, i) => v.setFloat32(i * 4, x, true));
  }
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32);
}
