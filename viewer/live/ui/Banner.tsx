// The two banners: the server is degraded (it cannot run a model: not the page's fault,
// retry later), and anything else that stopped the session (mic denied, unreachable…).
import type { Problem } from '../session.ts';

export function Banner({ kind, problem }: { kind: 'degraded' | 'error'; problem: Problem }) {
  return (
    <div className={`banner ${kind}`} role="alert" data-testid={kind === 'degraded' ? 'banner-degraded' : 'banner-error'}>
      <strong>{kind === 'degraded' ? `Server degraded — ${problem.title}` : problem.title}</strong>
      <span>{problem.detail}</span>
    </div>
  );
}
