// What the live page says about recording: the log line for a 'recording' message, the
// indicator and the Record box. Recording has two sources, the page's request (Record
// ticked, honoured by `serve --record-requested`) and the server's own `serve --record DIR`,
// which records every session whether asked or not; the page says which, so a "● recording"
// never sits beside an unticked box unexplained.
import type { RecordingMessage } from './messages.ts';

export interface RecordingState {
  /** requested: asked, not (yet) confirmed; recording/stopped: what the server said. */
  readonly state: 'requested' | 'recording' | 'stopped';
  readonly detail: string | null;
  /** Whether this page asked for it (false: the server records every session on its own). */
  readonly requested: boolean;
}

/** The state after the server's 'recording' message; `requested` is whether this session's start asked for it. */
export function recordingFrom(m: RecordingMessage, requested: boolean): RecordingState {
  return { state: m.state, detail: m.state === 'stopped' ? `${m.code ?? ''} ${m.message ?? ''}`.trim() : null, requested };
}

/** The event-log line for the server's 'recording' message (the Node client says the same). */
export function recordingNote(m: RecordingMessage, requested: boolean): string {
  if (m.state === 'recording') return requested ? 'the server is recording this session' : 'the server is recording this session (it records every session: serve --record)';
  return `recording STOPPED after ${m.steps ?? '?'} steps (${m.code ?? 'no code'}: ${m.message ?? ''}); the session goes on, what was written is kept`;
}

/** The indicator's text; `ended`: the session is over (phase 'ended'). */
export function recordingLabel(rec: RecordingState, ended: boolean, sessionId: string | null): string {
  const by = rec.requested ? '' : ' by the server (it records every session)';
  if (rec.state === 'recording') {
    return ended && sessionId
      ? `● recorded${by}: the server's folder …-${sessionId.slice(0, 8)}.session (solacelive replay it, or open it in the viewer)`
      : `● recording${by}`;
  }
  return rec.state === 'stopped' ? 'recording stopped' : 'recording requested';
}

export interface RecordBox {
  readonly checked: boolean;
  readonly label: string;
  readonly title: string;
}

/**
 * The Record box: the user's choice for the next session, except while a session runs that
 * the server records on its own, when it shows that (ticked, "Record (server)").
 */
export function recordBox(choice: boolean, rec: RecordingState | null, busy: boolean): RecordBox {
  if (busy && rec && !rec.requested && rec.state === 'recording') {
    return { checked: true, label: 'Record (server)', title: 'The server records every session (serve --record DIR), whether asked or not' };
  }
  return { checked: choice, label: 'Record', title: 'Ask the server to record this session (it must run with --record-requested DIR)' };
}
