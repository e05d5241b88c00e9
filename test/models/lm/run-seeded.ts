// Child process for the cross-process determinism test: runs a seeded LmGen session on
// the reference LM (default sampling: text 0.7/25, audio 0.8/250) and prints its frames
// as JSON. Usage: node run-seeded.ts SEED STEPS
import { loadLmConfig } from '../../../src/models/lm/config.ts';
import { LmGen } from '../../../src/models/lm/generate.ts';
import { loadLm } from '../../../src/models/lm/weights.ts';
import { goldens, ints, LM_CONFIG, LM_MLX } from './helpers.ts';

const [seed, steps] = process.argv.slice(2).map(Number) as [number, number];
const { lm } = loadLm(loadLmConfig(LM_CONFIG), LM_MLX);
const gen = new LmGen(lm, { seed });
const user = ints(goldens(['step_input_codes']).get('step_input_codes')!);
const frames: unknown[] = [];
for (let t = 0; t < steps; t++) {
  const f = gen.step(user.slice(8 * t, 8 * t + 8));
  frames.push(f ? [f.text, ...f.audio] : null);
}
process.stdout.write(JSON.stringify({ frames, sampler: [gen.sampler.text, gen.sampler.audio] }));
