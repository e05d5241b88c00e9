// The model a replay loads by default comes from the manifest, which is data from anywhere:
// its model.id is a model name ("tiny", a hub repo), never a path. Before, resolveModel took
// it as a folder first (`../../../../etc` → /etc/model.json; `fixtures` → ./fixtures).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../harness/format/node.ts';
import { ReplayError, replayModel } from '../../../harness/replayer.ts';

const FIXTURE = new URL('../../../fixtures/sessions/hello-2s.session/manifest.json', import.meta.url).pathname;
const withId = (id: string) => {
  const m = JSON.parse(readFileSync(FIXTURE, 'utf8'));
  m.model.id = id;
  return parseManifest(JSON.stringify(m));
};
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('the recorded model id', () => {
  it.each(['../../../../etc', '/etc', 'fixtures', './tiny', 'kyutai/../../etc', 'a/b/c', '..', 'C:\\models\\x', ''])('%j is refused with REPLAY_ERR_MODEL_ID, never looked up as a path', (id) => {
    let err: unknown;
    try {
      replayModel(withId(id), undefined);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReplayError);
    expect((err as ReplayError).code).toBe('REPLAY_ERR_MODEL_ID');
    expect((err as ReplayError).message).toMatch(/pass --model DIR/);
  });

  it('a hub repo id is looked up in the hub cache only, and "tiny" is the built-in model', () => {
    const env = process.env.HF_HUB_CACHE;
    process.env.HF_HUB_CACHE = '/nonexistent-hub-cache';
    try {
      expect(codeOf(() => replayModel(withId('kyutai/moshiko-mlx-q8'), undefined))).toBe('ENGINE_ERR_NO_WEIGHTS');
    } finally {
      if (env === undefined) delete process.env.HF_HUB_CACHE;
      else process.env.HF_HUB_CACHE = env;
    }
    expect(replayModel(withId('tiny'), undefined).name).toBe('tiny');
  });

  it('--model given by the user may name a folder', () => {
    expect(codeOf(() => replayModel(withId('../../../../etc'), '/nonexistent/model-dir'))).toBe('ENGINE_ERR_NO_WEIGHTS');
  });
});
