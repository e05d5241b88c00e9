import { describe, expect, it } from 'vitest';
import { DEFAULT_SAMPLING, GREEDY, type EngineInfo } from '../../src/engine/types.ts';
import { parseStart, readyMessage, sessionOptions, weightsFingerprint } from '../../src/server/handshake.ts';

describe('parseStart', () => {
  it('accepts a minimal start with defaults: server-chosen seed, default sampling, no recording, real-time pace', () => {
    expect(parseStart({ type: 'start' })).toEqual({ ok: true, start: { seed: null, sampling: DEFAULT_SAMPLING, record: false, pace: 'realtime' } });
  });

  it('takes seed, record, pace and sampling presets or overrides', () => {
    const r = parseStart({ type: 'start', protocol: 1, seed: 42, record: true, pace: 'fast', sampling: 'greedy' });
    expect(r).toEqual({ ok: true, start: { seed: 42, sampling: GREEDY, record: true, pace: 'fast' } });
    const o = parseStart({ type: 'start', sampling: { textTemperature: 0, audioTopK: 50 } });
    expect(o.ok && o.start.sampling).toEqual({ ...DEFAULT_SAMPLING, textTemperature: 0, audioTopK: 50 });
  });

  it.each([
    [{ type: 'hello' }, /first METADATA must be/],
    [[1, 2], /first METADATA must be/],
    [{ type: 'start', seeed: 1 }, /unknown start field "seeed"/],
    [{ type: 'start', protocol: 2 }, /protocol 2 is not supported/],
    [{ type: 'start', seed: -1 }, /seed must be an integer/],
    [{ type: 'start', seed: 2 ** 32 }, /seed must be an integer/],
    [{ type: 'start', seed: 1.5 }, /seed must be an integer/],
    [{ type: 'start', record: 'yes' }, /record must be true or false/],
    [{ type: 'start', pace: 'slow' }, /pace must be/],
    [{ type: 'start', sampling: 'hot' }, /sampling must be/],
    [{ type: 'start', sampling: { temperature: 1 } }, /sampling.temperature is not a sampling parameter/],
    [{ type: 'start', sampling: { textTopK: 0 } }, /textTopK must be an integer >= 1/],
    [{ type: 'start', sampling: { audioTemperature: 70 } }, /audioTemperature must be a number in 0..10/],
  ])('refuses %j naming the problem', (data, message) => {
    const r = parseStart(data);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(message);
  });
});

describe('session options and the ready reply', () => {
  it('uses the client seed, or picks one (reported back, so the session can be replayed)', () => {
    const start = { seed: null, sampling: GREEDY, record: false, pace: 'realtime' as const };
    expect(sessionOptions({ ...start, seed: 7 })).toEqual({ seed: 7, sampling: GREEDY });
    expect(sessionOptions(start, () => 1234)).toEqual({ seed: 1234, sampling: GREEDY });
    const s = sessionOptions(start).seed;
    expect(Number.isInteger(s) && s >= 0 && s <= 0xffffffff).toBe(true);
  });

  it('fingerprints weights independently of key order, and differently for different files', () => {
    const a = weightsFingerprint({ 'lm.safetensors': 'aa', 'mimi.safetensors': 'bb' });
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(weightsFingerprint({ 'mimi.safetensors': 'bb', 'lm.safetensors': 'aa' })).toBe(a);
    expect(weightsFingerprint({ 'lm.safetensors': 'aa', 'mimi.safetensors': 'bc' })).not.toBe(a);
  });

  it('builds the ready reply from the engine info and the session options', () => {
    const info: EngineInfo = {
      model: 'tiny', config: {}, weightsSha256: { 'w.safetensors': 'ff' }, fingerprint: { os: 'x' }, sampleRate: 24000, frameSamples: 1920, untrained: true,
    };
    const limits = { maxMessageBytes: 1, maxInputRate: 2, inputBurst: 3, maxQueuedFrames: 4, deadPeerMs: 5 };
    const r = readyMessage('s1', info, { seed: 9, sampling: GREEDY }, { seed: 9, sampling: GREEDY, record: true, pace: 'fast' }, 5000, limits);
    expect(r).toMatchObject({
      type: 'ready', protocol: 1, session: 's1', model: 'tiny', untrained: true, seed: 9, sampling: GREEDY, record: true, pace: 'fast',
      sampleRate: 24000, frameSamples: 1920, heartbeatMs: 5000, limits, fingerprint: { os: 'x' },
    });
    expect(r.weights).toBe(weightsFingerprint(info.weightsSha256));
  });
});
