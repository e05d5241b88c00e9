// What a corpus replay prints: one verdict line per session as it finishes, a progress line
// (key=value, for logs and CI), and the summary. Plain text, no colours: CI reads it.
import { summaryLine } from '../dashboard/plain.ts';
import { entryVerdict, type CorpusEntry, type CorpusProgress, type CorpusSummary } from './corpus.ts';

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** `OK      bit-exact  hello.session  25 steps  0.61 s  3.29× real time  worker 1` */
export function entryLine(e: CorpusEntry): string {
  const mark = e.ok ? 'OK     ' : e.error ? 'ERROR  ' : 'NOT MET';
  if (e.error) {
    // Most errors already start with the session's path.
    const first = e.error.message.split('\n')[0]!;
    return `${mark} ${e.error.code}  ${e.session}: ${first.startsWith(`${e.session}: `) ? first.slice(e.session.length + 2) : first}`;
  }
  const r = e.report!;
  const c = r.comparison;
  const verdict = c.kind === 'diverged' ? `diverged at step ${c.divergedAt}` : r.verdict;
  const expected = e.ok ? '' : `  (expected ${e.expect}${r.fingerprintDiffs.length ? ': platform differs' : ''})`;
  return `${mark} ${verdict}  ${e.session}  ${r.stepsReplayed} steps  ${secs(r.wallMs)}  ${r.speed.toFixed(2)}× real time  worker ${e.worker}${expected}`;
}

export function corpusProgressLine(p: CorpusProgress): string {
  return summaryLine('replay-corpus', [
    ['done', p.done], ['of', p.sessions], ['running', p.running.filter((s) => s !== null).length], ['failed', p.failed],
    ['speed', Math.round(p.speed * 100) / 100], ['wall_s', Math.round(p.wallMs / 100) / 10], ['finished', p.finished],
  ]);
}

export function summaryLines(s: CorpusSummary): string[] {
  const order = ['bit-exact', 'token-exact', 'diverged'];
  const keys = [...order.filter((k) => s.counts[k]), ...Object.keys(s.counts).filter((k) => !order.includes(k)).sort()];
  const failed = s.entries.filter((e) => !e.ok);
  return [
    `corpus   ${s.entries.length} session${s.entries.length === 1 ? '' : 's'} on ${s.jobs} worker${s.jobs === 1 ? '' : 's'}: ${keys.map((k) => `${s.counts[k]} ${k}`).join(', ')}`,
    `time     ${secs(s.wallMs)} wall for ${secs(s.audioMs)} of audio: ${s.speed.toFixed(2)}× real time`,
    s.ok ? 'result   every session met its expected verdict: OK' : `result   ${failed.length} not met: ${failed.map((e) => `${e.session} (${entryVerdict(e)})`).join(', ')}`,
  ];
}
