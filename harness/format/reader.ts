// Reading a session, browser-safe: everything works on byte chunks through the SessionFiles
// interface, which the Node adapter (node-files.ts) and the Blob/zip adapter (blob-files.ts)
// implement. Nothing here loads a whole data file: logs are decoded chunk by chunk and WAV
// samples are read by range, so a viewer can open an hour-long session.
import { chunksOf } from './bytes.ts';
import type { ChunkSource } from './bytes.ts';
import { SessionError, recoveryError } from './errors.ts';
import type { SessionRecovery } from './errors.ts';
import { FRAME_SAMPLES, INPUT_WAV, MANIFEST_FILE, OUTPUT_WAV, PACKETS_FILE, SESSION_FILES, STEPS_FILE } from './layout.ts';
import { decodeChunks } from './log.ts';
import type { LogReadOptions } from './log.ts';
import { parseManifest } from './manifest.ts';
import type { SessionManifest, SessionStatus } from './manifest.ts';
import { pcmHash } from './pcm-hash.ts';
import { PacketLogDecoder } from './records.ts';
import type { ReadPacket } from './records.ts';
import { StepLogDecoder } from './steps.ts';
import type { ReadStep } from './steps.ts';
import { decodeFloat32, parseWavLayout } from './wav.ts';
import type { WavLayout } from './wav.ts';

/** A folder of session files, however it is stored (disk, dropped Files, a zip). */
export interface SessionFiles {
  /** For messages: the folder path, or the dropped folder's name. */
  readonly label: string;
  /** Size in bytes, or undefined when the file is absent. */
  size(name: string): Promise<number | undefined>;
  /** Bytes [start, end), clamped to the file. */
  read(name: string, start: number, end: number): Promise<Uint8Array>;
  /** The file from `start` on, in chunks (the reader never asks for it whole). */
  stream(name: string, start?: number): AsyncIterable<Uint8Array>;
}

/** Streams packets.bin records as they complete. Recoveries go to options.onRecovery. */
export function readPackets(source: ChunkSource, options: LogReadOptions = {}): AsyncGenerator<ReadPacket> {
  return decodeChunks(new PacketLogDecoder(options), chunksOf(source));
}

/** Streams steps.jsonl records as they complete. Recoveries go to options.onRecovery. */
export function readSteps(source: ChunkSource, options: LogReadOptions = {}): AsyncGenerator<ReadStep> {
  return decodeChunks(new StepLogDecoder(options), chunksOf(source));
}

export interface OpenSessionOptions extends LogReadOptions {
  /** Open even if data files are absent; reading one then throws SESSION_ERR_MISSING_FILE. */
  readonly allowMissing?: boolean;
}

const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
const WAV_HEAD_BYTES = 4096;

/** Opens a session: reads and validates the manifest, checks the files are there. */
export async function openSessionFiles(files: SessionFiles, options: OpenSessionOptions = {}): Promise<SessionReader> {
  const sizes = new Map<string, number | undefined>();
  for (const name of SESSION_FILES) sizes.set(name, await files.size(name));
  const manifestSize = sizes.get(MANIFEST_FILE);
  if (manifestSize === undefined) {
    if (SESSION_FILES.every((n) => sizes.get(n) === undefined)) {
      throw new SessionError('SESSION_ERR_NOT_A_SESSION', `${files.label} is not a SolaceLive session: it holds no ${MANIFEST_FILE} and none of ${SESSION_FILES.slice(1).join(', ')}`, { file: files.label });
    }
    throw new SessionError('SESSION_ERR_MISSING_FILE', `${files.label} has session files but no ${MANIFEST_FILE}, so it cannot be replayed`, { file: MANIFEST_FILE });
  }
  if (manifestSize > MAX_MANIFEST_BYTES) throw new SessionError('SESSION_ERR_CORRUPT', `${files.label}/${MANIFEST_FILE} is ${manifestSize} bytes, more than any manifest`, { file: MANIFEST_FILE });
  const text = new TextDecoder().decode(await files.read(MANIFEST_FILE, 0, manifestSize));
  const manifest = parseManifest(text, `${files.label}/${MANIFEST_FILE}`);
  const missing = SESSION_FILES.filter((n) => sizes.get(n) === undefined);
  if (missing.length > 0 && options.allowMissing !== true) {
    throw new SessionError('SESSION_ERR_MISSING_FILE', `${files.label} is missing ${missing.join(', ')}`, { file: missing[0]! });
  }
  const reader = new SessionReader(files, manifest, missing, options);
  if (manifest.status === 'recording') {
    reader.report({
      code: 'SESSION_ERR_UNFINALIZED', file: MANIFEST_FILE, offset: 0, length: 0,
      message: `${files.label}: the manifest still says 'recording': the writer never closed (a crash, or it is still running); its counts are not final and the files are read up to their last whole record`,
    });
  }
  return reader;
}

