// The LM against upstream PyTorch on the reference tiny model: the greedy step loop
// (LMGen alignment, depformer chain, logits) and the one-shot forward, for both
// checkpoint layouts. Integer tensors must be equal; floats within 1e-5 × peak.
import { describe, expect, it } from 'vitest';
import { mx } from '../../../src/models/mlx.ts';
import { loadLmConfig } from '../../../src/models/lm/config.ts';
import { LmGen } from '../../../src/models/lm/generate.ts';
import { GREEDY } from '../../../src/models/lm/sampling.ts';
import { loadLm } from '../../../src/models/lm/weights.ts';
import { floats, goldens, ints, LM_CONFIG, LM_MLX, LM_PT, relErr, TOL } from './helpers.ts';

const g = goldens();
const cfg = loadLmConfig(LM_CONFIG);
const S = 40;
const rows = (name: string, width: number) => {
  const all = ints(g.get(name)!);
  return Array.from({ length: all.length / width }, (_, i) => all.slice(i * width, (i + 1) * width));
};

describe.each([
  ['moshi_mlx', LM_MLX],
  ['pytorch', LM_PT],
])('LM goldens, %s layout', (layout, path) => {
  const loaded = loadLm(cfg, path);

  it('detects the layout from the keys', () => {
    expect(loaded.layout).toBe(layout);
    expect(loaded.quant).toBeNull();
  });

  it('greedy LmGen reproduces every step: inputs, tokens, returned frames and logits', () => {
    const gen = new LmGen(loaded.lm, { text: GREEDY, audio: GREEDY, capture: true });
    const user = rows('step_input_codes', 8);
    const got = { input: [] as number[][], text: [] as number[], audio: [] as number[][], out: [] as number[][], returned: [] as number[] };
    const hidden: number[] = [];
    const textLogits: number[] = [];
    const audioLogits: number[] = [];
    for (let t = 0; t < S; t++) {
      const frame = gen.step(user[t]!);
      const tr = gen.lastTrace!;
      got.input.push(Array.from(tr.modelInput));
      got.text.push(tr.textToken);
      got.audio.push(Array.from(tr.audioTokens));
      got.returned.push(frame ? 1 : 0);
      got.out.push(frame ? [frame.text, ...frame.audio] : Array(9).fill(-2));
      hidden.push(...tr.hidden!);
      textLogits.push(...tr.textLogits!);
      audioLogits.push(...tr.audioLogits!);
    }
    expect(got.input).toEqual(rows('step_model_input', 17));
    expect(got.text).toEqual(ints(g.get('step_text_token')!));
    expect(got.audio).toEqual(rows('step_audio_tokens', 8));
    expect(got.returned).toEqual(ints(g.get('step_out_returned')!));
    expect(got.out).toEqual(rows('step_out_tokens', 9));
    for (const [mine, name] of [[hidden, 'step_transformer_out'], [textLogits, 'step_text_logits'], [audioLogits, 'step_audio_logits']] as const) {
      const e = relErr(mine, floats(g.get(name)!));
      expect(e.rel, `${name}: max |Δ| ${e.maxAbs} at peak ${e.peak}`).toBeLessThanOrEqual(TOL);
    }
  });

  it('reset() starts an identical session', () => {
    const gen = new LmGen(loaded.lm, { text: GREEDY, audio: GREEDY });
    const user = rows('step_input_codes', 8);
    const run = () => user.slice(0, 6).map((u) => {
      const f = gen.step(u);
      return f ? [f.text, ...f.audio] : null;
    });
    const first = run();
    gen.reset();
    expect(gen.stepIndex).toBe(0);
    expect(run()).toEqual(first);
    expect(first.slice(1)).toEqual(rows('step_out_tokens', 9).slice(1, 6));
  });

  it('one-shot forward matches LMModel.forward: logits, text logits and masks', () => {
    const codes = mx.array(ints(g.get('forward_codes')!), mx.int32).reshape([2, 17, 12]);
    const out = loaded.lm.forward(codes);
    const mask = (out.mask.reshape([-1]).tolist() as boolean[]).map(Number);
    const textMask = (out.textMask.reshape([-1]).tolist() as boolean[]).map(Number);
    expect(mask).toEqual(ints(g.get('forward_mask')!));
    expect(textMask).toEqual(ints(g.get('forward_text_mask')!));
    const logits = out.logits.reshape([-1]).tolist() as number[];
    const gl = floats(g.get('forward_logits')!);
    // NaN exactly where the golden has NaN (masked positions).
    expect(logits.map(Number.isNaN)).toEqual(Array.from(gl, Number.isNaN));
    for (const [mine, name] of [[logits, 'forward_logits'], [out.textLogits.reshape([-1]).tolist() as number[], 'forward_text_logits']] as const) {
      const e = relErr(mine, floats(g.get(name)!));
      expect(e.rel, `${name}: max |Δ| ${e.maxAbs} at peak ${e.peak}`).toBeLessThanOrEqual(TOL);
    }
  });
});
