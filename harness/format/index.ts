// The browser-safe session-format API (no node: imports anywhere below this file; the test
// suite walks the import graph to keep it so). Node code adds ./node.ts.
export {
  SESSION_FORMAT, SESSION_VERSION, SUPPORTED_VERSIONS, SUPPORTED_LOG_VERSIONS, MANIFEST_FILE, PACKETS_FILE, STEPS_FILE, INPUT_WAV, OUTPUT_WAV,
  SESSION_FILES, SESSION_DIR_SUFFIX, SAMPLE_RATE, FRAME_SAMPLES, CLIENT_TO_SERVER, SERVER_TO_CLIENT,
} from './layout.ts';
export type { PacketDirection, SessionFileName } from './layout.ts';
export { SessionError, isSessionError, recoveryError } from './errors.ts';
export type { SessionErrorCode, SessionErrorDetails, SessionRecovery, SessionDamage } from './errors.ts';
export { crc32, crc32Hex } from './crc32.ts';
export { sha256, Sha256, toHex } from './sha256.ts';
export { canonicalJson, setupSha256, SETUP_FIELDS, LOG_FILES, WAV_FILES } from './integrity.ts';
export type { FileDigest, SampleDigest, FileDigests, ManifestIntegrity } from './integrity.ts';
export { pcmHash, float32leBytes, PCM_HASH_ALGORITHM, PCM_HASH_PATTERN } from './pcm-hash.ts';
export { parseManifest, validateManifestInit, buildManifest, serializeManifest, SESSION_AUDIO, ZERO_COUNTS } from './manifest.ts';
export type {
  SessionManifest, ManifestInit, ManifestModel, ManifestSampling, ManifestPlatform, ManifestSoftware, ManifestCounts, SessionStatus,
} from './manifest.ts';
export {
  PacketLogDecoder, encodePacketRecord, encodePacketsHeader, PACKETS_MAGIC, PACKETS_VERSION, PACKETS_HEADER_BYTES,
  RECORD_SYNC, RECORD_HEADER_BYTES, RECORD_OVERHEAD, MAX_RECORD_BYTES,
} from './records.ts';
export type { PacketRecord, ReadPacket } from './records.ts';
export { StepLogDecoder, encodeStepLine, encodeStepsHeader, STEPS_FORMAT, STEPS_VERSION, MAX_LINE_BYTES } from './steps.ts';
export type { StepRecord, ReadStep, StepEvent, StepEventKind, StepSpans } from './steps.ts';
export { LogDecoder } from './log.ts';
export type { LogReadOptions } from './log.ts';
export { encodeWavHeader, parseWavLayout, decodeFloat32, WAV_HEADER_BYTES, WAV_SIZE_PLACEHOLDER } from './wav.ts';
export type { WavLayout } from './wav.ts';
export { chunksOf } from './bytes.ts';
export type { ChunkSource } from './bytes.ts';
export { openSessionFiles, readPackets, readSteps, SessionReader, WavTrack } from './reader.ts';
export type { SessionFiles, OpenSessionOptions, SessionReport } from './reader.ts';
export { blobSessionFiles, sessionsFromEntries, sessionsFromFiles, sessionsFromZip } from './blob-files.ts';
export { ZipArchive, readZipDirectory } from './zip.ts';
export type { ZipEntry } from './zip.ts';
export { proxiedManifestInit, proxyMetaOf, PROXY_FILE, PROXY_FORMAT, UPSTREAM_MODEL_PREFIX } from './proxied.ts';
export type { ProxyMeta } from './proxied.ts';
