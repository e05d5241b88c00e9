// `solacelive export-trace SESSION --out trace.json`: a session as Chrome Trace Event JSON
// for ui.perfetto.dev (the converter is src/telemetry/chrome-trace.ts, shared with the viewer).
// A session measured from outside (proxy, load test) has no spans: its trace is its figures.
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { CliError, parseCommandArgs, requireOption, UsageError, type Command } from '../../src/cli/args.ts';
import { checkOutputFile } from '../../src/cli/output-path.ts';
import { openSession, PROXY_FILE, type ReadStep, type SessionReader } from '../format/node.ts';
import { measuredSession, parseProxyFile, type MeasuredSession } from '../view/proxied.ts';
import { inputFramingOf, packetRowReader, wireOf, type PacketRow } from '../view/packets.ts';
import { sessionTrace } from '../view/trace-input.ts';

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
  const measured = measuredSession(r.manifest);
  const trace = sessionTrace(basename(path), r.manifest, steps, packets, measured === null ? null : await figuresOf(r, path, measured));
  await writeFile(out, JSON.stringify(trace));
  const what = measured === null ? `${steps.length} steps` : `a ${measured.kind} session: lag, stalls and events from ${PROXY_FILE}`;
  console.log(`${out}: ${trace.traceEvents.length} trace events (${what}, ${packets.length} packets); open it in https://ui.perfetto.dev`);
  return 0;
}

/** Largest proxy.json read (a 10-hour session's figures are ~10 MB), as the viewer's list. */
const MAX_PROXY_FILE_BYTES = 64 * 1024 * 1024;

/** A measured session's figures from its proxy.json; missing or unreadable is a CliError naming the session and the file. */
async function figuresOf(r: SessionReader, path: string, m: MeasuredSession) {
  const refuse = (why: string): never => {
    throw new CliError('EXPORT_ERR_PROXY_FILE', `${path} is a proxy recording (${m.kind}, upstream ${m.upstream}): its trace is drawn from ${PROXY_FILE}, and ${why}`);
  };
  const size = await r.files.size(PROXY_FILE);
  if (size === undefined) return refuse(`${PROXY_FILE} is missing`);
  if (size > MAX_PROXY_FILE_BYTES) return refuse(`${PROXY_FILE} is larger than ${MAX_PROXY_FILE_BYTES} bytes`);
  try {
    return parseProxyFile(new TextDecoder().decode(await r.files.read(PROXY_FILE, 0, size))).figures;
  } catch (err) {
    return refuse((err as Error).message);
  }
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
    'A session recorded by `solacelive proxy` (or a load test) has no engine spans; its trace is',
    'what was measured (proxy.json): packet tracks both ways, each answered frame\'s response',
    'lag as a slice from the client frame\'s arrival to its reply\'s and as a counter, stalls',
    'and client-timeout silences as slices, text, events and the close as instants.',
    '',
    '  --out FILE  where to write the JSON (required)',
    '  --salvage   skip corrupt records in the middle of the files instead of stopping',
  ].join('\n'),
  run,
};
