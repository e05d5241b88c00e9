// The help a user gets: `solacelive --help` says how to run the command where `solacelive`
// is not on PATH (the help texts say `solacelive …`), and not where set-up linked it;
// `solacelive help CMD` is CMD's help.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from '../cli-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'solacelive-help-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const nodeDir = dirname(process.execPath);
const run = (args: string[], path: string) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, PATH: path, INIT_CWD: process.cwd() } });

describe('solacelive help', () => {
  it('says how to run it here when `solacelive` is not on PATH, and that command works', () => {
    const r = run(['--help'], nodeDir);
    expect(r.status).toBe(0);
    const m = /`solacelive` is not on your PATH here: run it as `([^`]+)`/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const v = spawnSync('/bin/sh', ['-c', `${m![1]!} --version`], { encoding: 'utf8', env: { ...process.env, PATH: nodeDir } });
    expect(v.status, v.stderr).toBe(0);
  });

  it('says nothing of the kind where PATH finds this checkout as `solacelive`', () => {
    symlinkSync(BIN, join(dir, 'solacelive'));
    const r = run(['--help'], [dir, nodeDir].join(delimiter));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: solacelive <command>/);
    expect(r.stdout).not.toMatch(/not on your PATH/);
  });

  it('`help CMD` prints the command\'s help', () => {
    const r = run(['help', 'record'], nodeDir);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: solacelive record --in WAV --out DIR/);
  });
});
