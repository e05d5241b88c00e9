// The voice-activity / turn detector (harness/measure/vad.ts, turns.ts) on real speech with
// known turns: espeak-ng utterances placed at chosen times on a user track and a model track
// (24 kHz via the project's resampler). Ground truth is each clip's first and last sample
// above -60 dBFS (espeak pads with digital silence), shifted by where it was placed. The
// test prints the onset/offset errors it measured. Bounds: onset within minSpeechMs + 2 hops;
// offset never more than 3 hops late (the hangover is not part of a segment) and early by at
// most the hangover: a soft ending below the threshold is cut (espeak's en+f3 voice ends with
// ~110 ms at -45..-56 dBFS), which is the detector's real accuracy, measured here.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toMono24k } from '../../../src/audio/resample.ts';
import { readWavSync } from '../../../src/audio/wav-file.ts';
import { detectSpeech, turnTaking, VAD_DEFAULTS, type Segment } from '../../../harness/measure/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'solacelive-vad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const RATE = 24000;

function speak(text: string, voice: string): Float32Array {
  const path = join(dir, `${text.replace(/\W+/g, '_')}-${voice}.wav`);
  execFileSync('espeak-ng', ['-v', voice, '-s', '160', '-w', path, text]);
  const w = readWavSync(path);
  return toMono24k(w.channels, w.sampleRate).samples;
}

/** Places clips at times (ms) on a track of `totalMs`; returns the track and each clip's true speech segment. */
function track(totalMs: number, clips: readonly { at: number; pcm: Float32Array }[]): { pcm: Float32Array; truth: Segment[] } {
  const pcm = new Float32Array(Math.round((totalMs * RATE) / 1000));
  const truth: Segment[] = [];
  const floor = 10 ** (-60 / 20);
  for (const c of clips) {
    const at = Math.round((c.at * RATE) / 1000);
    pcm.set(c.pcm, at);
    let first = 0;
    while (first < c.pcm.length && Math.abs(c.pcm[first]!) < floor) first++;
    let last = c.pcm.length - 1;
    while (last > first && Math.abs(c.pcm[last]!) < floor) last--;
    truth.push({ startMs: ((at + first) * 1000) / RATE, endMs: ((at + last + 1) * 1000) / RATE });
  }
  return { pcm, truth };
}

describe('turn detector on espeak-ng speech with known turns', () => {
  it('finds each utterance with small onset/offset errors, and the turn-taking figures the placement implies', () => {
    const user = track(12000, [
      { at: 300, pcm: speak('hello there how are you', 'en') },
      { at: 3600, pcm: speak('tell me about the weather', 'en') },
      // Barge-in: the user speaks over the model's long answer.
      { at: 7000, pcm: speak('wait stop', 'en') },
    ]);
    const model = track(12000, [
      { at: 2100, pcm: speak('I am fine thank you', 'en+f3') },
      { at: 5400, pcm: speak('it is sunny and warm today with a light wind from the west', 'en+f3') },
    ]);
    const u = detectSpeech(user.pcm);
    const m = detectSpeech(model.pcm);
    expect(u, JSON.stringify({ u, truth: user.truth })).toHaveLength(user.truth.length);
    expect(m, JSON.stringify({ m, truth: model.truth })).toHaveLength(model.truth.length);
    const errors = [...u.map((s, i) => [s, user.truth[i]!] as const), ...m.map((s, i) => [s, model.truth[i]!] as const)].map(([s, t]) => ({ onset: s.startMs - t.startMs, offset: s.endMs - t.endMs }));
    console.log(`VAD errors (detected - true, ms): ${errors.map((e) => `onset ${e.onset.toFixed(1)} offset ${e.offset.toFixed(1)}`).join('; ')}`);
    const hop = VAD_DEFAULTS.hopMs;
    for (const e of errors) {
      expect(Math.abs(e.onset)).toBeLessThanOrEqual(VAD_DEFAULTS.minSpeechMs + 2 * hop);
      expect(e.offset).toBeLessThanOrEqual(3 * hop);
      expect(e.offset).toBeGreaterThanOrEqual(-VAD_DEFAULTS.hangoverMs);
    }

    const truthTurns = turnTaking(user.truth, model.truth);
    const found = turnTaking(u, m);
    expect(found.responseGapsMs).toHaveLength(truthTurns.responseGapsMs.length);
    expect(truthTurns.responseGapsMs).toHaveLength(2);
    for (const [i, g] of found.responseGapsMs.entries()) expect(Math.abs(g - truthTurns.responseGapsMs[i]!)).toBeLessThanOrEqual(VAD_DEFAULTS.minSpeechMs + 2 * hop + VAD_DEFAULTS.hangoverMs);
    expect(found.bargeIns).toHaveLength(1);
    expect(truthTurns.bargeIns).toHaveLength(1);
    expect(Math.abs(found.bargeIns[0]!.yieldMs - truthTurns.bargeIns[0]!.yieldMs)).toBeLessThanOrEqual(VAD_DEFAULTS.minSpeechMs + 2 * hop + VAD_DEFAULTS.hangoverMs);
    expect(found.overlaps.count).toBe(truthTurns.overlaps.count);
  });
});
