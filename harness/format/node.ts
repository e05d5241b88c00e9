// The session format for Node code (recorder, replayer, CLI): the browser-safe API plus the
// writer and opening folders from disk.
export * from './index.ts';
export { SessionWriter, diskError, DEFAULT_FSYNC_INTERVAL_MS, DEFAULT_MAX_PENDING_BYTES } from './writer.ts';
export type { SessionWriterOptions, WriterState, WriterStats, CloseResult } from './writer.ts';
export { openSession, nodeSessionFiles, DEFAULT_CHUNK_BYTES } from './node-files.ts';
export { ThreadedSessionWriter } from './writer-thread.ts';
export type { ThreadedWriterOptions } from './writer-thread.ts';
