// The live page's Moshi-protocol parts that run without a browser: the /api/chat URL it opens,
// the metadata and error texts it reads, and its Ogg Opus both ways (viewer/live/moshi-*.ts)
// with the real libopus build. The e2e (test/e2e/live.test.ts) runs them against `serve`.
import { describe, expect, it } from 'vitest';
import { isOggError, loadLibopusNode, MOSHI_SERVER_SHAPE, OggDemuxer, OggOpusDecoder, OggOpusEncoder, parseOpusHead } from '../../src/audio/index.ts';
import { decodeMoshi } from '../../src/protocol/moshi/index.ts';
import { parseMoshiQuery } from '../../src/server/moshi-query.ts';
import { MicPages, ReplyAudio } from '../../viewer/live/moshi-audio.ts';
import { messageFromMetadata, moshiChatUrl, parseMoshiError, sessionFromMetadata } from '../../viewer/live/moshi-messages.ts';

const start = { seed: null, sampling: null, record: false } as const;
const tone = (n: number, from = 0) => Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin((from + i) / 9));

describe('moshiChatUrl', () => {
  it('puts /api/chat on a bare server URL and keeps a given path and token', () => {
    expect(moshiChatUrl('ws://127.0.0.1:8788/', start)).toBe('ws://127.0.0.1:8788/api/chat');
    expect(moshiChatUrl('ws://127.0.0.1:8788', start)).toBe('ws://127.0.0.1:8788/api/chat');
    expect(moshiChatUrl('wss://h.example/proxy/chat?token=abc', start)).toBe('wss://h.example/proxy/chat?token=abc');
    expect(moshiChatUrl('ws://h:1/?token=abc', start)).toBe('ws://h:1/api/chat?token=abc');
  });

  it('carries the seed as text_seed and audio_seed, greedy as temperature 0 / top-k 1, record=1; the server reads them so', () => {
    const url = new URL(moshiChatUrl('ws://h:1/', { seed: 2026, sampling: 'greedy', record: true }));
    expect(Object.fromEntries(url.searchParams)).toEqual({
      text_seed: '2026', audio_seed: '2026', text_temperature: '0', text_topk: '1', audio_temperature: '0', audio_topk: '1', record: '1',
    });
    const q = parseMoshiQuery(url.search);
    expect(q).toMatchObject({ ok: true, query: { start: { seed: 2026, audioSeed: 2026, record: true, sampling: { textTemperature: 0, textTopK: 1, audioTemperature: 0, audioTopK: 1 } }, ignored: [] } });
    // 'default' leaves the server's own defaults; no seed: the server draws one.
    expect(new URL(moshiChatUrl('ws://h:1/', { seed: null, sampling: 'default', record: false })).search).toBe('');
  });
});

describe('Moshi metadata and errors', () => {
  it('splits SolaceLive\'s "CODE: message" and keeps another server\'s free text whole', () => {
    expect(parseMoshiError('ENGINE_UNAVAILABLE: no model: no such folder')).toEqual({ code: 'ENGINE_UNAVAILABLE', message: 'no model: no such folder' });
    expect(parseMoshiError('BAD_HANDSHAKE: bad /api/chat query: text_topk must be an integer >= 1, got 0\nmore'))
      .toEqual({ code: 'BAD_HANDSHAKE', message: 'bad /api/chat query: text_topk must be an integer >= 1, got 0\nmore' });
    expect(parseMoshiError('model crashed')).toEqual({ code: 'SERVER_ERROR', message: 'model crashed' });
  });

  it('reads the session from SolaceLive\'s metadata, and what an upstream server says (its model file only)', () => {
    const ready = { type: 'ready', session: 'abc123', model: 'tiny', untrained: true, seed: 7, record: true };
    expect(sessionFromMetadata([{ lm_model_file: 'tiny', solacelive: ready }], start)).toEqual({ id: 'abc123', model: 'tiny', untrained: true, seed: 7, record: true });
    expect(sessionFromMetadata([{ lm_model_file: 'moshiko.safetensors', text_temperature: 0.7 }], { ...start, seed: 5 }))
      .toEqual({ id: null, model: 'moshiko.safetensors', untrained: false, seed: 5, record: false });
    expect(sessionFromMetadata([], start).model).toMatch(/did not say/);
    expect(messageFromMetadata({ type: 'recording', session: 'abc123', state: 'recording' })).toEqual({ type: 'recording', session: 'abc123', state: 'recording' });
    expect(messageFromMetadata({ lm_model_file: 'x' })).toBeNull();
    // SolaceLive resends its whole metadata with the news under solacelive.recording.
    expect(messageFromMetadata({ lm_model_file: 'tiny', solacelive: { ...ready, recording: { type: 'recording', session: 's1', state: 'stopped', code: 'SESSION_ERR_DISK_FULL' } } }))
      .toEqual({ type: 'recording', session: 's1', state: 'stopped', code: 'SESSION_ERR_DISK_FULL' });
    expect(messageFromMetadata(ready)).toBeNull();
  });
});

