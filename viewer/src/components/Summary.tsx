// Summary: percentiles per span, budget misses and real-time factor (end to end), events, and how the
// session was made (model, seed, sampling, platform fingerprint, software).
import type { SessionManifest } from '../../../harness/format/manifest.ts';
import { wireOf } from '../../../harness/view/packets.ts';
import type { SessionStats } from '../../../harness/view/stats.ts';
import { keepsUpText } from '../../../src/telemetry/window.ts';
import { SPAN_NAMES } from '../../../src/telemetry/spans.ts';
import { fmtMs, SPAN_COLORS } from '../lib/colors.ts';

function flat(o: unknown, prefix = ''): [string, string][] {
  if (o === null || typeof o !== 'object') return [[prefix, String(o)]];
  return Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => flat(v, prefix ? `${prefix}.${k}` : k));
}

/** How the client spoke to the server: SolaceLive packets, or Moshi at /api/chat (its query and Opus build as recorded). */
function wireText(m: SessionManifest): string {
  if (wireOf(m) === 'solacelive') return 'SolaceLive packets';
  const info = (m.meta.wireInfo ?? {}) as { query?: Record<string, unknown>; opus?: unknown };
  const query = Object.entries(info.query ?? {}).map(([k, v]) => `${k}=${String(v)}`).join('&');
  return `Moshi (/api/chat${query ? `?${query}` : ''}, Ogg Opus${typeof info.opus === 'string' ? `, ${info.opus}` : ''})`;
}

export function Summary({ stats, manifest }: { stats: SessionStats; manifest: SessionManifest }) {
  const rtf = stats.realTimeFactor;
  const engineRtf = stats.engineRealTimeFactor;
  return (
    <div className="summary">
      <table className="spans" data-testid="span-table">
        <thead><tr><th>span</th><th>count</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr></thead>
        <tbody>
          {SPAN_NAMES.map((n) => {
            const s = stats.spans[n];
            if (!s) return null;
            return <tr key={n}><td><span className="swatch" style={{ background: SPAN_COLORS[n] }} />{n}</td><td>{s.count}</td><td>{fmtMs(s.p50)}</td><td>{fmtMs(s.p95)}</td><td>{fmtMs(s.p99)}</td><td>{fmtMs(s.max)}</td></tr>;
          })}
        </tbody>
      </table>
      <dl className="facts">
        <dt>steps</dt><dd>{stats.steps} ({(stats.audioMs / 1000).toFixed(2)} s of audio)</dd>
        <dt>budget misses</dt><dd data-testid="misses">{stats.budgetMisses} of {stats.steps} steps over {stats.budgetMs} ms end to end ({stats.steps ? ((100 * stats.budgetMisses) / stats.steps).toFixed(1) : 0} %)</dd>
        <dt>budget</dt><dd data-testid="keeps-up" className={stats.keepsUp === false ? 'warn' : ''} title="e2e (frame in → reply out) p99 within the budget: at most 1 % of steps over it">{keepsUpText(stats.keepsUp)}</dd>
        <dt>real-time factor</dt><dd data-testid="rtf" title="mean e2e / 80 ms (frame in → reply out); engine: mean step.total / 80 ms, model work alone">{rtf === null ? '–' : `${rtf.toFixed(2)} end to end`}{engineRtf === null ? '' : ` · engine ${engineRtf.toFixed(2)}`}</dd>
        <dt>wall time</dt><dd>{(stats.wallMs / 1000).toFixed(2)} s to the last step</dd>
        <dt>events</dt><dd>{Object.entries(stats.events).map(([k, v]) => `${k} ×${v}`).join(', ') || 'none'}</dd>
        <dt>model</dt><dd>{manifest.model.id}{(manifest.meta as { untrained?: boolean }).untrained ? ' (untrained synthetic weights)' : ''}</dd>
        <dt>wire protocol</dt><dd data-testid="wire">{wireText(manifest)}</dd>
        <dt>seed / sampling</dt><dd>{manifest.seed} · {Object.entries(manifest.sampling).map(([k, v]) => `${k} ${String(v)}`).join(', ')}</dd>
        <dt>recorded</dt><dd>{manifest.createdAt} · {manifest.status}</dd>
        <dt>software</dt><dd>{manifest.software.package} {manifest.software.version} {manifest.software.gitCommit?.slice(0, 10) ?? ''}</dd>
      </dl>
      <details className="platform">
        <summary>platform fingerprint</summary>
        <dl className="facts">{flat(manifest.platform).map(([k, v]) => [<dt key={`${k}t`}>{k}</dt>, <dd key={`${k}d`}>{v}</dd>])}</dl>
      </details>
    </div>
  );
}
