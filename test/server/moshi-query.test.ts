// The /api/chat query string: sampling and seeds applied and checked, every other parameter
// recorded and listed as ignored, credentials never recorded (the manifest keeps `params`).
import { describe, expect, it } from 'vitest';
import { DEFAULT_SAMPLING } from '../../src/engine/types.ts';
import { INPUT_FRAMING } from '../../src/audio/opus/input-frames.ts';
import { inputFramingQuery, parseMoshiQuery } from '../../src/server/moshi-query.ts';

describe('parseMoshiQuery', () => {
  it('applies what Kyutai\'s web client sends', () => {
    const r = parseMoshiQuery('?text_temperature=0.7&text_topk=25&audio_temperature=0.8&audio_topk=250&pad_mult=0&text_seed=7&audio_seed=9&repetition_penalty_context=64&repetition_penalty=1');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.query.start).toEqual({ seed: 7, audioSeed: 9, sampling: { textTemperature: 0.7, textTopK: 25, audioTemperature: 0.8, audioTopK: 250 }, record: false, pace: 'realtime' });
    expect(r.query.ignored).toEqual(['pad_mult', 'repetition_penalty_context', 'repetition_penalty']);
  });

  it('uses the defaults and draws the seed when nothing is given', () => {
    const r = parseMoshiQuery('');
    expect(r.ok && r.query.start).toEqual({ seed: null, audioSeed: null, sampling: DEFAULT_SAMPLING, record: false, pace: 'realtime' });
  });

  it('never records credentials or e-mail addresses', () => {
    const r = parseMoshiQuery('?token=s3cret-token-value&worker_auth_id=s3cret-2&email=a%40b.example&text_seed=1');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.query.params).toEqual({ text_seed: '1' });
    expect(JSON.stringify(r.query)).not.toMatch(/s3cret|a@b/);
  });

  it('lists unknown parameters (a typo included) as ignored, and refuses a repeated one rather than apply one value and record another', () => {
    const r = parseMoshiQuery('?text_temperatur=0.5&text_topk=10');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.query.ignored).toEqual(['text_temperatur']);
    expect(r.query.start.sampling.textTopK).toBe(10);
    const twice = parseMoshiQuery('?text_topk=10&text_topk=99');
    expect(twice.ok).toBe(false);
    if (!twice.ok) expect(twice.message).toMatch(/text_topk/);
  });

  it('input_framing (SolaceLive\'s, for replaying old sessions): today\'s framing by default, the old one when asked, a bad name refused', () => {
    const none = parseMoshiQuery('?text_seed=1');
    expect(none.ok && none.query.inputFraming).toBe(INPUT_FRAMING);
    const old = parseMoshiQuery('?input_framing=decoded');
    expect(old.ok && old.query.inputFraming).toBe('decoded');
    expect(old.ok && old.query.ignored).toEqual([]);
    const bad = parseMoshiQuery('?input_framing=raw');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toBe('input_framing must be one of encoder, decoded, got "raw"');
    // A replay asks for a session's recorded framing: none recorded is the old one; today's needs no parameter.
    expect(inputFramingQuery({ opus: 'x' })).toEqual({ input_framing: 'decoded' });
    expect(inputFramingQuery({ inputFraming: INPUT_FRAMING })).toEqual({});
  });

  it('refuses bad values, naming the parameter', () => {
    for (const [q, msg] of [
      ['text_temperature=hot', /text_temperature must be a number/], ['text_topk=0', /text_topk must be an integer >= 1/],
      ['audio_topk=2.5', /audio_topk must be an integer/], ['audio_temperature=70', /audio_temperature must be a number in 0\.\.10/],
      ['text_seed=-1', /text_seed must be an integer in 0\.\.4294967295/], ['audio_seed=4294967296', /audio_seed/],
    ] as const) {
      const r = parseMoshiQuery(`?${q}`);
      expect(r.ok, q).toBe(false);
      if (!r.ok) expect(r.message).toMatch(msg);
    }
  });
});
