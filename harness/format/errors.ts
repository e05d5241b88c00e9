// Typed session errors with stable codes. The recorder, replayer, CLI and viewer branch on
// `code`, never on message text, so messages can say whatever helps a user most.

import { CodedError, isCodedError } from '../../src/errors.ts';

export type SessionErrorCode =
  | 'SESSION_ERR_NOT_A_SESSION' // no manifest and no session files, or a file lacks its signature
  | 'SESSION_ERR_VERSION' // a format version this code does not read (`found`, `supported`)
  | 'SESSION_ERR_MANIFEST' // manifest.json is a session manifest but a field is missing or malformed
  | 'SESSION_ERR_CORRUPT' // a record, line or header fails its check (`file`, `offset`)
  | 'SESSION_ERR_TRUNCATED' // a file ends inside a record: a recovery, thrown only in strict mode
  | 'SESSION_ERR_UNFINALIZED' // the writer never closed (manifest still 'recording', WAV sizes unpatched): a recovery
  | 'SESSION_ERR_MISSING_FILE' // a file the format requires is absent (`file`)
  | 'SESSION_ERR_DAMAGED' // a file fails its digest or disagrees with another file (`damage` names each file and place)
  | 'SESSION_ERR_EXISTS' // writer: the folder already holds a session
  | 'SESSION_ERR_UNWRITABLE' // writer: the folder cannot be created or written (EACCES, EROFS, ENOTDIR…)
  | 'SESSION_ERR_DISK_FULL' // writer: no room (ENOSPC, EDQUOT, or EFBIG from a file-size limit)
  | 'SESSION_ERR_BACKLOG' // writer: more bytes waiting for the disk than maxPendingBytes allows
  | 'SESSION_ERR_IO' // any other file-system failure (`errno`, cause attached)
  | 'SESSION_ERR_UNSUPPORTED' // a container feature this reader lacks (encrypted or bzip2 zip entries, split zips)
  | 'SESSION_ERR_CLOSED' // writer: used after close()
  | 'SESSION_ERR_INVALID'; // caller mistake: a value the format cannot hold (NaN time, step out of order…)

export interface SessionErrorDetails {
  /** Session file the error concerns (`packets.bin`, `steps.jsonl`…), or the folder. */
  readonly file?: string;
  /** Byte offset in `file` where the bad record, line or field starts. */
  readonly offset?: number;
  /** Bytes concerned (dropped, skipped), when known. */
  readonly length?: number;
  /** SESSION_ERR_VERSION: the version found in the file. */
  readonly found?: number | string;
  /** SESSION_ERR_VERSION: the versions this code reads. */
  readonly supported?: readonly number[];
  /** The errno code of a file-system failure (ENOSPC, EACCES…). */
  readonly errno?: string;
  /** SESSION_ERR_DAMAGED: every damaged place found (the first is the error's file). */
  readonly damage?: readonly SessionDamage[];
  readonly cause?: unknown;
}

/**
 * One place where a session's files are damaged: a file whose digest or cross-check fails.
 * Damage, not a replay result: a verdict is never given on damaged data without saying so.
 */
export interface SessionDamage {
  /** The file at fault (the one a CRC-checked or digested copy contradicts). */
  readonly file: string;
  /** Where in it, for people: "frame 20", "step line 10", "seed", "sha256". */
  readonly where: string;
  /** The step concerned, when the place is one. */
  readonly step?: number;
  /** Byte offset in `file`, when known. */
  readonly offset?: number;
  readonly message: string;
}

export class SessionError extends CodedError<SessionErrorCode> {
  readonly file: string | undefined;
  readonly offset: number | undefined;
  readonly length: number | undefined;
  readonly found: number | string | undefined;
  readonly supported: readonly number[] | undefined;
  readonly errno: string | undefined;
  readonly damage: readonly SessionDamage[];
  override readonly name = 'SessionError';

  constructor(code: SessionErrorCode, message: string, details: SessionErrorDetails = {}) {
    super(code, message, details);
    this.file = details.file;
    this.offset = details.offset;
    this.length = details.length;
    this.found = details.found;
    this.supported = details.supported;
    this.errno = details.errno;
    this.damage = details.damage ?? [];
  }
}

export function isSessionError(err: unknown, code?: SessionErrorCode): err is SessionError {
  return isCodedError(err, SessionError, code);
}

/**
 * Something a reader got past instead of failing: a torn tail dropped, a corrupt span skipped
 * under salvage, a file the writer never finalised. Reported as data, so a viewer can show it
 * and a replayer can say what it replays up to.
 */
export interface SessionRecovery {
  readonly code: 'SESSION_ERR_TRUNCATED' | 'SESSION_ERR_CORRUPT' | 'SESSION_ERR_UNFINALIZED';
  readonly file: string;
  /** Where the dropped or skipped bytes start. */
  readonly offset: number;
  /** Bytes dropped or skipped (0 when nothing was lost, e.g. an unpatched WAV size). */
  readonly length: number;
  readonly message: string;
}

/** The recovery as an error, for strict mode and for callers that prefer to throw. */
export function recoveryError(r: SessionRecovery): SessionError {
  return new SessionError(r.code, r.message, { file: r.file, offset: r.offset, length: r.length });
}
