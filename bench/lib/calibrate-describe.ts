// The calibration kernels' sizes and descriptions, apart from calibrate.ts so that code
// that only reads results (figures, the gate) never loads MLX.
import type { CalibrationKernel } from './results.ts';

/** 256 × 256 by 256 × 256 float32: 33.5 MFLOP, ~1 ms on one core of a 2020s x64 CPU. */
export const MATMUL_N = 256;
/** 8 MiB: larger than most L2 caches, so this is a copy through memory. */
export const COPY_BYTES = 8 << 20;
export const REPS = 7;

export const CALIBRATION_DESCRIBE: Record<CalibrationKernel, string> = {
  matmul: `MLX matmul ${MATMUL_N}×${MATMUL_N}×${MATMUL_N} float32 (per round: the fastest of ${REPS} before it and of one between every two samples)`,
  memcpy: `Buffer.copy of ${COPY_BYTES >> 20} MiB (per round: the fastest of ${REPS} before it and of one between every two samples)`,
};
