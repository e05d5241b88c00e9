// The manifest's integrity data (session format version 2): a digest of the fields a replay
// is set up from, written at open (so a crashed session has it too), and every data file's
// sha256, written at a clean close. Browser-safe; the writer computes the same digests with
// node:crypto while it appends, the reader recomputes them by streaming.
import { INPUT_WAV, OUTPUT_WAV, PACKETS_FILE, STEPS_FILE } from './layout.ts';
import { sha256, toHex } from './sha256.ts';

/** A log file's digest: every byte of the file, header included. */
export interface FileDigest {
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * A WAV's digest: its sample bytes only (the data chunk's payload). The header is rewritten
 * at close and checked field by field by the reader instead; a file re-wrapped by another
 * tool with the same samples still verifies.
 */
export interface SampleDigest {
  readonly samples: number;
  readonly sha256: string;
}

export interface FileDigests {
  readonly [PACKETS_FILE]: FileDigest;
  readonly [STEPS_FILE]: FileDigest;
  readonly [INPUT_WAV]: SampleDigest;
  readonly [OUTPUT_WAV]: SampleDigest;
}

export interface ManifestIntegrity {
  /** sha256 of the canonical JSON of the SETUP_FIELDS (setupSha256()). */
  readonly setupSha256: string;
  /** Final file digests; null while recording, after a crash, or when the close failed. */
  readonly files: FileDigests | null;
}

/** Manifest fields fixed at open that a replay depends on (what setupSha256 covers). */
// audioSeed is absent from most sessions, and an absent key leaves the digest as it was.
export const SETUP_FIELDS = ['format', 'version', 'createdAt', 'model', 'seed', 'audioSeed', 'sampling', 'platform', 'software', 'audio', 'pcmHash', 'meta'] as const;

export const LOG_FILES = [PACKETS_FILE, STEPS_FILE] as const;
export const WAV_FILES = [INPUT_WAV, OUTPUT_WAV] as const;

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x);
}

/** The digest of a manifest's setup fields (64 lowercase hex). */
export function setupSha256(manifest: Readonly<Record<string, unknown>>): string {
  const picked: Record<string, unknown> = {};
  for (const k of SETUP_FIELDS) picked[k] = manifest[k];
  return toHex(sha256(new TextEncoder().encode(canonicalJson(picked))));
}
