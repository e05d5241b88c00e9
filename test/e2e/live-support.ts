// Helpers for the live-page e2e: a real `solacelive serve` process (as a user starts it),
// and the fake-microphone WAV Chromium reads.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLibopusNode, MOSHI_CLIENT_SHAPE, OggOpusDecoder, OggOpusEncoder } from '../../src/audio/index.ts';
import { resample } from '../../src/audio/resample.ts';
import { readWavSync, writeWavSync } from '../../src/audio/wav-file.ts';

const BIN = fileURLToPath(new URL('../../bin/solacelive.mjs', import.meta.url));
export const FIXTURE_WAV = fileURLToPath(new URL('../../fixtures/audio/hello.wav', import.meta.url));

/**
 * A production build of the viewer pages into `outDir`, for this test alone: viewer/dist is
 * shared, and a rebuild there (another test run, `solacelive view`) would pull the page's
 * hashed worklet files from under a running test.
 */
export async function buildPages(outDir: string): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: fileURLToPath(new URL('../../viewer/vite.config.ts', import.meta.url)), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
}

export interface Serve {
  readonly url: string;
  /** Everything the server printed (stderr). */
  readonly log: () => string;
  waitForLog(re: RegExp, ms: number): Promise<RegExpExecArray>;
  stop(): Promise<number | null>;
}

/** Starts `solacelive serve --port 0 ARGS` and resolves once it listens. */
export async function startServe(args: readonly string[]): Promise<Serve> {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const waiters = new Set<() => void>();
  child.stderr!.on('data', (d) => {
    log += d;
    for (const w of waiters) w();
  });
  const waitForLog = (re: RegExp, ms: number) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = re.exec(log);
        if (m) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(m);
        } else if (child.exitCode !== null) {
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`serve exited (${child.exitCode}) before printing ${re}:\n${log}`));
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`serve did not print ${re} within ${ms} ms:\n${log}`));
      }, ms);
      waiters.add(check);
      check();
    });
  let url: string;
  try {
    url = (await waitForLog(/listening on (ws:\/\/\S+)/, 30_000))[1]!;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url: `${url}/`,
    log: () => log,
    waitForLog,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', (code) => {
          clearTimeout(t);
          resolve(code);
        });
        child.kill('SIGINT');
      }),
  };
}

/**
 * The fixture speech as a 48 kHz 16-bit PCM WAV in `dir`: what a real microphone delivers
 * and a format Chromium's fake capture device reads (it loops the file).
 */
export function fakeMicWav(dir: string): { path: string; samples24k: Float32Array } {
  const w = readWavSync(FIXTURE_WAV);
  const mono = w.channels[0]!;
  const path = join(dir, 'mic-48k.wav');
  writeWavSync(path, [resample(mono, w.sampleRate, 48000)], 48000, { format: 'pcm16' });
  return { path, samples24k: w.sampleRate === 24000 ? mono : resample(mono, w.sampleRate, 24000) };
}

function decimate(x: Float32Array, k: number): Float32Array {
  const out = new Float32Array(Math.floor(x.length / k));
  for (let i = 0; i < out.length; i++) {
    let a = 0;
    for (let j = 0; j < k; j++) a += x[i * k + j]!;
    out[i] = a / k;
  }
  return out;
}

/** Normalised correlation of `w` with the (looped) reference at each lag in [lo, hi]. */
function scan(w: Float32Array, reference: Float32Array, lo: number, hi: number): { corr: number; lag: number } {
  let ww = 0;
  for (const x of w) ww += x * x;
  const n = reference.length;
  let best = { corr: -1, lag: -1 };
  for (let lag = lo; lag <= hi; lag++) {
    let dot = 0;
    let rr = 0;
    for (let i = 0; i < w.length; i++) {
      const r = reference[(((lag + i) % n) + n) % n]!;
      dot += w[i]! * r;
      rr += r * r;
    }
    const c = dot / Math.sqrt(ww * rr || 1);
    if (c > best.corr) best = { corr: c, lag };
  }
  return best;
}

/**
 * How well `recorded` carries `reference` (looped, as the fake device plays it): the best
 * normalised cross-correlation of a `windowLen`-sample stretch of `recorded` (from `from`)
 * against the reference. The lag is found on an 8× decimated copy, refined at full rate,
 * then to 1/8 sample on 8× upsampled copies: the capture chain starts at an arbitrary
 * sub-sample phase, and half a sample off alone would cost a few percent of correlation.
 * 1 = the same waveform; unrelated audio or silence stays near 0.
 */
export function bestCorrelation(recorded: Float32Array, reference: Float32Array, from: number, windowLen: number): { corr: number; lag: number } {
  const k = 8;
  const w = recorded.subarray(from, from + windowLen);
  const coarse = scan(decimate(w, k), decimate(reference, k), 0, Math.floor(reference.length / k) - 1);
  const fine = scan(w, reference, coarse.lag * k - 2 * k, coarse.lag * k + 2 * k);
  // The reference around that lag (looped), and the window, both at 8× the rate.
  const n = reference.length;
  const margin = 64;
  const seg = Float32Array.from({ length: windowLen + 2 * margin }, (_, i) => reference[(((fine.lag - margin + i) % n) + n) % n]!);
  const up = 8;
  const segUp = resample(seg, 24000, 24000 * up);
  const wUp = resample(w, 24000, 24000 * up);
  const sub = scan(wUp, segUp, (margin - 1) * up, (margin + 1) * up);
  return { corr: sub.corr, lag: (((fine.lag % n) + n) % n) };
}

/**
 * What Opus alone does to the fixture with the page's settings (MOSHI_CLIENT_SHAPE, the same
 * libopus build): encoded and decoded in Node, the worst correlation of its `count` loudest
 * `windowLen` stretches with the fixture. The bound for audio that went through the page's
 * Opus path, derived rather than pinned: Opus is lossy and need not keep phase in every band.
 */
export async function opusRoundTripCorrelation(reference: Float32Array, count: number, windowLen: number): Promise<number> {
  const lib = await loadLibopusNode();
  const enc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 1 });
  const dec = new OggOpusDecoder({ lib });
  for (const page of [...enc.push(reference), ...enc.end()]) dec.push(page);
  dec.end();
  const decoded = dec.read();
  dec.close();
  const starts: { from: number; energy: number }[] = [];
  for (let from = 0; from + windowLen <= decoded.length; from += windowLen) {
    let energy = 0;
    for (const x of decoded.subarray(from, from + windowLen)) energy += x * x;
    starts.push({ from, energy });
  }
  const loud = starts.sort((a, b) => b.energy - a.energy).slice(0, count);
  return Math.min(...loud.map((w) => bestCorrelation(decoded, reference, w.from, windowLen).corr));
}
