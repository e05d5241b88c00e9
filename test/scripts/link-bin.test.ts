// Set-up's bin link (scripts/link-bin.sh, run by scripts/setup.sh): after it, `solacelive`
// typed in a shell runs this checkout, so the commands SolaceLive prints run as printed.
// Linked into a temp folder (SOLACELIVE_BIN_DIR) so the test leaves the machine alone.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN_PATH, commandLine, linkedOnPath, selfCommand } from '../../src/cli/invocation.ts';

const script = new URL('../../scripts/link-bin.sh', import.meta.url).pathname;
const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const dir = mkdtempSync(join(tmpdir(), 'solacelive-link-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** PATH as the test runs with, with `first` in front; node stays findable (the bin's shebang needs it). */
const pathWith = (first: string) => [first, join(process.execPath, '..'), process.env.PATH ?? ''].join(delimiter);

function link(binDir: string) {
  return spawnSync('bash', [script], { encoding: 'utf8', env: { ...process.env, SOLACELIVE_BIN_DIR: binDir, PATH: pathWith(binDir) } });
}

describe('scripts/link-bin.sh', () => {
  it('links bin/solacelive.mjs as `solacelive`, which then runs from any folder; a second run changes nothing', () => {
    const binDir = join(dir, 'bin');
    const r = link(binDir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/linked .*solacelive -> .*bin\/solacelive\.mjs/);
    expect(realpathSync(join(binDir, 'solacelive'))).toBe(realpathSync(BIN_PATH));
    const v = spawnSync('sh', ['-c', 'solacelive --version'], { encoding: 'utf8', cwd: tmpdir(), env: { ...process.env, PATH: pathWith(binDir) } });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe(version);
    const again = link(binDir);
    expect(again.status).toBe(0);
    expect(again.stderr).not.toMatch(/linked/);
    expect(again.stderr).toMatch(/'solacelive' runs /);
  });

  it('leaves a `solacelive` that is not a SolaceLive link alone, and says so', () => {
    const binDir = join(dir, 'foreign');
    link(join(binDir, 'x')); // makes the folder
    const foreign = join(binDir, 'solacelive');
    writeFileSync(foreign, '#!/bin/sh\necho other tool\n', { mode: 0o755 });
    const r = link(binDir);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/exists and is not a SolaceLive link; left alone/);
    expect(lstatSync(foreign).isSymbolicLink()).toBe(false);
    expect(readFileSync(foreign, 'utf8')).toContain('other tool');
  });
});

describe('the command SolaceLive prints to run itself', () => {
  it('is `solacelive` where PATH finds this checkout, else node and the bin path; either runs as printed', () => {
    const binDir = join(dir, 'bin');
    link(binDir);
    const cases = [
      { path: pathWith(binDir), cwd: tmpdir(), want: /^solacelive$/ },
      { path: join(process.execPath, '..'), cwd: process.cwd(), want: /^node bin\/solacelive\.mjs$/ },
      { path: join(process.execPath, '..'), cwd: tmpdir(), want: new RegExp(`^node ${BIN_PATH.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) },
    ];
    for (const c of cases) {
      expect(selfCommand(c)).toMatch(c.want);
      const line = commandLine(['--version'], c);
      const r = spawnSync('/bin/sh', ['-c', line], { encoding: 'utf8', cwd: c.cwd, env: { ...process.env, PATH: c.path } });
      expect(r.status, `${line}: ${r.stderr}`).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
    expect(linkedOnPath(join(process.execPath, '..'))).toBe(false);
  });

  it('under `npm run` from another folder (INIT_CWD), the bin path is absolute', () => {
    const r = spawnSync(process.execPath, ['-e', `import(${JSON.stringify(new URL('../../src/cli/invocation.ts', import.meta.url).href)}).then((m) => console.log(m.selfCommand({ path: '' })))`], {
      encoding: 'utf8', cwd: process.cwd(), env: { ...process.env, INIT_CWD: tmpdir() },
    });
    expect(r.stdout.trim()).toBe(`node ${BIN_PATH}`);
  });

  it('quotes arguments a shell would split', () => {
    const line = commandLine(['replay', "/tmp/my sessions/it's.session"], { path: '', cwd: process.cwd() });
    const r = spawnSync('sh', ['-c', `printf '%s\\n' ${line.replace(/^node \S+ /, '')}`], { encoding: 'utf8' });
    expect(r.stdout).toBe("replay\n/tmp/my sessions/it's.session\n");
  });
});
