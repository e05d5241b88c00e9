// manifest.json: what a replay needs to reproduce the session (model, weights, seed,
// sampling, platform) and what the writer knew when it stopped (status, counts, error).
// The schema is owned here, not borrowed from src types, because files outlive code: a
// src change must not silently change what old sessions are read as.
import { SessionError } from './errors.ts';
import type { SessionErrorCode } from './errors.ts';
import { FRAME_SAMPLES, MANIFEST_FILE, SAMPLE_RATE, SESSION_FORMAT, SESSION_VERSION, SUPPORTED_VERSIONS } from './layout.ts';
import { PCM_HASH_ALGORITHM } from './pcm-hash.ts';
import { LOG_FILES, setupSha256, WAV_FILES } from './integrity.ts';
import type { ManifestIntegrity } from './integrity.ts';

export type SessionStatus = 'recording' | 'complete' | 'failed';

export interface ManifestModel {
  /** e.g. "tiny", "moshi_mlx_2b". */
  readonly id: string;
  /** The model configs as loaded (JSON object). */
  readonly config: Readonly<Record<string, unknown>>;
  /** sha256 (64 lowercase hex) of every weight file, by file name. Empty for seeded weights. */
  readonly weights: Readonly<Record<string, string>>;
}

/** Same fields as src/engine/types.ts SamplingParams. */
export interface ManifestSampling {
  readonly textTemperature: number;
  readonly textTopK: number;
  readonly audioTemperature: number;
  readonly audioTopK: number;
}

/**
 * The fields of src/models/platform.ts PlatformFingerprint that decide bit-exactness; a
 * fingerprint object can be passed as is (extra fields such as memoryGiB are kept).
 */
export interface ManifestPlatform {
  readonly os: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly node: string;
  readonly mlxDevice: string;
  readonly blas: {
    readonly library: string;
    readonly path: string | null;
    readonly threads: string | null;
    readonly coreType: string | null;
  };
  readonly memoryGiB?: number;
  readonly metal?: boolean;
}

export interface ManifestSoftware {
  /** package.json name and version of the code that recorded. */
  readonly package: string;
  readonly version: string;
  /** `git rev-parse HEAD`, or null outside a checkout. */
  readonly gitCommit: string | null;
}

export interface ManifestCounts {
  readonly packets: number;
  /** Message bytes in packets.bin (without record overhead). */
  readonly packetBytes: number;
  readonly steps: number;
  readonly inputSamples: number;
  readonly outputSamples: number;
}

export interface SessionManifest {
  readonly format: typeof SESSION_FORMAT;
  readonly version: number;
  /** 'recording' until close(); a reader seeing it on a folder nobody writes found a crash. */
  readonly status: SessionStatus;
  /** ISO 8601 UTC. Informational: nothing replays from wall time. */
  readonly createdAt: string;
  readonly closedAt: string | null;
  readonly model: ManifestModel;
  /** Sampling keys of step k depend only on (seed, k). */
  readonly seed: number;
  /** The audio streams' own seed (Moshi protocol `audio_seed`), when it differs from `seed`. */
  readonly audioSeed?: number;
  readonly sampling: ManifestSampling;
  readonly platform: ManifestPlatform;
  readonly software: ManifestSoftware;
  readonly audio: { readonly sampleRate: number; readonly channels: number; readonly encoding: 'float32le'; readonly frameSamples: number };
  /** How steps.jsonl's pcmHash is computed (pcm-hash.ts). */
  readonly pcmHash: typeof PCM_HASH_ALGORITHM;
  /** Final at close; zeros while recording (read the files for the truth after a crash). */
  readonly counts: ManifestCounts;
  /** Why status is 'failed' (the writer's SessionError code and message). */
  readonly error: { readonly code: string; readonly message: string } | null;
  /** Free-form JSON from the recorder (server options, client, session name…). */
  readonly meta: Readonly<Record<string, unknown>>;
  /** Version 2 on (integrity.ts); absent from version-1 sessions, which are verified by cross-checks only. */
  readonly integrity?: ManifestIntegrity;
}

/** What the recorder supplies when it opens a session; the writer fills in the rest. */
export interface ManifestInit {
  readonly model: ManifestModel;
  readonly seed: number;
  readonly audioSeed?: number;
  readonly sampling: ManifestSampling;
  readonly platform: ManifestPlatform;
  readonly software: ManifestSoftware;
  readonly meta?: Readonly<Record<string, unknown>>;
}

