// vitest globalSetup: build viewer/dist once per run when it is missing or stale, so the
// browser tests (viewer and live page) serve what the sources say. Same check and lock as
// `solacelive view` (harness/view/build.ts).
import { ensureViewerBuilt } from '../../harness/view/build.ts';

export default async function setup(): Promise<void> {
  await ensureViewerBuilt((m) => console.log(`[build-viewer] ${m}`));
}
