// `solacelive export-trace SESSION --out trace.json`: a session as Chrome Trace Event JSON
// for ui.perfetto.dev (the converter is src/telemetry/chrome-trace.ts, shared with the viewer).
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseCommandArgs, requireOption, UsageError, type Command } from '../../src/cli/args.ts';
import { checkOutputFile } from '../../src/cli/output-path.ts';
import { sessionToChromeTrace } from '../../src/telemetry/chrome-trace.ts';
import { openSession, type ReadStep } from '../format/node.ts';
import { inputFramingOf, packetRowReader, wireOf, type PacketRow } from '../view/packets.ts';
import { traceInput } from '../view/trace-input.ts';

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { out: { type: 'string' }, salvage: { type: 'boolean' } }, true);
  if (positionals.length !== 1) throw new UsageError('give exactly one SESSION folder (or .zip)');
  const out = requireOption(values, 'out');
  checkOutputFile(out);
  const path = positionals[0]!.replace(/\/+$/, '');
  const r = await openSession(path, { salvage: values.salvage === true });
  const steps: ReadStep[] = [];
  for await (const s of r.steps()) steps.push(s);
  const packets: PacketRow[] = [];
  const row = packetRowReader(wireOf(r.manifest), inputFramingOf(r.manifest));
  for await (const p of r.packets()) packets.push(row(packets.length, p.direction, p.timeMs, p.bytes));
  for (const rec of r.recoveries) console.error(`solacelive export-trace: recovered: ${rec.code} in ${rec.file} at ${rec.offset}: ${rec.message}`);
  const trace = sessionToChromeTrace(traceInput(basename(path), r.manifest, steps, packets));
  await writeFile(out, JSON.stringify(trace));
  console.log(`${out}: ${trace.traceEvents.length} trace events (${steps.length} steps, ${packets.length} packets); open it in https://ui.perfetto.dev`);
  return 0;
}

export const command: Command = {
  summary: 'export a session as Chrome Trace Event JSON (open in ui.perfetto.dev)',
  help: [
    'usage: solacelive export-trace SESSION --out trace.json [--salvage]',
    '',
    'Writes the session (a folder or a .zip of one) as Chrome Trace Event JSON: one track per',
    'stage (net.recv, queue.wait, mimi.encode, lm.temporal, lm.depformer, mimi.decode,',
    'net.send) plus the engine step, complete ("X") slices that never overlap on a track,',
    'packet tracks for both directions, counters for queue depth and input/output jitter,',
    'flow arrows packet → step → reply, and budget misses and step events as instants.',
    'Span durations are as recorded; their start times are reconstructed from each step\'s',
    'result time (a second lane of a stage holds slices that would otherwise overlap, e.g.',
    'frames waiting in the queue together). Open the file in https://ui.perfetto.dev.',
    '',
    '  --out FILE  where to write the JSON (required)',
    '  --salvage   skip corrupt records in the middle of the files instead of stopping',
  ].join('\n'),
  run,
};
