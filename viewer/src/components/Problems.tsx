// What is wrong with a damaged session and what was recovered: the reader's recoveries
// (torn tails, skipped corrupt records, unfinalised files), files that stopped part-way,
// missing files. Shown above everything else, so numbers below are read knowing it.
import type { LoadedSession } from '../data/load.ts';

export function Problems({ s, packetsError, wavErrors }: { s: LoadedSession; packetsError: string | null; wavErrors: string[] }) {
  const missing = s.reader.missing;
  const items = [
    ...missing.map((f) => `${f} is missing`),
    ...(s.stepsError ? [`steps.jsonl stopped at ${s.stepsError.code}: ${s.stepsError.message} — ${s.steps.length} steps before it are shown`] : []),
    ...(packetsError ? [`packets.bin: ${packetsError}`] : []),
    ...wavErrors,
    ...s.reader.recoveries.map((r) => `${r.code} in ${r.file} at byte ${r.offset}${r.length ? ` (${r.length} bytes)` : ''}: ${r.message}`),
  ];
  if (items.length === 0) return null;
  return (
    <div className="problems" data-testid="problems">
      <b>This session is damaged or incomplete; what could be read is shown ({s.steps.length} steps).</b>
      <ul>{items.map((t, i) => <li key={i}>{t}</li>)}</ul>
    </div>
  );
}