describe('Moshi audio (real libopus)', () => {
  it('sends each microphone page as its own 0x01 message, headers first, shaped like Kyutai\'s client (2 × 20 ms per page)', async () => {
    const lib = await loadLibopusNode();
    const mic = new MicPages(lib, 0x1234);
    const first = mic.push(tone(1920));
    // OpusHead, OpusTags, then 80 ms = 4 packets of 20 ms = 2 pages.
    expect(first).toHaveLength(4);
    const later = mic.push(tone(1920, 1920));
    expect(later).toHaveLength(2);
    const messages = [...first, ...later, ...mic.end()];
    const pages = messages.map((m) => {
      const d = decodeMoshi(m);
      if (d.kind !== 'audio') throw new Error(`kind ${d.kind}`);
      return d.data;
    });
    // Exactly one whole page per message, and two 20 ms packets on each audio page (bar the last, EOS).
    let seen = 0;
    const demux = new OggDemuxer({ onPage: () => seen++ });
    const perPage = pages.map((page, i) => {
      demux.push(page);
      let n = 0;
      while (demux.next()) n++;
      expect({ seen, buffered: demux.stats.bytesBuffered }).toEqual({ seen: i + 1, buffered: 0 });
      return n;
    });
    expect(perPage.slice(0, -1)).toEqual([1, 1, 2, 2, 2, 2]);
    const dec = new OggOpusDecoder({ lib });
    for (const p of pages) dec.push(p);
    dec.end();
    const pcm = dec.read();
    expect(pcm.length).toBe(3840);
    expect(parseOpusHead(pagePacket(pages[0]!))).toMatchObject({ channels: 1, inputSampleRate: 24000 });
  });

  it('counts one reply step per 80 ms of the server\'s audio, however the pages are split across messages', async () => {
    const lib = await loadLibopusNode();
    const steps = 12;
    const enc = new OggOpusEncoder({ lib, shape: MOSHI_SERVER_SHAPE, serial: 42 });
    const headers = concat(enc.start());
    const perStep = Array.from({ length: steps }, (_, k) => concat(enc.push(tone(1920, k * 1920))));
    // As SolaceLive sends them: headers, then one message per step.
    const whole = new ReplyAudio(lib);
    expect(whole.push(headers).steps).toBe(0);
    let samples = 0;
    perStep.forEach((m, k) => {
      const r = whole.push(m);
      expect(r.steps, `step ${k}`).toBe(1);
      samples += r.pcm.length;
    });
    expect(whole.steps).toBe(steps);
    const preSkip24 = Math.ceil(enc.preSkip / 2);
    expect(samples).toBe(steps * 1920 - preSkip24);
    // Split at every 37th byte: a step completes only when its last page is in, and all are counted.
    const stream = concat([headers, ...perStep]);
    const split = new ReplyAudio(lib);
    const ends = perStep.reduce<number[]>((acc, m) => [...acc, (acc[acc.length - 1] ?? headers.length) + m.length], []);
    let done = 0;
    for (let at = 0; at < stream.length; at += 37) {
      done += split.push(stream.subarray(at, Math.min(stream.length, at + 37))).steps;
      const end = Math.min(stream.length, at + 37);
      expect(done).toBe(ends.filter((e) => e <= end).length);
    }
    expect(done).toBe(steps);
  });

  it('throws the decoder\'s typed error for reply bytes that are not Ogg', async () => {
    const reply = new ReplyAudio(await loadLibopusNode());
    let err: unknown = null;
    try {
      reply.push(new TextEncoder().encode('this is not an Ogg page at all, not even close'));
    } catch (e) {
      err = e;
    }
    expect(isOggError(err)).toBe(true);
  });
});

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function pagePacket(page: Uint8Array): Uint8Array {
  const demux = new OggDemuxer({});
  demux.push(page);
  return demux.next()!.data;
}
