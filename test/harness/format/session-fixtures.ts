// Shared makers for session tests: a manifest init and deterministic step content.
import { pcmHash } from '../../../harness/format.ts';
import type { ManifestInit, PacketRecord, StepRecord } from '../../../harness/format.ts';

export function testInit(): ManifestInit {
  return {
    model: { id: 'tiny', config: { lm: { dim: 64, n_q: 8, dep_q: 8 }, mimi: { frame_rate: 12.5 } }, weights: { 'tiny.safetensors': 'ab'.repeat(32) } },
    seed: 1234,
    sampling: { textTemperature: 0.7, textTopK: 25, audioTemperature: 0.8, audioTopK: 250 },
    platform: {
      os: 'Linux 6.1', arch: 'x64', cpuModel: 'Test CPU', cores: 2, memoryGiB: 8, node: process.version, mlxDevice: 'cpu', metal: false,
      blas: { library: 'openblas-pthread', path: '/usr/lib/libopenblas.so.0', threads: '1', coreType: 'Haswell' },
    },
    software: { package: 'solacelive', version: '0.1.0', gitCommit: '0123456789abcdef0123456789abcdef01234567' },
    meta: { test: true },
  };
}

/** A small PRNG so sessions are the same on every run. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

export interface TestStep {
  readonly record: StepRecord;
  readonly input: Float32Array;
  readonly output: Float32Array | null;
  readonly packets: readonly PacketRecord[];
}

/** Step i: real-looking codes and frames; warm-up and skipped decodes have no output. */
export function makeStep(i: number, timeMs: number, random: () => number): TestStep {
  const input = Float32Array.from({ length: 1920 }, () => random() * 2 - 1);
  const skipped = i === 5;
  const output = i === 0 || skipped ? null : Float32Array.from({ length: 1920 }, () => random() * 2 - 1);
  const record: StepRecord = {
    step: i,
    timeMs,
    inputCodes: Array.from({ length: 8 }, () => Math.floor(random() * 2048)),
    text: i === 0 ? null : Math.floor(random() * 32000),
    textPiece: i === 0 ? null : ['▁hel', 'lo', ' wörld', '🙂'][i % 4]!,
    audioCodes: i === 0 ? null : Array.from({ length: 8 }, () => Math.floor(random() * 2048)),
    pcmHash: output === null ? null : pcmHash(output),
    events: skipped ? [{ kind: 'skipped-decode', reason: 'backpressure' }] : i === 3 ? [{ kind: 'late-frame', seq: 3, lateMs: 12.5 }, { kind: 'missing-frame', replacement: 'silence' }] : [],
    spans: { 'net.recv': random(), 'mimi.encode': 3 * random(), 'lm.temporal': 20 * random(), 'lm.depformer': 10 * random(), 'mimi.decode': 3 * random(), 'step.total': 40 * random() },
  };
  const msg = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
  const packets: PacketRecord[] = [
    { direction: 0, timeMs, bytes: msg(7697) },
    { direction: 1, timeMs: timeMs + 1, bytes: msg(i % 3 === 0 ? 0 : 7697 + 25) },
  ];
  return { record, input, output, packets };
}
