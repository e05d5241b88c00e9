// Node's SessionFiles: a session folder on disk (or a .zip of one). The only reader module
// that touches node:fs; the browser entry (../format.ts) never imports it.
import { openAsBlob } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sessionsFromZip } from './blob-files.ts';
import { SessionError } from './errors.ts';
import { openSessionFiles } from './reader.ts';
import type { OpenSessionOptions, SessionFiles, SessionReader } from './reader.ts';

/** Chunk size for streaming reads: large enough for few syscalls, small enough to stay flat. */
export const DEFAULT_CHUNK_BYTES = 256 * 1024;

function ioError(path: string, err: unknown): SessionError {
  const errno = (err as { code?: unknown }).code;
  return new SessionError('SESSION_ERR_IO', `cannot read ${path}: ${typeof errno === 'string' ? errno : String(err)}`, {
    file: path, errno: typeof errno === 'string' ? errno : undefined, cause: err,
  });
}

/** SessionFiles over a folder. */
export function nodeSessionFiles(dir: string, chunkBytes = DEFAULT_CHUNK_BYTES): SessionFiles {
  return {
    label: dir,
    async size(name) {
      try {
        const s = await stat(join(dir, name));
        return s.isFile() ? s.size : undefined;
      } catch (err) {
        if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
        throw ioError(join(dir, name), err);
      }
    },
    async read(name, start, end) {
      const path = join(dir, name);
      try {
        const fh = await open(path, 'r');
        try {
          const out = new Uint8Array(Math.max(0, end - start));
          let fill = 0;
          while (fill < out.length) {
            const { bytesRead } = await fh.read(out, fill, out.length - fill, start + fill);
            if (bytesRead === 0) break;
            fill += bytesRead;
          }
          return fill === out.length ? out : out.subarray(0, fill);
        } finally {
          await fh.close();
        }
      } catch (err) {
        throw err instanceof SessionError ? err : ioError(path, err);
      }
    },
    async *stream(name, start = 0) {
      const path = join(dir, name);
      let fh;
      try {
        fh = await open(path, 'r');
      } catch (err) {
        throw ioError(path, err);
      }
      try {
        for (let pos = start; ;) {
          // A fresh buffer per chunk: decoders may hold on to a chunk's tail.
          const buf = new Uint8Array(chunkBytes);
          const { bytesRead } = await fh.read(buf, 0, chunkBytes, pos);
          if (bytesRead === 0) return;
          pos += bytesRead;
          yield bytesRead === chunkBytes ? buf : buf.subarray(0, bytesRead);
        }
      } finally {
        await fh.close();
      }
    },
  };
}

/**
 * Opens `path`: a session folder, or a .zip holding exactly one session. Throws
 * SESSION_ERR_MISSING_FILE when the path does not exist, and the SessionError codes of
 * openSessionFiles otherwise.
 */
export async function openSession(path: string, options: OpenSessionOptions & { readonly chunkBytes?: number } = {}): Promise<SessionReader> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') throw new SessionError('SESSION_ERR_MISSING_FILE', `${path}: no such session folder`, { file: path });
    throw ioError(path, err);
  }
  if (info.isDirectory()) return openSessionFiles(nodeSessionFiles(path, options.chunkBytes), options);
  const sessions = await sessionsFromZip(await openAsBlob(path), path);
  if (sessions.size !== 1) {
    throw new SessionError('SESSION_ERR_NOT_A_SESSION', sessions.size === 0 ? `${path} holds no session files` : `${path} holds ${sessions.size} sessions (${[...sessions.keys()].join(', ')}); unpack it and open one`, { file: path });
  }
  return openSessionFiles([...sessions.values()][0]!, options);
}