export const ZERO_COUNTS: ManifestCounts = { packets: 0, packetBytes: 0, steps: 0, inputSamples: 0, outputSamples: 0 };
export const SESSION_AUDIO = { sampleRate: SAMPLE_RATE, channels: 1, encoding: 'float32le', frameSamples: FRAME_SAMPLES } as const;

// ---------------------------------------------------------------------------------------
// Validation: a path-naming message per bad field, under the caller's error code.

type Obj = Readonly<Record<string, unknown>>;

const join = (path: string, k: string): string => (path === '' ? k : `${path}.${k}`);

class Check {
  readonly code: SessionErrorCode;
  readonly where: string;
  constructor(code: SessionErrorCode, where: string) {
    this.code = code;
    this.where = where;
  }
  fail(path: string, what: string, v: unknown): never {
    const shown = v === undefined ? 'missing' : JSON.stringify(v)?.slice(0, 80) ?? String(v);
    throw new SessionError(this.code, `${this.where}: ${path} ${what === '' ? 'is invalid' : `must be ${what}`} (got ${shown})`, { file: MANIFEST_FILE });
  }
  obj(v: unknown, path: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'an object', v);
    return v as Obj;
  }
  str(o: Obj, k: string, path: string, nullable = false): void {
    const v = o[k];
    if (!(typeof v === 'string' || (nullable && v === null))) this.fail(join(path, k), nullable ? 'a string or null' : 'a string', v);
  }
  num(o: Obj, k: string, path: string, kind: 'finite' | 'uint' | 'int'): void {
    const v = o[k];
    const ok = kind === 'finite' ? typeof v === 'number' && Number.isFinite(v) : Number.isSafeInteger(v) && (kind === 'int' || (v as number) >= 0);
    if (!ok) this.fail(join(path, k), kind === 'finite' ? 'a finite number' : kind === 'uint' ? 'an integer >= 0' : 'an integer', v);
  }
}

function checkInitFields(c: Check, m: Obj): void {
  const model = c.obj(m.model, 'model');
  c.str(model, 'id', 'model');
  c.obj(model.config, 'model.config');
  const weights = c.obj(model.weights, 'model.weights');
  for (const [name, sha] of Object.entries(weights)) {
    if (name === '') c.fail('model.weights', 'keyed by file name', '');
    if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) c.fail(`model.weights['${name}']`, 'a sha256 as 64 lowercase hex digits', sha);
  }
  c.num(m, 'seed', '', 'int');
  if (m.audioSeed !== undefined) c.num(m, 'audioSeed', '', 'int');
  const s = c.obj(m.sampling, 'sampling');
  c.num(s, 'textTemperature', 'sampling', 'finite');
  c.num(s, 'textTopK', 'sampling', 'uint');
  c.num(s, 'audioTemperature', 'sampling', 'finite');
  c.num(s, 'audioTopK', 'sampling', 'uint');
  const p = c.obj(m.platform, 'platform');
  for (const k of ['os', 'arch', 'cpuModel', 'node', 'mlxDevice']) c.str(p, k, 'platform');
  c.num(p, 'cores', 'platform', 'uint');
  const blas = c.obj(p.blas, 'platform.blas');
  c.str(blas, 'library', 'platform.blas');
  for (const k of ['path', 'threads', 'coreType']) c.str(blas, k, 'platform.blas', true);
  const sw = c.obj(m.software, 'software');
  c.str(sw, 'package', 'software');
  c.str(sw, 'version', 'software');
  c.str(sw, 'gitCommit', 'software', true);
  if (m.meta !== undefined) c.obj(m.meta, 'meta');
  try {
    JSON.stringify(m);
  } catch (err) {
    c.fail('', `JSON-serialisable (${(err as Error).message})`, undefined);
  }
}

/** Throws SESSION_ERR_INVALID naming the first bad field of what a recorder passed. */
export function validateManifestInit(init: ManifestInit): void {
  checkInitFields(new Check('SESSION_ERR_INVALID', 'session manifest'), init as unknown as Obj);
}

