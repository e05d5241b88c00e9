// The benches' input audio: a deterministic speech-like signal (two tones and noise) cut
// into frames and looped, so every run and every machine feeds Mimi the same samples.

/** `frames` frames of `frameSize` samples; frame(i) loops over them. */
export function speechLikeFrames(frameSize: number, seed: number, frames = 16): (i: number) => Float32Array {
  const pcm = new Float32Array(frames * frameSize);
  let s = seed >>> 0;
  for (let i = 0; i < pcm.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    pcm[i] = 0.3 * Math.sin(i * 0.031) + 0.2 * Math.sin(i * 0.0071) + 0.05 * (s / 2 ** 32 - 0.5);
  }
  return (i) => pcm.subarray((i % frames) * frameSize, ((i % frames) + 1) * frameSize);
}
