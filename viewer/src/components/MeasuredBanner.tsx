// What a session measured from outside the server is, said before any figure: who recorded
// it, whom it measured, and what it cannot know (no engine step records: no step spans and
// no 80 ms budget verdict), so nothing below reads as an engine's empty or zero.
import type { MeasuredSession } from '../../../harness/view/proxied.ts';

const RECORDER = { proxied: '`solacelive proxy`, between a Moshi client and', 'load test': 'a `solacelive loadtest` client, against' } as const;

export function MeasuredBanner({ m, figuresError }: { m: MeasuredSession; figuresError: string | null }) {
  return (
    <div className="measured" data-testid="measured" data-kind={m.kind} data-upstream={m.upstream}>
      <b>{m.kind === 'proxied' ? 'Proxied session' : 'Load-test session'}</b>: recorded by {RECORDER[m.kind]} <code data-testid="upstream">{m.upstream}</code>.{' '}
      It has no step records from an engine, so there are no step spans and no 80 ms budget verdict here: what the server spent on each
      frame is not visible from outside. Shown instead is what timing alone gives: the response lag of each reply, stalls, the
      client&apos;s 10 s give-up, the close, turn-taking, both audio streams, the text and every message.
      {figuresError && <div className="error" data-testid="figures-error">{figuresError}</div>}
    </div>
  );
}