export function buildManifest(init: ManifestInit, createdAt: string): SessionManifest {
  const m: SessionManifest = {
    format: SESSION_FORMAT,
    version: SESSION_VERSION,
    status: 'recording',
    createdAt,
    closedAt: null,
    model: init.model,
    seed: init.seed,
    ...(init.audioSeed === undefined ? {} : { audioSeed: init.audioSeed }),
    sampling: init.sampling,
    platform: init.platform,
    software: init.software,
    audio: SESSION_AUDIO,
    pcmHash: PCM_HASH_ALGORITHM,
    counts: ZERO_COUNTS,
    error: null,
    meta: init.meta ?? {},
  };
  // Digest of the JSON as it will be read back (what a reader recomputes), not of the objects given.
  return { ...m, integrity: { setupSha256: setupSha256(JSON.parse(JSON.stringify(m)) as Obj), files: null } };
}

export function serializeManifest(m: SessionManifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

/**
 * Parses and validates manifest.json. Not JSON: SESSION_ERR_CORRUPT; not a session manifest:
 * SESSION_ERR_NOT_A_SESSION; another version: SESSION_ERR_VERSION; a bad field:
 * SESSION_ERR_MANIFEST naming it. Unknown fields are kept (a newer writer may add some).
 */
export function parseManifest(text: string, where = MANIFEST_FILE): SessionManifest {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new SessionError('SESSION_ERR_CORRUPT', `${where} is not valid JSON (${(err as Error).message})`, { file: MANIFEST_FILE, offset: 0 });
  }
  if (typeof v !== 'object' || v === null || (v as Obj).format !== SESSION_FORMAT) {
    throw new SessionError('SESSION_ERR_NOT_A_SESSION', `${where} is not a SolaceLive session manifest (no "format": "${SESSION_FORMAT}")`, { file: MANIFEST_FILE });
  }
  const m = v as Obj;
  if (!SUPPORTED_VERSIONS.includes(m.version as number)) {
    throw new SessionError('SESSION_ERR_VERSION', `${where} is session format version ${JSON.stringify(m.version)}; this reader supports version ${SUPPORTED_VERSIONS.join(', ')}`, {
      file: MANIFEST_FILE, found: typeof m.version === 'number' ? m.version : String(m.version), supported: SUPPORTED_VERSIONS,
    });
  }
  const c = new Check('SESSION_ERR_MANIFEST', where);
  if (!['recording', 'complete', 'failed'].includes(m.status as string)) c.fail('status', "'recording', 'complete' or 'failed'", m.status);
  c.str(m, 'createdAt', '');
  c.str(m, 'closedAt', '', true);
  checkInitFields(c, m);
  c.obj(m.meta, 'meta');
  const audio = c.obj(m.audio, 'audio');
  for (const [k, want] of Object.entries(SESSION_AUDIO)) if (audio[k] !== want) c.fail(`audio.${k}`, JSON.stringify(want), audio[k]);
  if (m.pcmHash !== PCM_HASH_ALGORITHM) c.fail('pcmHash', JSON.stringify(PCM_HASH_ALGORITHM), m.pcmHash);
  const counts = c.obj(m.counts, 'counts');
  for (const k of Object.keys(ZERO_COUNTS)) c.num(counts, k, 'counts', 'uint');
  if (m.error !== null) {
    const e = c.obj(m.error, 'error');
    c.str(e, 'code', 'error');
    c.str(e, 'message', 'error');
  }
  if ((m.version as number) >= 2) checkIntegrity(c, m);
  return m as unknown as SessionManifest;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Version 2's integrity object: a setup digest, and null or all four file digests. */
function checkIntegrity(c: Check, m: Obj): void {
  const integrity = c.obj(m.integrity, 'integrity');
  if (typeof integrity.setupSha256 !== 'string' || !SHA256_HEX.test(integrity.setupSha256)) c.fail('integrity.setupSha256', 'a sha256 as 64 lowercase hex digits', integrity.setupSha256);
  if (integrity.files === null) return;
  const files = c.obj(integrity.files, 'integrity.files');
  for (const [names, size] of [[LOG_FILES, 'bytes'], [WAV_FILES, 'samples']] as const) {
    for (const name of names) {
      const d = c.obj(files[name], `integrity.files['${name}']`);
      c.num(d, size, `integrity.files['${name}']`, 'uint');
      if (typeof d.sha256 !== 'string' || !SHA256_HEX.test(d.sha256)) c.fail(`integrity.files['${name}'].sha256`, 'a sha256 as 64 lowercase hex digits', d.sha256);
    }
  }
}
