// The proxy's input.wav is the server's: a Node Moshi client through `solacelive proxy --record`
// to a recording SolaceLive server (real sockets on loopback, tiny engine child process), and
// the proxy's tap (harness/measure/opus-tap.ts) cuts the client's pages into the same frames,
// sample for sample, that the server stepped and recorded, each completed by the same message,
// up to the padded tail the client's EOS page completes (the server steps and answers it too).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMoshi, moshiQuery } from '../../../src/client/moshi.ts';
import { openSession, type SessionReader } from '../../../harness/format/node.ts';
import { Recorder } from '../../../harness/recorder.ts';
import type { MoshiProxy } from '../../../harness/proxy/index.ts';
import { testFrames } from '../../server/live/engine.ts';
import { startServedProxy, type ServedProxy } from './served-proxy.ts';

const FRAMES = 12;
const dir = mkdtempSync(join(tmpdir(), 'solacelive-proxy-frames-'));
let served: ServedProxy;
let recorder: Recorder;
let proxy: MoshiProxy;

beforeAll(async () => {
  served = await startServedProxy({ host: '127.0.0.1', missingFrameMs: 10_000 }, { record: join(dir, 'proxy'), log: () => undefined }, (engine) =>
    (recorder = new Recorder({ dir: join(dir, 'server'), mode: 'requested', engineInfo: () => engine.info, name: () => 'served.session' })));
  proxy = served.proxy;
}, 120_000);
afterAll(async () => {
  await served?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A session's steps and how many of them hold an answer (output audio). */
async function answers(r: SessionReader): Promise<{ steps: number; answered: number }> {
  let steps = 0;
  let answered = 0;
  for await (const s of r.steps()) {
    steps++;
    if (s.pcmHash !== null) answered++;
  }
  return { steps, answered };
}

async function inputFrames(r: SessionReader): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for await (const f of (await r.wav('input')).frames()) out.push(f.slice());
  return out;
}

describe('the proxy tap and the server cut the same input frames', () => {
  it("the proxied session's input.wav frames are the server's input.wav frames, the EOS page's padded tail included, and it holds as many steps and answers", async () => {
    const before = proxy.reports.length;
    const c = await connectMoshi(`${proxy.url}/api/chat`, { query: moshiQuery({ seed: 21, record: true }) });
    const result = await c.run(testFrames(FRAMES, 8));
    expect(result.ok).toBe(true);
    const deadline = performance.now() + 20_000;
    while (proxy.reports.length <= before && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const report = proxy.reports[before]!;
    await recorder.closeAll();
    const served = recorder.status().find((s) => s.path.endsWith('served.session'))!;
    const [mine, theirs] = await Promise.all([openSession(report.path!), openSession(served.path)]);
    const [proxied, stepped] = await Promise.all([inputFrames(mine), inputFrames(theirs)]);
    // The client's EOS page completes one more (padded) frame, which the server steps and answers.
    expect(stepped.length).toBeGreaterThan(FRAMES);
    expect(proxied.length).toBe(stepped.length);
    proxied.forEach((f, k) => expect(f, `frame ${k}`).toEqual(stepped[k]));
    expect(report.figures.client.audioFrames).toBe(stepped.length);
    // Every step the server took, the proxy recorded with its answer: the tail's included, none missing.
    const [a, b] = await Promise.all([answers(mine), answers(theirs)]);
    expect(a).toEqual(b);
    expect(report.figures.server.audioFrames).toBe(b.answered);
    expect(report.figures.missing.count).toBe(0);
    expect(report.figures.lag.series).toHaveLength(stepped.length - report.figures.lag.warmupFrames);
  }, 120_000);
});
