// The viewer bundles harness/format.ts: everything it reaches must be browser-safe (no node:
// modules, no MLX), so walk its static import graph.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');

function graph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const src = readFileSync(file, 'utf8');
    const specs = [...src.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)]
      .filter((m) => m[1] === undefined && !/^\s*(import|export)\s+type\s/.test(m[0]))
      .map((m) => m[2]!);
    seen.set(file, specs);
    for (const s of specs) if (s.startsWith('.')) visit(resolve(dirname(file), s));
  };
  visit(resolve(root, entry));
  return seen;
}

describe('browser safety', () => {
  it('harness/format.ts reaches no Node built-in, no MLX, no writer', () => {
    const g = graph('harness/format.ts');
    const offenders: string[] = [];
    for (const [file, specs] of g) {
      for (const s of specs) {
        const bare = s.replace(/^node:/, '');
        if (s.startsWith('node:') || builtinModules.includes(bare) || /mlx/.test(s)) offenders.push(`${relative(root, file)} → ${s}`);
      }
    }
    expect(offenders).toEqual([]);
    const files = [...g.keys()].map((f) => relative(root, f));
    expect(files).toContain('harness/format/reader.ts');
    expect(files).not.toContain('harness/format/writer.ts');
    expect(files).not.toContain('harness/format/node-files.ts');
    // Of src, only telemetry and the errors' base (src/errors.ts, no imports) are shared with the format.
    expect(files.filter((f) => f.startsWith('src/') && !f.startsWith('src/telemetry/') && f !== 'src/errors.ts')).toEqual([]);
  });

  it('harness/verify.ts (the integrity check, Moshi re-decoding included) reaches no Node built-in and no MLX', () => {
    const g = graph('harness/verify.ts');
    const offenders = [...g].flatMap(([file, specs]) => specs
      .filter((s) => s.startsWith('node:') || builtinModules.includes(s) || /mlx/.test(s) || /\/node(\.ts)?$/.test(s))
      .map((s) => `${relative(root, file)} → ${s}`));
    expect(offenders).toEqual([]);
    // The walk does see the Opus decoder it re-decodes with.
    expect([...g.keys()].map((f) => relative(root, f))).toContain('src/audio/opus/decoder.ts');
  });

  it('the Node entry does reach the writer (the walk sees real imports)', () => {
    const files = [...graph('harness/format/node.ts').keys()].map((f) => relative(root, f));
    expect(files).toContain('harness/format/writer.ts');
    expect(files).toContain('harness/format/node-files.ts');
  });
});