export interface SessionReport {
  readonly status: SessionStatus;
  readonly packets: { readonly count: number; readonly bytes: number; readonly clientToServer: number; readonly serverToClient: number; readonly lastTimeMs: number | null };
  readonly steps: { readonly count: number; readonly first: number | null; readonly last: number | null; readonly gaps: number };
  readonly input: { readonly samples: number; readonly frames: number };
  readonly output: { readonly samples: number; readonly frames: number };
  /**
   * Leading steps whose line and both WAV frames are all present: what a replay can use.
   * After a kill -9 this is at most one less than the steps the process had begun.
   */
  readonly wholeSteps: number;
  /** Output frames checked against their step's pcmHash (verifyPcm), and the steps that differ. */
  readonly pcmChecked: number;
  readonly pcmMismatches: readonly number[];
  readonly recoveries: readonly SessionRecovery[];
}

export class SessionReader {
  readonly files: SessionFiles;
  readonly manifest: SessionManifest;
  /** Data files absent from the folder (only with allowMissing). */
  readonly missing: readonly string[];
  private readonly options: OpenSessionOptions;
  private readonly seen = new Set<string>();
  private readonly found: SessionRecovery[] = [];
  private readonly tracks = new Map<string, Promise<WavTrack>>();

  constructor(files: SessionFiles, manifest: SessionManifest, missing: readonly string[], options: OpenSessionOptions) {
    this.files = files;
    this.manifest = manifest;
    this.missing = missing;
    this.options = options;
  }

  get label(): string {
    return this.files.label;
  }

  /** Every recovery met so far (each once, however often a file is re-read). */
  get recoveries(): readonly SessionRecovery[] {
    return this.found;
  }

