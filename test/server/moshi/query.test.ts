// The /api/chat query: what a session records of it (never the credential), which parameters
// it says it ignored (every one it did not act on), and a parameter given twice is refused
// rather than read one way and recorded another.
import { describe, expect, it } from 'vitest';
import { parseMoshiQuery, type MoshiQuery } from '../../../src/server/moshi-query.ts';

function ok(search: string): MoshiQuery {
  const r = parseMoshiQuery(search);
  if (!r.ok) throw new Error(`refused: ${r.message}`);
  return r.query;
}

describe('parseMoshiQuery', () => {
  it("reads Kyutai's client's query: sampling and both seeds", () => {
    const q = ok('?text_temperature=0.7&text_topk=25&audio_temperature=0.8&audio_topk=250&pad_mult=0&text_seed=12&audio_seed=34&repetition_penalty_context=64&repetition_penalty=1');
    expect(q.start).toMatchObject({ seed: 12, audioSeed: 34, sampling: { textTemperature: 0.7, textTopK: 25, audioTemperature: 0.8, audioTopK: 250 } });
    expect(q.ignored).toEqual(['pad_mult', 'repetition_penalty_context', 'repetition_penalty']);
  });

  it('keeps the token (worker_auth_id, token) out of what is recorded: sessions are shared, the token is a secret', () => {
    for (const name of ['worker_auth_id', 'token']) {
      const q = ok(`?${name}=s3cret-token-value&text_seed=1`);
      expect(JSON.stringify(q)).not.toContain('s3cret-token-value');
      expect(q.params).toEqual({ text_seed: '1' });
      expect(q.ignored).toEqual([]);
    }
  });

  it('lists every parameter it did not act on as ignored, a misspelt one included', () => {
    const q = ok('?text_temprature=0.1&audio_topk=5&foo=bar');
    expect(q.ignored).toEqual(['text_temprature', 'foo']);
    expect(q.start.sampling.audioTopK).toBe(5);
    expect(q.params).toEqual({ text_temprature: '0.1', audio_topk: '5', foo: 'bar' });
  });

  it('refuses a parameter given twice, naming it (the session would use one value and record the other)', () => {
    const r = parseMoshiQuery('?text_seed=1&text_seed=2');
    expect(r).toEqual({ ok: false, message: expect.stringMatching(/text_seed is given 2 times/) });
  });

  it('names the bad parameter and value', () => {
    expect(parseMoshiQuery('?audio_topk=0')).toEqual({ ok: false, message: 'audio_topk must be an integer >= 1, got 0' });
    expect(parseMoshiQuery('?text_temperature=11')).toEqual({ ok: false, message: 'text_temperature must be a number in 0..10, got 11' });
    expect(parseMoshiQuery('?audio_seed=-1')).toEqual({ ok: false, message: 'audio_seed must be an integer in 0..4294967295, got -1' });
  });
});
