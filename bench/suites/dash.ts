// Does an attached dashboard slow the server? The server's step.total with `solacelive dash`
// watching it, against the same real-time session without one (the floor), one trial of each
// per round, the order alternating, so drift in the machine's load falls on both alike. The
// server runs in the suite process with the real engine process (tiny model); a fast client
// in this process streams hello.wav in real time. The dashboard runs as a user runs it: the
// CLI in a detached tmux session at 80×24 (a real terminal, so Ink renders), at 10 snapshots/s
// (its most), started before its trial and stopped after it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { splitFrames } from '../../src/audio/frames.ts';
import { toMono24k } from '../../src/audio/resample.ts';
import { readWavSync } from '../../src/audio/wav-file.ts';
import { connect } from '../../src/client/connect.ts';
import { EngineHost } from '../../src/engine/host.ts';
import { resolveModel } from '../../src/engine/models.ts';
import { createServer } from '../../src/server/server.ts';
import { pinnedBlas } from '../lib/blas.ts';
import { ROOT } from '../lib/paths.ts';
import type { SuiteDef } from '../lib/suite-api.ts';

const BIN = join(ROOT, 'bin', 'solacelive.mjs');
const HZ = 10;
/** Starting Node, stripping types and loading Ink takes seconds on a loaded machine. */
const ATTACH_TIMEOUT_MS = 60_000;

const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' });

export const dashSuite: SuiteDef = {
  name: 'dash',
  describe: 'server step.total with `solacelive dash` attached (tmux 80×24, 10 Hz) against without, real-time sessions',
  async setup(ctx) {
    if (ctx.config !== 'tiny') return { skipped: 'the dashboard overhead is benched with the tiny model only' };
    if (tmux('-V').status !== 0) return { skipped: 'tmux is not installed (npm run setup installs it): the dashboard runs in a real terminal' };
    const seconds = ctx.quick ? 3 : 6;
    const hello = readWavSync(join(ROOT, 'fixtures/audio/hello.wav'));
    const { frames: clip } = splitFrames(toMono24k(hello.channels, hello.sampleRate).samples);
    const frames = Array.from({ length: Math.round((seconds * 1000) / 80) }, (_, i) => clip[i % clip.length]!);
    const engine = new EngineHost({ spec: resolveModel('tiny', ctx.log), blas: pinnedBlas() });
    if (!(await engine.start())) throw new Error(`the engine did not start: ${engine.reason}`);
    const totals: number[] = [];
    const server = createServer({ port: 0 }, engine, {
      onStepFinished: (_id, { spans }) => {
        if (spans['step.total'] !== undefined) totals.push(spans['step.total']);
      },
    });
    const { url } = await server.start();
    const http = url.replace(/^ws:/, 'http:');
    const name = `bench-dash-${process.pid}`;

    const attach = async (): Promise<void> => {
      // As a person runs it: without the CI flag a CI job gives this process (it makes dash print plain lines).
      tmux('new-session', '-d', '-s', name, '-x', '80', '-y', '24', `exec env -u CI ${process.execPath} ${BIN} dash --url ${http} --hz ${HZ}`);
      const end = performance.now() + ATTACH_TIMEOUT_MS;
      while (!tmux('capture-pane', '-p', '-t', name).stdout.includes('● live')) {
        if (performance.now() > end) {
          const screen = tmux('capture-pane', '-p', '-t', name).stdout;
          tmux('kill-session', '-t', name);
          throw new Error(`the dashboard did not connect within ${ATTACH_TIMEOUT_MS / 1000} s; its screen:\n${screen}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    /** One real-time session: the step.total of each of its steps on the server. */
    const session = async (): Promise<number[]> => {
      totals.length = 0;
      const client = await connect(url, { pace: 'realtime', seed: 1 });
      await client.run(frames);
      return [...totals];
    };
    // Not counted: the first steps of a server compile kernels.
    await session();

    return {
      describe: `one ${seconds} s real-time session with and one without the dashboard per round (order alternating)`,
      figures: [
        { name: 'step.total', calibration: 'matmul', budget: true, floor: { kind: 'direct', bytes: 0, sample: 'without', describe: 'step.total of the same session without a dashboard' } },
      ],
      notes: [`dashboard: \`solacelive dash --hz ${HZ}\` in tmux 80×24, attached (● live) before its session starts`],
      async round(index, tick) {
        const out: Record<string, number[]> = { 'step.total': [], without: [] };
        for (const withDash of index % 2 === 0 ? [false, true] : [true, false]) {
          if (withDash) await attach();
          tick();
          try {
            out[withDash ? 'step.total' : 'without']!.push(...(await session()));
          } finally {
            if (withDash) tmux('kill-session', '-t', name);
          }
          tick();
        }
        return out;
      },
      async close() {
        tmux('kill-session', '-t', name);
        await server.stop();
        await engine.close();
      },
    };
  },
};
