// What the live page says about recording (viewer/live/recording.ts): one log line per
// server message (not "recording recording"), and an honest indicator and Record box when
// the server records every session on its own (serve --record) though the page did not ask.
import { describe, expect, it } from 'vitest';
import { recordBox, recordingFrom, recordingLabel, recordingNote } from '../../viewer/live/recording.ts';
import type { RecordingMessage } from '../../viewer/live/messages.ts';

const on: RecordingMessage = { type: 'recording', session: 'abcdef0123456789', state: 'recording' };
const off: RecordingMessage = { type: 'recording', session: 'abcdef0123456789', state: 'stopped', code: 'SESSION_ERR_DISK_FULL', message: 'no space left', steps: 40 };

describe('live page: recording', () => {
  it('logs each recording message as a sentence, never the state word twice', () => {
    for (const requested of [true, false]) {
      for (const m of [on, off]) {
        const line = recordingNote(m, requested);
        expect(line).not.toMatch(/\brecording (recording|stopped)\b/);
      }
      expect(recordingNote(on, requested)).toMatch(/^the server is recording this session/);
    }
    expect(recordingNote(off, true)).toBe('recording STOPPED after 40 steps (SESSION_ERR_DISK_FULL: no space left); the session goes on, what was written is kept');
  });

  it('a session the page asked to record: "● recording", the box as the user ticked it', () => {
    const rec = recordingFrom(on, true);
    expect(recordingLabel(rec, false, 'abcdef0123456789')).toBe('● recording');
    expect(recordBox(true, rec, true)).toMatchObject({ checked: true, label: 'Record' });
  });

  it('a session the server records unasked: the indicator says so and the box is ticked while it runs', () => {
    const rec = recordingFrom(on, false);
    expect(recordingLabel(rec, false, 'abcdef0123456789')).toMatch(/^● recording by the server/);
    const live = recordBox(false, rec, true);
    expect(live.checked).toBe(true);
    expect(live.label).toBe('Record (server)');
    expect(recordingLabel(rec, true, 'abcdef0123456789')).toMatch(/^● recorded by the server .*abcdef01\.session/);
    // After the session the box is the user's choice for the next one again.
    expect(recordBox(false, rec, false)).toMatchObject({ checked: false, label: 'Record' });
  });

  it('without recording the box is simply the user\'s choice', () => {
    expect(recordBox(false, null, true)).toMatchObject({ checked: false, label: 'Record' });
    expect(recordBox(true, null, false)).toMatchObject({ checked: true, label: 'Record' });
  });
});
