// Format v2's integrity data: the writer's digests are those of the files as they lie on disk
// (an independent node:crypto hash of the bytes), the setup digest is written at open so a
// crash keeps it, a v2 manifest without it is refused, a v1 manifest still opens, and the
// streaming SHA-256 the reader verifies with equals the one-shot one for any chunking.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildManifest, openSession, parseManifest, serializeManifest, Sha256, sha256, setupSha256, SessionWriter, toHex, WAV_HEADER_BYTES,
  type SessionError,
} from '../../../harness/format/node.ts';
import { verifySession } from '../../../harness/verify.ts';
import { makeStep, rng, testInit } from './session-fixtures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'solacelive-integrity-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function write(name: string, steps: number, finish: 'close' | 'abandon'): Promise<string> {
  const dir = join(tmp, name);
  const w = await SessionWriter.create(dir, testInit());
  const random = rng(42);
  for (let i = 0; i < steps; i++) {
    const s = makeStep(i, i * 80, random);
    for (const p of s.packets) w.appendPacket(p.direction, p.bytes, p.timeMs);
    w.appendStep(s.record, s.input, s.output);
  }
  if (finish === 'close') await w.close();
  else await w.abandon();
  return dir;
}

describe('format v2 integrity', () => {
  it('close writes each file\'s sha256 as it is on disk (logs whole, WAVs their samples) and the setup digest', async () => {
    const dir = await write('closed.session', 12, 'close');
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(m.version).toBe(2);
    for (const f of ['packets.bin', 'steps.jsonl']) {
      const bytes = readFileSync(join(dir, f));
      expect(m.integrity.files[f]).toEqual({ bytes: bytes.length, sha256: hex(bytes) });
    }
    for (const f of ['input.wav', 'output.wav']) {
      const samples = readFileSync(join(dir, f)).subarray(WAV_HEADER_BYTES);
      expect(m.integrity.files[f]).toEqual({ samples: samples.length / 4, sha256: hex(samples) });
    }
    expect(m.integrity.setupSha256).toBe(setupSha256(m));
    const r = await openSession(dir, { strict: true });
    const v = await verifySession(r);
    expect(v.damage).toEqual([]);
    expect(v.checked.filter((c) => /sha256/i.test(c))).toHaveLength(5);
  });

  it('a crash keeps the setup digest; the files have no final digests and are verified by cross-checks', async () => {
    const dir = await write('crashed.session', 6, 'abandon');
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(m.status).toBe('recording');
    expect(m.integrity).toEqual({ setupSha256: setupSha256(m), files: null });
    const v = await verifySession(await openSession(dir));
    expect(v.damage).toEqual([]);
    expect(v.unverified.join('\n')).toMatch(/no final checksums \(the writer never closed: a crash\)/);
  });

  it('a v2 manifest without its integrity object is refused; a v1 manifest without one opens', () => {
    const built = JSON.parse(serializeManifest(buildManifest(testInit(), '2026-01-01T00:00:00.000Z')));
    const { integrity: _drop, ...stripped } = built;
    let err: SessionError | null = null;
    try {
      parseManifest(JSON.stringify(stripped));
    } catch (e) {
      err = e as SessionError;
    }
    expect(err?.code).toBe('SESSION_ERR_MANIFEST');
    expect(err?.message).toMatch(/integrity must be an object \(got missing\)/);
    expect(() => parseManifest(JSON.stringify({ ...built, integrity: { setupSha256: 'x', files: null } }))).toThrow(/integrity\.setupSha256 must be a sha256/);
    expect(parseManifest(JSON.stringify({ ...stripped, version: 1 })).version).toBe(1);
  });

  it('streaming SHA-256 equals the one-shot digest and node:crypto for any chunking', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(130), { maxLength: 8 }), (bytes, cuts) => {
      const h = new Sha256();
      let at = 0;
      for (const c of cuts) {
        h.update(bytes.subarray(at, Math.min(bytes.length, at + c)));
        at = Math.min(bytes.length, at + c);
      }
      h.update(bytes.subarray(at));
      const streamed = toHex(h.digest());
      return streamed === toHex(sha256(bytes)) && streamed === hex(bytes);
    }), { numRuns: 300 });
  });
});
