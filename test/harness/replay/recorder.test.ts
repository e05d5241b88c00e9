// The recorder on a live server: per-session opt-in through the start METADATA, and a
// recording that cannot be written stops alone while the session goes on.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../../src/client/connect.ts';
import type { EnginePort } from '../../../src/server/engine-port.ts';
import type { FinishedStep } from '../../../src/engine/step-record.ts';
import { createServer } from '../../../src/server/server.ts';
import { tapHooks } from '../../../src/server/telemetry-stream.ts';
import { openSession, type ReadStep, type SessionError } from '../../../harness/format/node.ts';
import { Recorder } from '../../../harness/recorder.ts';
import { replaySession } from '../../../harness/replayer.ts';
import { startEngine, testFrames } from '../../server/live/engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'solacelive-recorder-'));
let engine: EnginePort;
beforeAll(async () => {
  engine = await startEngine();
});
afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function session(url: string, record: boolean, frames: Float32Array[]) {
  const c = await connect(url, { record, pace: 'fast', seed: 9 });
  return c.run(frames);
}

describe('Recorder', () => {
  it("'requested' mode records only the sessions whose client asks, and the recording replays bit-exactly", async () => {
    const out = join(dir, 'requested');
    const recorder = new Recorder({ dir: out, mode: 'requested', engineInfo: () => engine.info });
    const records: FinishedStep[] = [];
    const server = createServer({ port: 0 }, engine, tapHooks(recorder, { onStepFinished: (_id, r) => records.push(r) }));
    const { url } = await server.start();
    const frames = testFrames(8);
    const [asked, not] = [await session(url, true, frames), await session(url, false, frames)];
    await server.stop();
    expect(asked.ok && not.ok).toBe(true);
    const folders = readdirSync(out);
    expect(folders).toHaveLength(1);
    expect(folders[0]).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.session$/);
    const r = await openSession(join(out, folders[0]!), { strict: true });
    expect(r.manifest.status).toBe('complete');
    expect(r.manifest.meta).toMatchObject({ session: asked.session, requested: true, pace: 'fast' });
    expect((await r.scan()).wholeSteps).toBe(8);
    // steps.jsonl is the finished records without their PCM (which is in the WAVs): same
    // fields, times on the session's clock (an offset from the server's), and the spans with
    // e2e (frame arrival → reply written) measured from the record's own times.
    const lines: ReadStep[] = [];
    for await (const x of r.steps()) lines.push(x);
    const mine = records.filter((x) => x.session === asked.session);
    expect(lines).toHaveLength(8);
    lines.forEach((line, k) => {
      const { session: _s, inputPcm: _i, pcm: _p, doneAt, finishedAt, arrivedAt, ...rest } = mine[k]!;
      const { offset: _o, timeMs, ...written } = line;
      expect(written).toEqual({ ...rest, spans: { ...rest.spans, e2e: finishedAt - arrivedAt! } });
      expect(timeMs - lines[0]!.timeMs).toBeCloseTo(doneAt - mine[0]!.doneAt, 6);
    });
    const input = await r.wav('input');
    let k = 0;
    for await (const f of input.frames(0)) expect(f).toEqual(mine[k++]!.inputPcm);
    const rep = await replaySession(join(out, folders[0]!), { engine });
    expect(rep.verdict).toBe('bit-exact');
    const o = recorder.overhead();
    expect(o.steps).toBe(8);
    console.log(`recorder overhead: ${(o.perStepMs * 1000).toFixed(0)} µs per step over ${o.steps} steps (${o.calls} hook calls)`);
  });

  it('an unwritable folder stops the recording, not the session', async () => {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const failures: SessionError[] = [];
    const recorder = new Recorder({ dir: join(file, 'sub'), mode: 'all', engineInfo: () => engine.info, onFailure: (_id, _p, e) => failures.push(e) });
    const server = createServer({ port: 0 }, engine, recorder);
    const { url } = await server.start();
    const r = await session(url, false, testFrames(5));
    await server.stop();
    expect(r.ok).toBe(true);
    expect(r.audioFrames + r.gaps.length).toBe(5);
    expect(failures.map((e) => e.code)).toEqual(['SESSION_ERR_UNWRITABLE']);
    expect(recorder.status()).toMatchObject([{ state: 'failed', error: { code: 'SESSION_ERR_UNWRITABLE' } }]);
  });
});
