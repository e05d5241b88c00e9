import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AudioError } from '../../src/audio/errors.ts';
import { readWav, readWavSync, writeWav, writeWavSync } from '../../src/audio/wav-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'solacelive-wav-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('file wrappers', () => {
  it('write then read, async and sync, bit-exact float32, leaving no temporary files', async () => {
    const x = new Float32Array(4000).map((_, i) => Math.sin(i) * 0.9);
    const a = join(dir, 'a.wav');
    await writeWav(a, x, 24000);
    const back = await readWav(a);
    expect(back.channels[0]).toEqual(x);
    const b = join(dir, 'b.wav');
    writeWavSync(b, [x, x], 48000, { format: 'pcm16' });
    const s = readWavSync(b);
    expect([s.sampleRate, s.channels.length, s.format]).toEqual([48000, 2, 'pcm16']);
    await writeWav(a, x.subarray(0, 10), 24000); // overwrite in place
    expect((await readWav(a)).frames).toBe(10);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a missing file is AUDIO_ERR_IO naming the path', async () => {
    const missing = join(dir, 'nope.wav');
    await expect(readWav(missing)).rejects.toMatchObject({ code: 'AUDIO_ERR_IO', path: missing, message: expect.stringContaining('ENOENT') });
    expect(() => readWavSync(missing)).toThrow(AudioError);
  });

  it('a decode error carries the path in its message and fields', async () => {
    const bad = join(dir, 'bad.wav');
    writeFileSync(bad, 'hello world, not audio');
    await expect(readWav(bad)).rejects.toMatchObject({ code: 'AUDIO_ERR_NOT_WAV', path: bad, message: expect.stringMatching(/bad\.wav: not a WAV file: it starts with 'hell'/) });
  });

  it('an unwritable target is AUDIO_ERR_IO, and an encode error names the path', async () => {
    const target = join(dir, 'no-such-dir', 'x.wav');
    await expect(writeWav(target, new Float32Array(1), 24000)).rejects.toMatchObject({ code: 'AUDIO_ERR_IO', path: target });
    expect(() => writeWavSync(join(dir, 'n.wav'), new Float32Array([NaN]), 24000)).toThrow(/n\.wav: cannot encode sample 0/);
  });
});
