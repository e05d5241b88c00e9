// kill -9 of a process in the middle of recording: the folder reopens, every step the process
// had appended is there but at most the one in flight, and nothing reads as corrupt. Both
// writers: SessionWriter, and ThreadedSessionWriter (the recorder's, files written by a thread).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession } from '../../../harness/format/node.ts';
import type { StepRecord } from '../../../harness/format/node.ts';
import { makeStep, rng } from './session-fixtures.ts';

const TRIALS = 4;
const KINDS = ['SessionWriter', 'ThreadedSessionWriter'] as const;
type Kind = (typeof KINDS)[number];
let tmp: string;
const scripts = {} as Record<Kind, string>;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'solacelive-kill-'));
  const here = resolve(import.meta.dirname);
  // Steps every 5 ms (16x real time), each announced on stdout once appendStep has returned.
  for (const kind of KINDS) {
    scripts[kind] = join(tmp, `recorder-${kind}.ts`);
    writeFileSync(scripts[kind], `
    import { ${kind} as Writer } from ${JSON.stringify(resolve(here, '../../../harness/format/node.ts'))};
    import { makeStep, rng, testInit } from ${JSON.stringify(resolve(here, 'session-fixtures.ts'))};
    const w = await Writer.create(process.argv[2], testInit());
    const random = rng(11);
    for (let i = 0; ; i++) {
      const s = makeStep(i, i * 80, random);
      w.appendPacket(s.packets[0].direction, s.packets[0].bytes, s.packets[0].timeMs);
      w.appendStep(s.record, s.input, s.output);
      w.appendPacket(s.packets[1].direction, s.packets[1].bytes, s.packets[1].timeMs);
      process.stdout.write(i + '\\n');
      await new Promise((r) => setTimeout(r, 5));
    }
  `);
  }
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Starts a recording, kills it with SIGKILL once step `after` is announced (plus a jitter); returns the last step seen. */
function recordAndKill(kind: Kind, dir: string, after: number, jitterMs: number): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [scripts[kind], dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = -1;
    let err = '';
    let killing = false;
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line !== '') seen = Math.max(seen, Number(line));
      if (seen >= after && !killing) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), jitterMs);
      }
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? done(seen) : fail(new Error(`recorder exited ${code}: ${err}`))));
  });
}

describe('kill -9 while recording', () => {
  const random = rng(5);
  const trials = KINDS.flatMap((kind) => Array.from({ length: TRIALS }, (_, k) => ({ kind, k, after: 5 + Math.floor(random() * 40), jitter: Math.floor(random() * 6) })));

  it.each(trials)('$kind trial $k: killed after step $after (+$jitter ms): loses at most the step in flight', async ({ kind, k, after, jitter }) => {
    const dir = join(tmp, `killed-${kind}-${k}.session`);
    const seen = await recordAndKill(kind, dir, after, jitter);
    const s = await openSession(dir);
    expect(s.manifest.status).toBe('recording');
    const steps: StepRecord[] = [];
    for await (const { offset: _, ...r } of s.steps()) steps.push(r);
    const gen = rng(11);
    const expected = Array.from({ length: steps.length }, (_, i) => makeStep(i, i * 80, gen).record);
    expect(steps).toEqual(expected);
    // `seen` + 1 steps had been appended (the process may have appended more before dying).
    expect(steps.length).toBeGreaterThanOrEqual(seen);
    console.log(`${kind} trial ${k}: step ${seen} announced before the kill; ${steps.length} steps on disk`);
    const report = await s.scan({ verifyPcm: true });
    expect(report.wholeSteps).toBeGreaterThanOrEqual(seen);
    expect(report.pcmMismatches).toEqual([]);
    expect(report.recoveries.filter((r) => r.code === 'SESSION_ERR_CORRUPT')).toEqual([]);
  });
});
