// `solacelive export-trace` as a user runs it: an --out it cannot write is refused up front
// in words (not a raw ENOENT after reading the whole session); a good one is written.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliProcesses } from '../../cli-process.ts';

const cli = new CliProcesses();
const dir = mkdtempSync(join(tmpdir(), 'solacelive-export-trace-'));
const SESSION = new URL('../../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
afterAll(() => {
  cli.killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('solacelive export-trace', () => {
  it('refuses an --out in a folder that does not exist, naming it', async () => {
    const r = await cli.run(['export-trace', SESSION, '--out', join(dir, 'missing', 'trace.json')], 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[CLI_ERR_OUTPUT\] --out .*missing\/trace\.json: the folder .*missing does not exist/);
    expect(r.stderr).not.toMatch(/ENOENT/);
  });

  it('refuses an --out that is a folder', async () => {
    const r = await cli.run(['export-trace', SESSION, '--out', dir], 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--out .* is a folder; give a file name/);
  });

  it('writes the trace where asked', async () => {
    const out = join(dir, 'trace.json');
    const r = await cli.run(['export-trace', SESSION, '--out', out], 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });
});
