// Node file wrappers around wav.ts. Kept apart so that decodeWav/encodeWav stay
// browser-safe: this is the only audio module that touches node:fs.

import { readFileSync, renameSync, writeFileSync, unlinkSync } from 'node:fs';
import { readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { AudioError, isAudioError } from './errors.ts';
import { decodeWav, encodeWav } from './wav.ts';
import type { DecodeWavOptions, DecodedWav, EncodeWavOptions } from './wav.ts';

// The usual errnos in words (the code stays, for searching); others as Node names them.
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file', EACCES: 'permission denied', EPERM: 'permission denied', EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is not a folder', EROFS: 'read-only file system', ENOSPC: 'no space left on the device',
};

function ioError(verb: string, path: string, err: unknown): AudioError {
  const code = (err as { code?: unknown }).code;
  const why = typeof code === 'string' ? (ERRNO_WORDS[code] ? `${ERRNO_WORDS[code]} (${code})` : code) : err instanceof Error ? err.message : String(err);
  return new AudioError('AUDIO_ERR_IO', `cannot ${verb} ${path}: ${why}`, { path, cause: err });
}

function located(path: string, err: unknown): unknown {
  return isAudioError(err) ? err.withPath(path) : err;
}

/** Reads and decodes a WAV file; every failure is an AudioError whose `path` names the file. */
export async function readWav(path: string, options: DecodeWavOptions = {}): Promise<DecodedWav> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw ioError('read', path, err);
  }
  try {
    return decodeWav(bytes, options);
  } catch (err) {
    throw located(path, err);
  }
}

export function readWavSync(path: string, options: DecodeWavOptions = {}): DecodedWav {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw ioError('read', path, err);
  }
  try {
    return decodeWav(bytes, options);
  } catch (err) {
    throw located(path, err);
  }
}

// Written to a temporary file beside the target and renamed over it, so a crash or a full
// disk never leaves a half-written WAV under the real name. The counter keeps two writes
// of one path in flight at once from sharing a temporary file.
let writes = 0;
function tempPath(path: string): string {
  return `${path}.${process.pid}.${++writes}.tmp`;
}

/** encodeWav, with any error naming the file it was meant for. */
function encodeAt(path: string, samples: Float32Array | readonly Float32Array[], sampleRate: number, options: EncodeWavOptions): Uint8Array {
  try {
    return encodeWav(samples, sampleRate, options);
  } catch (err) {
    throw located(path, err);
  }
}

/** Encodes and writes a WAV file atomically (see encodeWav for formats). */
export async function writeWav(path: string, samples: Float32Array | readonly Float32Array[], sampleRate: number, options: EncodeWavOptions = {}): Promise<void> {
  const bytes = encodeAt(path, samples, sampleRate, options);
  const tmp = tempPath(path);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw ioError('write', path, err);
  }
}

export function writeWavSync(path: string, samples: Float32Array | readonly Float32Array[], sampleRate: number, options: EncodeWavOptions = {}): void {
  const bytes = encodeAt(path, samples, sampleRate, options);
  const tmp = tempPath(path);
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* nothing was written */ }
    throw ioError('write', path, err);
  }
}
