// Calibration kernels, measured in every round of every suite, between the rounds of the
// work they calibrate: a fixed MLX matmul (compute, on the device and BLAS the models use)
// and a memory copy (bandwidth). A figure divided by one of them is a ratio that a slower
// or busier machine moves much less than the figure itself.
import { evaluate, mx, type MxArray } from '../../src/models/mlx.ts';
import type { CalibrationKernel } from './results.ts';
import { COPY_BYTES, MATMUL_N, REPS } from './calibrate-describe.ts';


export class Calibrator {
  private readonly a: MxArray;
  private readonly b: MxArray;
  private readonly src = Buffer.alloc(COPY_BYTES, 7);
  private readonly dst = Buffer.alloc(COPY_BYTES);

  constructor() {
    const key = mx.random.key(1234);
    const [k1, k2] = [mx.random.split(key, 2).index(0), mx.random.split(key, 2).index(1)];
    this.a = mx.random.normal([MATMUL_N, MATMUL_N], mx.float32, 0, 1, k1);
    this.b = mx.random.normal([MATMUL_N, MATMUL_N], mx.float32, 0, 1, k2);
    evaluate(this.a, this.b);
    this.measure(); // first calls pay for kernel selection and page faults
  }

  /**
   * One calibration point: the fastest of `reps` runs of each kernel, ms. The fastest run is
   * the one no other process interrupted: it measures the machine's speed, not its load.
   */
  measure(reps = REPS): Record<CalibrationKernel, number> {
    const mm: number[] = [];
    const cp: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      evaluate(mx.matmul(this.a, this.b));
      const t1 = performance.now();
      this.src.copy(this.dst);
      const t2 = performance.now();
      mm.push(t1 - t0);
      cp.push(t2 - t1);
    }
    return { matmul: Math.min(...mm), memcpy: Math.min(...cp) };
  }
}
