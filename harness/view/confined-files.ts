// SessionFiles over a session folder that the view server reads for its list: every file is
// opened through safe-path.ts (inside the sessions folder after symlinks, a regular file,
// the inode that was checked), unlike the CLI's reader, which opens what the user names.
import { DEFAULT_CHUNK_BYTES } from '../format/node.ts';
import type { SessionFiles } from '../format/reader.ts';
import { openInside, PathRefused } from './safe-path.ts';

/** The files of `root/name/`, confined to `root`. A file that is absent reads as absent; one refused throws PathRefused. */
export function confinedSessionFiles(root: string, name: string, chunkBytes = DEFAULT_CHUNK_BYTES): SessionFiles {
  const opened = async (file: string) => {
    try {
      return await openInside(root, [name, file]);
    } catch (err) {
      // Name the file, not where a link points: the message goes to the page.
      if (err instanceof PathRefused) throw new PathRefused(`${name}/${file}: ${err.message}`, err.reason);
      throw err;
    }
  };
  return {
    label: name,
    async size(file) {
      try {
        const f = await opened(file);
        await f.handle.close();
        return f.size;
      } catch (err) {
        if (err instanceof PathRefused && err.reason === 'missing') return undefined;
        throw err;
      }
    },
    async read(file, start, end) {
      const f = await opened(file);
      try {
        const out = new Uint8Array(Math.max(0, Math.min(end, f.size) - start));
        let fill = 0;
        while (fill < out.length) {
          const { bytesRead } = await f.handle.read(out, fill, out.length - fill, start + fill);
          if (bytesRead === 0) break;
          fill += bytesRead;
        }
        return out.subarray(0, fill);
      } finally {
        await f.handle.close();
      }
    },
    async *stream(file, start = 0) {
      const f = await opened(file);
      try {
        for (let pos = start; ;) {
          const buf = new Uint8Array(chunkBytes);
          const { bytesRead } = await f.handle.read(buf, 0, chunkBytes, pos);
          if (bytesRead === 0) return;
          pos += bytesRead;
          yield bytesRead === chunkBytes ? buf : buf.subarray(0, bytesRead);
        }
      } finally {
        await f.handle.close();
      }
    },
  };
}
