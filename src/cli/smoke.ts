// `solacelive smoke`: the first thing a new user runs. Loads MLX, multiplies two
// matrices, checks the product against plain JS, and prints where it ran.
import { evaluate, mx } from '../models/mlx.ts';
import { platformFingerprint } from '../models/platform.ts';
import { parseCommandArgs, type Command } from './args.ts';

const N = 256;

function describe(): string[] {
  const fp = platformFingerprint();
  const blas = fp.blas;
  return [
    `node        ${fp.node}`,
    `platform    ${fp.os} ${fp.arch}, ${fp.cpuModel}, ${fp.cores} cores, ${fp.memoryGiB} GiB`,
    `mlx device  ${fp.mlxDevice}${fp.metal ? ' (Metal available)' : ''}`,
    `blas        ${blas.library}${blas.path ? ` (${blas.path})` : ''}`,
    `blas setup  OPENBLAS_NUM_THREADS=${blas.threads ?? '(unset: all cores)'} OPENBLAS_CORETYPE=${blas.coreType ?? '(unset: auto-detect)'}`,
  ];
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } });
  // Deterministic inputs with a closed-form product, so the check needs no second BLAS.
  const a = mx.reshape(mx.divide(mx.arange(0, N * N, 1, mx.float32), N * N), [N, N]);
  const b = mx.ones([N, N], mx.float32);
  const t0 = performance.now();
  const c = mx.matmul(a, b);
  evaluate(c);
  const ms = performance.now() - t0;
  // Row i of a sums to (sum_{j} (iN + j)) / N² = (iN² + N(N-1)/2) / N².
  const row = c.index(Math.floor(N / 2)).tolist() as number[];
  const i = Math.floor(N / 2);
  const want = (i * N * N + (N * (N - 1)) / 2) / (N * N);
  const ok = row.every((v) => Math.abs(v - want) <= 1e-4 * Math.abs(want));
  if (values.json) {
    console.log(JSON.stringify({ ok, matmulMs: ms, platform: platformFingerprint() }, null, 2));
  } else {
    for (const line of describe()) console.log(line);
    console.log(`matmul      ${N}x${N} f32 in ${ms.toFixed(2)} ms: ${ok ? 'correct' : `WRONG (row ${i}: got ${row[0]}, want ${want})`}`);
    console.log(ok ? 'MLX works on this machine.' : 'MLX computed a wrong result: check the BLAS library above.');
  }
  return ok ? 0 : 1;
}

export const command: Command = {
  summary: 'load MLX, run a small computation, print the device and BLAS in use',
  help: [
    'usage: solacelive smoke [--json]',
    '',
    'Loads the MLX binding, multiplies two 256x256 float32 matrices, checks the product',
    'and prints the Node version, CPU, MLX device (cpu, or gpu with Metal), the BLAS',
    'library MLX loaded and its thread/core-type settings. Exit 0 when all is well.',
    '',
    '  --json   print the result and platform fingerprint as JSON',
  ].join('\n'),
  run,
};
