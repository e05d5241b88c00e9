import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const bin = new URL('../../bin/solacelive.mjs', import.meta.url).pathname;

describe('solacelive smoke (spawned, as a user runs it)', () => {
  it('prints the device and BLAS and exits 0', () => {
    const r = spawnSync(process.execPath, [bin, 'smoke'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/mlx device\s+(cpu|gpu)/);
    expect(r.stdout).toMatch(/blas\s+\S+/);
    expect(r.stdout).toContain('correct');
  });

  it('gives usage and exit 2 for an unknown command', () => {
    const r = spawnSync(process.execPath, [bin, 'nonsense'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'nonsense'");
  });
});
