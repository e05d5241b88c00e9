// Real-size weights for the `real` config: Moshi 7B q4 from the Hugging Face cache (put
// there by `solacelive weights pull kyutai/moshiko-mlx-q4`, or restored by CI's cache).
// Without them the suites that need them are skipped, saying so; nothing is downloaded.
import { resolveHubModel } from '../../src/engine/models.ts';

export const REAL_REPO = 'kyutai/moshiko-mlx-q4';

export function realModelOrSkip(): string | { skipped: string } {
  try {
    resolveHubModel(REAL_REPO);
    return REAL_REPO;
  } catch (err) {
    return { skipped: `real-size weights not available: ${(err as Error).message.split('\n')[0]}` };
  }
}
