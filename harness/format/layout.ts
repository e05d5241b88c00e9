// Names and numbers of the on-disk layout (README.md in this folder is the prose version).
// One place, so that writer, reader and tests cannot drift apart.

/** `manifest.json` `format` field: what makes a folder a SolaceLive session. */
export const SESSION_FORMAT = 'solacelive.session';
/**
 * Session format version written by this code (the manifest's `version`). 2 added the
 * manifest's `integrity` (setup digest, per-file sha256); a v2 reader requires it, so a
 * stripped checksum reads as damage instead of as an old session.
 */
export const SESSION_VERSION = 2;
/** Manifest versions this code reads (1: no integrity data, verified by cross-checks only). */
export const SUPPORTED_VERSIONS: readonly number[] = [1, 2];
/** packets.bin and steps.jsonl header versions: their bytes did not change in session v2. */
export const SUPPORTED_LOG_VERSIONS: readonly number[] = [1];

export const MANIFEST_FILE = 'manifest.json';
export const PACKETS_FILE = 'packets.bin';
export const STEPS_FILE = 'steps.jsonl';
export const INPUT_WAV = 'input.wav';
export const OUTPUT_WAV = 'output.wav';
/** Every file of a version-1 session; the writer creates all of them when it opens. */
export const SESSION_FILES = [MANIFEST_FILE, PACKETS_FILE, STEPS_FILE, INPUT_WAV, OUTPUT_WAV] as const;
export type SessionFileName = (typeof SESSION_FILES)[number];
/** Folder-name suffix design.md uses (`NAME.session/`); recommended, not required. */
export const SESSION_DIR_SUFFIX = '.session';

/** Audio of both WAVs: float32 little-endian, mono, 24 kHz; one 1920-sample frame per step. */
export const SAMPLE_RATE = 24000;
export const FRAME_SAMPLES = 1920;

/** Record directions in packets.bin. */
export const CLIENT_TO_SERVER = 0;
export const SERVER_TO_CLIENT = 1;
export type PacketDirection = typeof CLIENT_TO_SERVER | typeof SERVER_TO_CLIENT;
