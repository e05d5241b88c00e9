// The summary of a proxied or load-test session in place of the engine's (no spans, no budget
// verdict): the connection as the measuring point saw it, and how the session was recorded.
import type { SessionManifest } from '../../../harness/format/manifest.ts';
import { proxyMetaOf } from '../../../harness/format/proxied.ts';
import type { ConnectionFigures } from '../../../harness/measure/meter.ts';
import { endText, type MeasuredSession } from '../../../harness/view/proxied.ts';
import { fmtMs } from '../lib/colors.ts';

export function MeasuredSummary({ m, f, manifest }: { m: MeasuredSession; f: ConnectionFigures | null; manifest: SessionManifest }) {
  const meta = proxyMetaOf(manifest);
  const query = Object.entries(meta?.query ?? {}).map(([k, v]) => `${k}=${v}`).join('&');
  return (
    <dl className="facts" data-testid="measured-summary">
      <dt>{m.kind === 'proxied' ? 'proxied to' : 'load test of'}</dt><dd>{m.upstream}{query ? `?${query}` : ''}</dd>
      {meta && <><dt>client</dt><dd>{meta.client.address ?? '–'}{meta.client.userAgent ? ` · ${meta.client.userAgent}` : ''}{meta.client.origin ? ` · ${meta.client.origin}` : ''}</dd></>}
      {f && <>
        <dt>connection</dt><dd>{(f.durationMs / 1000).toFixed(2)} s · {endText(f.end)}</dd>
        <dt>handshake / first audio</dt><dd>{fmtMs(f.handshakeMs, 0)} / {fmtMs(f.firstAudioMs, 0)}</dd>
        <dt>audio frames</dt><dd>{f.client.audioFrames} sent by the client · {f.server.audioFrames} back{f.lag.unmatched ? ` (${f.lag.unmatched} answering no client frame)` : ''}</dd>
        <dt>late / missing</dt><dd className={f.late.count + f.missing.count > 0 ? 'warn' : ''}>{f.late.count} late (over the smallest lag + {f.late.thresholdMs} ms) · {f.missing.count} missing</dd>
        <dt>messages</dt><dd>client {f.client.messages} ({f.client.bytes} B) · server {f.server.messages} ({f.server.bytes} B): {Object.entries(f.server.byKind).map(([k, v]) => `${k} ×${v}`).join(', ')}</dd>
        {(f.client.audioError || f.server.audioError) && <><dt>audio decoding</dt><dd className="error">{[f.client.audioError && `client: ${f.client.audioError}`, f.server.audioError && `server: ${f.server.audioError}`].filter(Boolean).join(' · ')}</dd></>}
        <dt>lag method</dt><dd className="muted">{f.lag.method}</dd>
      </>}
      <dt>recorded</dt><dd>{manifest.createdAt} · {manifest.status}</dd>
      <dt>not known here</dt><dd className="muted">{meta?.unknown.length ? `${meta.unknown.join(', ')} (the client did not ask; written as 0)` : 'nothing the manifest needs'}; model, weights and per-step spans (the server's own)</dd>
      <dt>software</dt><dd>{manifest.software.package} {manifest.software.version} {manifest.software.gitCommit?.slice(0, 10) ?? ''}</dd>
    </dl>
  );
}
