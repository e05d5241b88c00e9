// `solacelive proxy --upstream URL`: the recording Moshi proxy in front of any Moshi server.
import { CliError, intOption, parseCommandArgs, requireOption, UsageError, type Command } from '../../src/cli/args.ts';
import { parseAllowOrigins } from '../../src/server/request-guard.ts';
import { prepareRecordingFolder } from '../format/writer.ts';
import { METER_DEFAULTS } from '../measure/index.ts';
import { PROXY_DEFAULTS, ProxyError, startProxy } from '../proxy/index.ts';

function positive(values: Record<string, unknown>, name: string, fallback: number): number {
  const n = intOption(values, name, fallback);
  if (n <= 0) throw new UsageError(`--${name} must be an integer > 0 (got ${n})`);
  return n;
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    upstream: { type: 'string' }, listen: { type: 'string' }, record: { type: 'string' }, 'allow-origin': { type: 'string', multiple: true },
    'stall-ms': { type: 'string' }, 'timeout-ms': { type: 'string' }, 'late-ms': { type: 'string' }, 'warmup-frames': { type: 'string' },
    'max-buffered': { type: 'string' }, 'upstream-timeout-ms': { type: 'string' }, 'measure-hang-ms': { type: 'string' },
  });
  const upstream = requireOption(values, 'upstream');
  const listen = values.listen ?? `${PROXY_DEFAULTS.host}:8998`;
  const m = /^(.*):(\d{1,5})$/.exec(listen);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen must be HOST:PORT (got ${listen})`);
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1');
  let allowOrigins: string[];
  try {
    allowOrigins = parseAllowOrigins(values['allow-origin'] ?? []);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const warmup = intOption(values, 'warmup-frames', METER_DEFAULTS.warmupFrames);
  if (warmup < 0) throw new UsageError('--warmup-frames must be >= 0');
  const meter = {
    stallMs: positive(values, 'stall-ms', METER_DEFAULTS.stallMs), clientTimeoutMs: positive(values, 'timeout-ms', METER_DEFAULTS.clientTimeoutMs),
    lateMs: positive(values, 'late-ms', METER_DEFAULTS.lateMs), warmupFrames: warmup,
  };
  const record = values.record ?? null;
  if (record !== null) prepareRecordingFolder(record);
  const log = (line: string) => console.error(`solacelive proxy: ${line}`);
  let proxy;
  try {
    proxy = await startProxy({
      upstream, host, port: Number(m[2]), allowOrigins, record, meter, log,
      maxBufferedBytes: positive(values, 'max-buffered', PROXY_DEFAULTS.maxBufferedBytes), upstreamTimeoutMs: positive(values, 'upstream-timeout-ms', PROXY_DEFAULTS.upstreamTimeoutMs),
      measureHangMs: positive(values, 'measure-hang-ms', PROXY_DEFAULTS.measureHangMs),
    });
  } catch (err) {
    if (err instanceof ProxyError) throw new CliError(err.code, err.message);
    throw err;
  }
  log(`listening on ${proxy.url}/api/chat (any path) → ${upstream}${record ? `, recording into ${record}` : ''}`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      log('stopping: open connections are closed (1001) and their sessions finalized');
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await proxy.close();
  return 0;
}

export const command: Command = {
  summary: 'recording proxy in front of any Moshi server: forwards /api/chat unchanged, measures lag, stalls, turn-taking',
  help: [
    'usage: solacelive proxy --upstream ws://HOST:PORT/api/chat [--listen 127.0.0.1:PORT] [--record DIR] [options]',
    '',
    'A WebSocket proxy a Moshi client connects to instead of the server (Kyutai\'s web client, the',
    'Rust/PyTorch/MLX servers, SolaceLive on /api/chat). Each connection opens its own upstream',
    'connection (same query string, same Authorization header) and every message is forwarded both',
    'ways unchanged and in order. Host/Origin rules are those of `solacelive serve`. When a',
    'connection ends the proxy prints its figures, measured from timing alone: time to handshake and',
    'to first audio; response lag per 80 ms frame (server frame j answers client frame j+warm-up, by',
    'order) with p50/p95/p99 and its growth in ms per minute (only over >= 20 s of answered frames,',
    'else none and the reason); late and missing server audio; stalls (gaps in server audio);',
    'silences long enough for Kyutai\'s client to give up (10 s); text timing;',
    'turn-taking from energy voice activity on both sides (response gap, overlaps, barge-ins); who',
    'closed, with the close code. An upstream that cannot be reached, refuses (its HTTP status is',
    'passed on) or does not answer in time is reported to the client as HTTP 502/status/504.',
    '',
    '  --upstream URL          the Moshi server (ws:// or wss://; its path is used, the client\'s query added)',
    '  --listen HOST:PORT      where clients connect (default 127.0.0.1:8998; port 0 picks one)',
    '  --record DIR            one session folder per connection in DIR (packets.bin both ways with',
    '                          capture times, input.wav/output.wav decoded, manifest, proxy.json with',
    '                          the figures); such a session cannot be replayed offline (no model)',
    '  --allow-origin ORIGIN   also accept browser pages from ORIGIN (repeatable)',
    `  --stall-ms N            a gap in server audio longer than N ms is a stall (default ${METER_DEFAULTS.stallMs})`,
    `  --timeout-ms N          no server message for N ms: the client-timeout event (default ${METER_DEFAULTS.clientTimeoutMs})`,
    `  --late-ms N             a frame is late beyond the session's smallest lag + N ms (default ${METER_DEFAULTS.lateMs})`,
    `  --warmup-frames N       server frames that answer nothing at the start (default ${METER_DEFAULTS.warmupFrames})`,
    `  --max-buffered BYTES    unread bytes a side may leave before the connection is closed (1013; default ${PROXY_DEFAULTS.maxBufferedBytes})`,
    `  --upstream-timeout-ms N how long the upstream may take to accept (default ${PROXY_DEFAULTS.upstreamTimeoutMs})`,
    `  --measure-hang-ms N     measuring (decoding, figures, recording) runs in a worker thread beside the`,
    `                          forwarding; one that does nothing for N ms while it has work is taken for hung:`,
    `                          it is stopped, its connections' reports say so, forwarding goes on (default ${PROXY_DEFAULTS.measureHangMs})`,
    '',
    'Ctrl-C closes open connections (1001), finalizes their sessions and exits.',
  ].join('\n'),
  run,
};
