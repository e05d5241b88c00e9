// The sessions list (from the view server): sortable by any column, filtered by text. "last
// replay" is whether the session reproduces (replays only); "last diff" is how it compared
// with another session, under that pair's expectation (a diff is not a replay verdict).
// A session measured from outside the server (proxied, load test) is marked as such and shows
// its response lag p99 and stalls where an engine session shows its step figures.
import { useMemo, useState } from 'react';
import type { SessionListEntry } from '../../../harness/view/list-entry.ts';
import type { ResultSummary } from '../../../harness/view/results.ts';
import { fmtMs } from '../lib/colors.ts';

type Key = 'name' | 'createdAt' | 'model' | 'durationMs' | 'steps' | 'budgetMisses' | 'p99StepMs' | 'replay' | 'diff';
const COLUMNS: readonly [Key, string][] = [
  ['name', 'name'], ['createdAt', 'date'], ['model', 'model'], ['durationMs', 'duration'], ['steps', 'steps'],
  ['budgetMisses', 'budget misses'], ['p99StepMs', 'p99 step (lag p99)'], ['replay', 'last replay'], ['diff', 'last diff'],
];

const diffText = (d: ResultSummary) => `vs ${d.against}: ${d.verdict}${d.recordedDifferently ? ` (expected: ${d.recordedDifferently} ${d.recordedDifferently.includes(',') ? 'differ' : 'differs'})` : ''}`;
const value = (e: SessionListEntry, k: Key): string | number => (k === 'replay' ? e.replay?.verdict ?? '' : k === 'diff' ? (e.diff ? diffText(e.diff) : '') : e[k] ?? '');
const NO_ENGINE = 'no engine step records: measured from outside the server (see its lag and stalls)';
const measuredText = (m: NonNullable<SessionListEntry['measured']>) => (m.figuresError ? m.figuresError : `lag p99 ${fmtMs(m.lagP99Ms)}${m.stalls ? ` · ${m.stalls} stalls` : ''}`);

const outcomeClass = (r: ResultSummary | null) => (r === null ? 'muted' : r.outcome === 'met' ? 'ok' : r.outcome === 'not met' ? 'error' : 'muted');

export function SessionsList({ sessions }: { sessions: readonly SessionListEntry[] }) {
  const [sort, setSort] = useState<{ key: Key; desc: boolean }>({ key: 'createdAt', desc: true });
  const [filter, setFilter] = useState('');
  const rows = useMemo(() => {
    const q = filter.trim().toLowerCase();
    const out = sessions.filter((e) => !q || [e.name, ...e.aliases, e.model ?? '', e.replay?.verdict ?? '', e.status ?? '', e.error?.code ?? '', e.measured?.kind ?? ''].join(' ').toLowerCase().includes(q));
    return out.sort((a, b) => {
      const x = value(a, sort.key), y = value(b, sort.key);
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return sort.desc ? -c : c;
    });
  }, [sessions, sort, filter]);
  return (
    <div className="sessions">
      <input className="filter" data-testid="sessions-filter" placeholder="filter by name, model, verdict…" value={filter} onChange={(e) => setFilter(e.target.value)} />
      <table data-testid="sessions-table">
        <thead>
          <tr>{COLUMNS.map(([k, label]) => (
            <th key={k} onClick={() => setSort((s) => ({ key: k, desc: s.key === k ? !s.desc : false }))} className="sortable">
              {label}{sort.key === k ? (sort.desc ? ' ▼' : ' ▲') : ''}
            </th>
          ))}</tr>
        </thead>
        <tbody>
          {rows.map((e) => (
            <tr key={e.name} data-testid="session-row" data-measured={e.measured?.kind ?? ''}>
              <td><a href={`#/s/${encodeURIComponent(e.name)}`}>{e.name}</a>
                {e.measured && <span className="badge" data-testid="measured-badge" title={`measured from outside the server: ${e.measured.upstream}`}>{e.measured.kind}</span>}
                {e.aliases.length > 0 && <div className="muted" data-testid="aliases">also linked as {e.aliases.join(', ')}</div>}
                {e.error && <div className="error">{e.error.code}: {e.error.message}</div>}{e.recoveries > 0 && <div className="warn">{e.recoveries} recoveries</div>}</td>
              <td>{e.createdAt?.replace('T', ' ').replace(/\.\d+Z$/, 'Z') ?? '–'}</td>
              <td>{e.model ?? '–'}</td>
              <td>{(e.durationMs / 1000).toFixed(1)} s</td>
              <td>{e.steps}</td>
              {e.measured ? <>
                <td className="muted" title={NO_ENGINE}>n/a</td>
                <td className={e.measured.figuresError ? 'error' : e.measured.stalls ? 'warn' : ''} data-testid="measured-lag">{measuredText(e.measured)}</td>
              </> : <>
                <td className={e.budgetMisses > 0 ? 'warn' : ''}>{e.budgetMisses}</td>
                <td>{fmtMs(e.p99StepMs)}</td>
              </>}
              <td className={outcomeClass(e.replay)} title={e.replay?.expectation}>{e.replay?.verdict ?? '—'}</td>
              <td className={outcomeClass(e.diff)} title={e.diff?.expectation} data-testid="last-diff">{e.diff ? diffText(e.diff) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && <p className="muted">{sessions.length ? 'no session matches the filter' : 'no sessions in the folder'}</p>}
    </div>
  );
}
