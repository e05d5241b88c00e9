// The GitHub Actions workflow cannot run here: check it against the workflow JSON schema
// with @action-validator/core (offline, WebAssembly), prove that check rejects broken
// copies, and check that every command in it is an npm script of this package, so that
// each one can be run locally.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const WORKFLOW = join(ROOT, '.github', 'workflows', 'bench.yml');
const text = readFileSync(WORKFLOW, 'utf8');
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The standalone scripts folded into `solacelive bench` suites (issue 18: one benchmark system). */
const RETIRED = ['bench/codec.bench.ts', 'bench/mimi.bench.ts', 'bench/lm.bench.ts', 'bench/step.bench.ts', 'bench/replay.bench.ts', 'bench/dash-overhead.ts', 'bench/mimi-soak.ts', 'bench/proxy-overhead.ts', 'bench/lib/suite.ts', 'bench/server-load.ts'];

describe('one benchmark system', () => {
  it('the retired standalone scripts are gone, and neither package.json, the workflow nor the README runs or names them', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const path of RETIRED) {
      expect(existsSync(join(ROOT, path)), path).toBe(false);
      const base = path.slice(path.lastIndexOf('/') + 1);
      expect(Object.entries(scripts).filter(([, cmd]) => cmd.includes(base)), `package.json scripts naming ${base}`).toEqual([]);
      expect(text, `the workflow names ${base}`).not.toContain(base);
      expect(readme, `README names ${base}`).not.toContain(base);
    }
    // Every bench file a script still runs exists.
    for (const cmd of Object.values(scripts)) for (const m of cmd.matchAll(/\bbench\/[\w./-]+\.ts\b/g)) expect(existsSync(join(ROOT, m[0])), m[0]).toBe(true);
  });
});

describe('.github/workflows/bench.yml', () => {
  it('is a valid workflow', () => {
    const state = validateWorkflow(text);
    expect(state.actionType).toBe('workflow');
    expect(state.errors).toEqual([]);
  });

  it('the check fails on broken copies (wrong key, wrong type, bad YAML)', () => {
    const wrongKey = validateWorkflow(text.replace('runs-on: ubuntu-24.04', 'runs_on: ubuntu-24.04'));
    expect(JSON.stringify(wrongKey.errors)).toMatch(/Additional property 'runs_on' is not allowed/);
    const wrongType = validateWorkflow(text.replace('timeout-minutes: 45', 'timeout-minutes: soon'));
    expect(JSON.stringify(wrongType.errors)).toMatch(/\/jobs\/linux-x64\/timeout-minutes/);
    const badYaml = validateWorkflow(`${text}\n  broken: [\n`);
    expect(badYaml.errors[0]).toMatchObject({ code: 'parse_error' });
  });

  it('runs only npm scripts of this package (each runs locally the same way)', () => {
    const runs = [...text.matchAll(/^\s+(?:- )?run:\s*(.*)$/gm)].map((m) => m[1]!.trim());
    expect(runs.length).toBeGreaterThanOrEqual(12);
    for (const cmd of runs) {
      expect(cmd, 'one-line commands only').not.toMatch(/^[|>]/);
      const m = /^npm (?:run ([\w:.-]+)|(test))(?: -- (.*))?$/.exec(cmd);
      expect(m, `not an npm script: ${cmd}`).not.toBeNull();
      const name = m![1] ?? m![2]!;
      expect(scripts[name], `package.json has no script ${name}`).toBeDefined();
    }
    // The gate steps pass only options that `solacelive bench gate` knows.
    for (const cmd of runs.filter((c) => c.startsWith('npm run bench:gate'))) {
      for (const opt of cmd.split(' -- ')[1]?.match(/--[\w-]+/g) ?? []) expect(['--runner-class', '--allow-missing-baseline']).toContain(opt);
    }
    // So do the A/B steps, with `bench ab`'s options.
    const ab = runs.filter((c) => c.startsWith('npm run bench:ab'));
    expect(ab.length).toBe(1);
    for (const opt of ab[0]!.split(' -- ')[1]?.match(/--[\w-]+/g) ?? []) expect(['--base', '--merge-base', '--summary', '--json', '--suite', '--rounds']).toContain(opt);
    expect(scripts['bench:ab']).toBe('node bin/solacelive.mjs bench ab');
  });

  it('has an A/B job for pull requests: the PR head against its merge base, full history checked out', () => {
    const job = /^ {2}linux-x64-ab:\n([\s\S]*?)(?=^ {2}\S)/m.exec(text)?.[1] ?? '';
    expect(job).toMatch(/^ {4}if: \$\{\{ github\.event_name == 'pull_request' \}\}$/m);
    expect(job).toMatch(/ref: \$\{\{ github\.event\.pull_request\.head\.sha \}\}\n\s+fetch-depth: 0/);
    expect(job).toContain('run: npm run bench:ab -- --base origin/${{ github.base_ref }} --merge-base');
  });

  it('has the three jobs: Linux x64, hosted macOS arm64, and a self-hosted Apple Silicon job that is skipped without a runner', () => {
    expect(text).toMatch(/^ {2}linux-x64:\n {4}runs-on: ubuntu-24\.04$/m);
    expect(text).toMatch(/os: \[macos-14, macos-15\]/);
    expect(text).toMatch(/^ {4}if: \$\{\{ vars\.SOLACELIVE_SELF_HOSTED_MAC == 'true' \}\}\n {4}runs-on: \[self-hosted, macOS, ARM64\]$/m);
    expect((text.match(/uses: actions\/cache@v4/g) ?? []).length).toBe(4);
    for (const cls of ['linux-x64', 'macos-arm64-hosted', 'macos-arm64-self-hosted']) {
      expect(text).toContain(`--runner-class ${cls}`);
      expect(() => readFileSync(join(ROOT, 'configs', 'bench', `${cls}.json`))).not.toThrow();
    }
  });
});
