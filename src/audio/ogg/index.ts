// The Ogg container (RFC 3533), browser-safe: page writer and reader, a one-stream muxer, and
// a demuxer for byte streams that arrive in arbitrary chunks.
export { oggCrc32 } from './crc.ts';
export { OggError, isOggError } from './errors.ts';
export type { OggErrorCode, OggErrorDetails } from './errors.ts';
export {
  OGG_CAPTURE, OGG_FLAG_BOS, OGG_FLAG_CONTINUED, OGG_FLAG_EOS, OGG_HEADER_BYTES, OGG_MAX_PAGE_BYTES, OGG_MAX_SEGMENTS, OGG_NO_GRANULE,
  measureOggPage, readOggPageHeader, writeOggPage,
} from './page.ts';
export type { OggPageHeader, OggPageSpec } from './page.ts';
export { OggMuxer } from './muxer.ts';
export type { OggMuxerOptions } from './muxer.ts';
export { OggDemuxer } from './demuxer.ts';
export type { OggDemuxerOptions, OggDemuxerStats, OggPacket } from './demuxer.ts';
