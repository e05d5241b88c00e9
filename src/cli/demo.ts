// `solacelive demo`: the main job in one command. Starts the packet server with the
// embedded tiny model on a free loopback port, streams a fixture WAV through the Node
// client in real time, writes the reply, and shows per-stage latency against the 80 ms
// budget. Everything is real (engine child process, WebSocket, MLX); the tiny model's
// weights are synthetic, so the reply is noise, not speech.
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { connect } from '../client/index.ts';
import { readWavSync, writeWavSync } from '../audio/wav-file.ts';
import { splitFrames } from '../audio/frames.ts';
import { toMono24k } from '../audio/resample.ts';
import { EngineHost } from '../engine/host.ts';
import { resolveModel } from '../engine/models.ts';
import { createServer } from '../server/server.ts';
import { resolveServerOptions } from '../server/options.ts';
import { BUDGET_MS, SPAN_NAMES } from '../telemetry/index.ts';
import { intOption, parseCommandArgs, type Command } from './args.ts';

const FIXTURE = resolve(fileURLToPath(import.meta.url), '../../../fixtures/audio/hello.wav');

async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { in: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, model: { type: 'string' } });
  const input = values.in ?? FIXTURE;
  const out = values.out ?? join(tmpdir(), 'solacelive-demo-reply.wav');
  const seed = intOption(values, 'seed', 1);
  const log = (m: string) => console.log(m);

  const spec = resolveModel(values.model, log);
  const engine = new EngineHost({ spec });
  const server = createServer(resolveServerOptions({ host: '127.0.0.1', port: 0 }), engine);
  const { url } = await server.start();
  log(`server     ${url} (model ${spec.name}${spec.untrained ? ', UNTRAINED synthetic weights: the reply is noise, not speech' : ''})`);
  const info = await engine.start();
  if (!info) {
    console.error(`engine did not start: ${engine.reason}`);
    await server.stop();
    return 1;
  }
  try {
    const wav = readWavSync(input);
    const mono = toMono24k(wav.channels, wav.sampleRate);
    const { frames } = splitFrames(mono.samples);
    log(`input      ${input}: ${frames.length} frames of 80 ms (${(mono.samples.length / 24000).toFixed(2)} s)${mono.resampled || mono.downmixed ? `, ${mono.summary}` : ''}`);
    log('streaming  at real-time pace …');
    const client = await connect(url, { seed, pace: 'realtime' });
    const result = await client.run(frames);
    writeWavSync(out, result.audio, 24000);
    const h = server.health() as { spans: Record<string, { p50: number; p95: number; p99: number; max: number }>; budgetMisses: number; steps: number };
    log(`reply      ${out}: ${result.audioFrames} audio frames for ${result.framesSent} sent (${result.ok ? 'every frame answered' : 'INCOMPLETE'})`);
    log(`latency    frame sent → audio back: p50 ${result.latency.p50.toFixed(1)} ms, p99 ${result.latency.p99.toFixed(1)} ms`);
    log(`engine     per stage over ${h.steps} steps (budget ${BUDGET_MS} ms per step, ${h.budgetMisses} misses):`);
    for (const name of SPAN_NAMES) {
      const s = h.spans[name];
      if (!s) continue;
      const bar = '#'.repeat(Math.min(40, Math.round((s.p99 / BUDGET_MS) * 40)));
      log(`  ${name.padEnd(13)} p50 ${s.p50.toFixed(2).padStart(7)}  p99 ${s.p99.toFixed(2).padStart(7)} ms  ${bar}`);
    }
    return result.ok ? 0 : 1;
  } finally {
    await server.stop();
    await engine.close();
  }
}

export const command: Command = {
  summary: 'serve the tiny model, stream a fixture WAV through the client, show latency per stage',
  help: [
    'usage: solacelive demo [--in IN.wav] [--out OUT.wav] [--seed N] [--model tiny|DIR|REPO]',
    '',
    'Starts the packet server on a free loopback port with the embedded tiny model (real',
    'architecture, UNTRAINED synthetic weights generated into the cache on first use),',
    'streams IN.wav (default fixtures/audio/hello.wav) through the Node client at real-time',
    'pace, writes the reply to OUT.wav (default in the temp folder) and prints end-to-end',
    'latency and per-stage latency against the 80 ms budget.',
  ].join('\n'),
  run,
};
