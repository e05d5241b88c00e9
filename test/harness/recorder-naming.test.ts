// Several servers record into one folder (scale-out behind a balancer): the folder names of
// their sessions must never collide, even for sessions opened in the same second whose ids
// share a prefix. The session id is a random UUID; the name carries all of it.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sessionFolderName } from '../../harness/recorder.ts';

describe('sessionFolderName', () => {
  it('differs for two sessions opened in the same second whose ids share their first 8 characters', () => {
    const at = new Date('2026-12-01T15:00:00.250Z');
    const a = randomUUID();
    // Another UUID with the same first 8 characters (as a second server could draw).
    const b = `${a.slice(0, 8)}${randomUUID().slice(8)}`;
    expect(b).not.toBe(a);
    expect(sessionFolderName(a, at)).not.toBe(sessionFolderName(b, at));
  });

  it('holds the time (so a listing sorts by age) and the whole session id', () => {
    const id = randomUUID();
    const name = sessionFolderName(id, new Date('2026-12-01T15:04:05.999Z'));
    expect(name).toBe(`20261201T150405Z-${id}.session`);
    expect(sessionFolderName(id, new Date('2026-12-01T15:04:06.000Z')) > name).toBe(true);
  });
});
