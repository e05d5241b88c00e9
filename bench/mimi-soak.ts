// Native memory over a long Mimi session: 10,000 streaming encode+decode steps of the
// reference tiny Mimi (about 13 minutes of audio), RSS sampled every 500 steps.
//   node --expose-gc bench/mimi-soak.ts [--steps N] [--warmup N] [--limit-mb MB] [--gc-every N] [--config C --weights W]
//
// Memory policy under test (src/models/nn/memory.ts): after every step the loop awaits
// one macrotask, so Node runs the N-API finalizers that free MLX buffers, and when `gc`
// is exposed a minor collection runs every 5 steps. Exit status 1 if RSS grows by more
// than --limit-mb after the warm-up.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { loadMimiConfig, Mimi } from '../src/models/mimi/index.ts';
import { NativeMemoryPacer } from '../src/models/nn/memory.ts';
import { readTensor } from '../src/models/safetensors.ts';

const REF = fileURLToPath(new URL('../../shared/fixtures/reference/', import.meta.url));
const { values } = parseArgs({ options: {
  steps: { type: 'string' }, warmup: { type: 'string' }, 'limit-mb': { type: 'string' }, 'gc-every': { type: 'string' },
  config: { type: 'string' }, weights: { type: 'string' },
} });
const steps = Number(values.steps ?? 10_000);
const warmup = Number(values.warmup ?? 500);
const limitMb = Number(values['limit-mb'] ?? 8);

const mimi = new Mimi(loadMimiConfig(values.config ?? `${REF}mimi_config.json`));
mimi.loadWeights(values.weights ?? `${REF}mimi.safetensors`);
const input = readTensor(`${REF}mimi_goldens.safetensors`, 'input_pcm').data as Float32Array;
const frames = Math.floor(input.length / mimi.frameSize);
const pacer = new NativeMemoryPacer(values['gc-every'] === undefined ? {} : { gcEvery: Number(values['gc-every']) });
const gc = (globalThis as { gc?: () => void }).gc;

const mb = () => process.memoryUsage().rss / 2 ** 20;
async function settledRss(): Promise<number> {
  gc?.();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  return mb();
}

console.log(`Mimi soak: ${steps} encode+decode steps (${((steps * mimi.frameSize) / mimi.sampleRate / 60).toFixed(1)} min of audio), gc ${gc ? 'exposed' : 'not exposed'}`);
console.log('step      RSS MB   ms/step');
const start = performance.now();
let baseline = 0;
let peak = 0;
let last = start;
for (let i = 1; i <= steps; i++) {
  const t = (i - 1) % frames;
  mimi.decodeStep(mimi.encodeStep(input.subarray(t * mimi.frameSize, (t + 1) * mimi.frameSize)));
  // A new session every 40 frames would hide cache growth; keep one session throughout.
  await pacer.step();
  if (i === warmup) baseline = await settledRss();
  if (i % 500 === 0 || i === steps) {
    const now = performance.now();
    const rss = await settledRss();
    peak = Math.max(peak, rss);
    console.log(`${String(i).padStart(6)}  ${rss.toFixed(1).padStart(8)}  ${((now - last) / Math.min(500, i)).toFixed(2).padStart(8)}`);
    last = performance.now();
  }
}
const final = await settledRss();
const growth = final - baseline;
console.log(`\nafter warm-up (${warmup} steps): ${baseline.toFixed(1)} MB; final ${final.toFixed(1)} MB; growth ${growth.toFixed(1)} MB; peak ${peak.toFixed(1)} MB`);
console.log(`total ${((performance.now() - start) / 1000).toFixed(0)} s; ${growth <= limitMb ? 'PASS' : 'FAIL'} (limit ${limitMb} MB)`);
process.exitCode = growth <= limitMb ? 0 : 1;
