// `solacelive view` as a user runs it: refused binds and bad options fail at once, with the
// typed error, before the viewer is built or anything listens.
import { afterAll, describe, expect, it } from 'vitest';
import { CliProcesses } from '../../cli-process.ts';

const cli = new CliProcesses();
afterAll(() => cli.killAll());

describe('solacelive view options', () => {
  it('refuses --host 0.0.0.0 without a token', async () => {
    const r = await cli.run(['view', '--host', '0.0.0.0', '--port', '0'], 30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SERVER_ERR_INSECURE_BIND');
    expect(r.stderr).toContain('--token');
  });

  it('refuses a token shorter than serve accepts', async () => {
    const r = await cli.run(['view', '--token', 'abc', '--port', '0'], 30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SERVER_ERR_OPTIONS');
  });

  it('refuses an --allow-origin that is not an origin', async () => {
    const r = await cli.run(['view', '--allow-origin', 'evil.example/path', '--port', '0'], 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"evil.example/path" is not an origin');
  });
});
