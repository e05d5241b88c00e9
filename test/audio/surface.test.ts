// The audio layer is a leaf (imports nothing else from the project but the typed-error base,
// src/errors.ts, itself a leaf that imports nothing) and its browser entry reaches no Node-only
// module: checked on the import graph itself, so a new import that breaks either rule fails
// here even if lint zones change.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as audio from '../../src/audio/index.ts';

const src = resolve(import.meta.dirname, '../../src/audio');
/** opusscript's Emscripten glue: the libopus WebAssembly that Node and the page share. */
const OPUS_GLUE = 'opusscript/build/opusscript_native_wasm.js';
/** The one project file below the audio layer: the typed-error base. */
const ERROR_BASE = resolve(import.meta.dirname, '../../src/errors.ts');
/** Inside src/audio, or the error base. */
const allowed = (file: string) => file.startsWith(`${src}/`) || file === ERROR_BASE;

function graph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const text = readFileSync(file, 'utf8');
    const specs = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);
    seen.set(file, specs);
    for (const s of specs) if (s.startsWith('.')) visit(join(dirname(file), s));
  };
  visit(join(src, entry));
  return seen;
}

describe('audio public surface', () => {
  it('browser.ts reaches no node: or other non-relative module', () => {
    const g = graph('browser.ts');
    expect(g.size).toBeGreaterThan(4);
    for (const [file, specs] of g) {
      expect(specs.filter((s) => !s.startsWith('.')), file).toEqual([]);
      for (const s of specs) expect(allowed(resolve(dirname(file), s)), `${file}: ${s}`).toBe(true);
    }
  });

  it('nothing in src/audio imports outside src/audio but the error base (one npm module: the pinned libopus build)', () => {
    for (const [file, specs] of graph('index.ts')) {
      expect(allowed(file), file).toBe(true);
      if (file === ERROR_BASE) expect(specs, 'the error base imports nothing').toEqual([]);
      for (const s of specs.filter((x) => x.startsWith('.'))) expect(allowed(resolve(dirname(file), s)), `${file}: ${s}`).toBe(true);
      expect(specs.filter((s) => !s.startsWith('.') && !s.startsWith('node:') && s !== OPUS_GLUE), file).toEqual([]);
    }
  });

  it.each(['ogg/index.ts', 'opus/index.ts'])('%s (browser-safe) reaches no node: module', (entry) => {
    for (const [file, specs] of graph(entry)) {
      expect(specs.filter((s) => !s.startsWith('.') && s !== OPUS_GLUE), file).toEqual([]);
    }
  });

  it('index exports the whole surface', () => {
    for (const name of ['decodeWav', 'encodeWav', 'encodeWavHeader', 'readWav', 'writeWav', 'readWavSync', 'writeWavSync', 'resample', 'toMono', 'toMono24k',
      'resamplerSpec', 'splitFrames', 'joinFrames', 'validateFrame', 'JitterBuffer', 'AudioError', 'isAudioError', 'FrameCutter',
      'OggMuxer', 'OggDemuxer', 'OggError', 'oggCrc32', 'OggOpusEncoder', 'OggOpusDecoder', 'OpusError', 'parseOpusHead', 'buildOpusHead',
      'loadLibopusNode', 'fetchLibopus', 'describeLibopus']) {
      expect(typeof (audio as Record<string, unknown>)[name], name).toBe('function');
    }
    expect([audio.SAMPLE_RATE, audio.FRAME_SAMPLES, audio.FRAME_MS]).toEqual([24000, 1920, 80]);
  });
});