  /** @internal Records a recovery (or throws it in strict mode). */
  report(r: SessionRecovery, strict = this.options.strict === true): void {
    if (strict) throw recoveryError(r);
    const key = `${r.code}:${r.file}:${r.offset}:${r.length}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.found.push(r);
    this.options.onRecovery?.(r);
  }

  /** packets.bin records in file order. `options` override the open options. */
  packets(options: LogReadOptions = {}): AsyncGenerator<ReadPacket> {
    return decodeChunks(new PacketLogDecoder(this.logOptions(options), PACKETS_FILE), this.stream(PACKETS_FILE));
  }

  /** steps.jsonl records in file order. `options` override the open options. */
  steps(options: LogReadOptions = {}): AsyncGenerator<ReadStep> {
    return decodeChunks(new StepLogDecoder(this.logOptions(options), STEPS_FILE), this.stream(STEPS_FILE));
  }

  /** A session file's bytes as stored, in chunks (what its digest covers). */
  raw(file: string): AsyncGenerator<Uint8Array> {
    return this.stream(file);
  }

  /** input.wav or output.wav (header parsed once). */
  wav(which: 'input' | 'output'): Promise<WavTrack> {
    const file = which === 'input' ? INPUT_WAV : OUTPUT_WAV;
    let track = this.tracks.get(file);
    if (track === undefined) {
      track = this.openWav(file);
      this.tracks.set(file, track);
      track.catch(() => this.tracks.delete(file));
    }
    return track;
  }

  /** Reads every file once (streaming) and reports what is there and what was recovered. */
  async scan(options: { readonly verifyPcm?: boolean } = {}): Promise<SessionReport> {
    let count = 0, bytes = 0, c2s = 0, lastTimeMs: number | null = null;
    for await (const p of this.packets()) {
      count++;
      bytes += p.bytes.length;
      if (p.direction === 0) c2s++;
      lastTimeMs = p.timeMs;
    }
    const input = await this.wav('input');
    const output = await this.wav('output');
    const frames = options.verifyPcm === true ? output.frames()[Symbol.asyncIterator]() : null;
    let steps = 0, first: number | null = null, last: number | null = null, gaps = 0, pcmChecked = 0;
    const pcmMismatches: number[] = [];
    try {
      for await (const s of this.steps()) {
        if (last !== null && s.step !== last + 1) gaps++;
        first ??= s.step;
        last = s.step;
        steps++;
        if (frames !== null) {
          const f = await frames.next();
          if (!f.done && s.pcmHash !== null) {
            pcmChecked++;
            if (pcmHash(f.value) !== s.pcmHash) pcmMismatches.push(s.step);
          }
        }
      }
    } finally {
      await frames?.return?.(undefined);
    }
    return {
      status: this.manifest.status,
      packets: { count, bytes, clientToServer: c2s, serverToClient: count - c2s, lastTimeMs },
      steps: { count: steps, first, last, gaps },
      input: { samples: input.samples, frames: input.frameCount },
      output: { samples: output.samples, frames: output.frameCount },
      wholeSteps: Math.min(steps, input.frameCount, output.frameCount),
      pcmChecked,
      pcmMismatches,
      recoveries: [...this.found],
    };
  }

  private logOptions(options: LogReadOptions): LogReadOptions {
    const strict = options.strict ?? this.options.strict;
    return {
      salvage: options.salvage ?? this.options.salvage,
      strict,
      onRecovery: (r) => {
        this.report(r, false);
        options.onRecovery?.(r);
      },
    };
  }

  private async *stream(file: string, start = 0): AsyncGenerator<Uint8Array> {
    if (this.missing.includes(file)) throw new SessionError('SESSION_ERR_MISSING_FILE', `${this.label} has no ${file}`, { file });
    yield* this.files.stream(file, start);
  }

  private async openWav(file: string): Promise<WavTrack> {
    const size = this.missing.includes(file) ? undefined : await this.files.size(file);
    if (size === undefined) throw new SessionError('SESSION_ERR_MISSING_FILE', `${this.label} has no ${file}`, { file });
    const layout = parseWavLayout(await this.files.read(file, 0, Math.min(size, WAV_HEAD_BYTES)), size, file);
    const track = new WavTrack(this.files, file, layout);
    for (const r of track.recoveries) this.report(r);
    return track;
  }
}

/** One session WAV: float32 mono 24 kHz, frame i belonging to the i-th line of steps.jsonl. */
export class WavTrack {
  readonly file: string;
  /** Whole samples present. */
  readonly samples: number;
  /** Whole 1920-sample frames present (a partial last frame is reported, never delivered). */
  readonly frameCount: number;
  /** False when the header sizes were never patched (the writer did not close). */
  readonly finalized: boolean;
  readonly recoveries: readonly SessionRecovery[];
  private readonly files: SessionFiles;
  private readonly dataOffset: number;

  constructor(files: SessionFiles, file: string, layout: WavLayout) {
    this.files = files;
    this.file = file;
    this.samples = layout.samples;
    this.frameCount = Math.floor(layout.samples / FRAME_SAMPLES);
    this.finalized = layout.finalized;
    this.dataOffset = layout.dataOffset;
    const recoveries: SessionRecovery[] = layout.recovery === null ? [] : [layout.recovery];
    const partial = layout.samples - this.frameCount * FRAME_SAMPLES;
    if (partial > 0) {
      recoveries.push({
        code: 'SESSION_ERR_TRUNCATED', file, offset: this.dataOffset + this.frameCount * FRAME_SAMPLES * 4, length: partial * 4,
        message: `${file}: ends ${partial} samples into frame ${this.frameCount}; that partial frame is left out (${this.frameCount} whole frames)`,
      });
    }
    this.recoveries = recoveries;
  }

  /** Samples [start, start + count), clamped to the whole samples present. */
  async readSamples(start: number, count: number): Promise<Float32Array> {
    const s = Math.max(0, Math.min(start, this.samples));
    const e = Math.max(s, Math.min(start + count, this.samples));
    if (e === s) return new Float32Array(0);
    return decodeFloat32(await this.files.read(this.file, this.dataOffset + s * 4, this.dataOffset + e * 4));
  }

  /** Frame `index` (1920 samples). */
  async readFrame(index: number): Promise<Float32Array> {
    if (!(Number.isSafeInteger(index) && index >= 0 && index < this.frameCount)) {
      throw new SessionError('SESSION_ERR_INVALID', `${this.file}: frame ${index} is out of range (0…${this.frameCount - 1})`, { file: this.file });
    }
    return this.readSamples(index * FRAME_SAMPLES, FRAME_SAMPLES);
  }

  /** The sample bytes (the data chunk's payload up to the whole samples), in chunks: what the manifest's WAV digest covers. */
  async *sampleBytes(): AsyncGenerator<Uint8Array> {
    let left = this.samples * 4;
    if (left === 0) return;
    for await (const chunk of this.files.stream(this.file, this.dataOffset)) {
      const piece = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= piece.length;
      yield piece;
      if (left === 0) return;
    }
  }

  /** Whole frames from `from` on, streamed. */
  async *frames(from = 0): AsyncGenerator<Float32Array> {
    let index = Math.max(0, from);
    if (index >= this.frameCount) return;
    const frameBytes = FRAME_SAMPLES * 4;
    const buf = new Uint8Array(frameBytes);
    let fill = 0;
    for await (const chunk of this.files.stream(this.file, this.dataOffset + index * frameBytes)) {
      let at = 0;
      while (at < chunk.length) {
        const n = Math.min(frameBytes - fill, chunk.length - at);
        buf.set(chunk.subarray(at, at + n), fill);
        fill += n;
        at += n;
        if (fill === frameBytes) {
          yield decodeFloat32(buf);
          fill = 0;
          if (++index >= this.frameCount) return;
        }
      }
    }
  }
}
