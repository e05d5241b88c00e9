// Measures how long the viewer takes to open a session in real Chromium (not a test: run by
// hand on a real recording too large to commit):
//   node test/e2e/viewer-load.ts SESSIONS_DIR NAME [runs]
// Prints, per run, the time from navigation until the timeline has drawn every step in view
// (what "opens" means here), the part of it spent reading manifest + steps.jsonl, and when
// the background loads (packet table, both waveforms' peaks) finished.
import { startViewServer } from '../../harness/view/index.ts';
import { ensureViewerBuilt } from '../../harness/view/build.ts';
import { launchChromium } from './chromium.ts';

const PARTIAL = 750; // viewer/src/data/load.ts PARTIAL_AT

const [dir, name, runsArg] = process.argv.slice(2);
if (!dir || !name) {
  console.error('usage: node test/e2e/viewer-load.ts SESSIONS_DIR NAME [runs]');
  process.exit(2);
}
await ensureViewerBuilt((m) => console.error(m));
const server = await startViewServer({ sessionsDir: dir, port: 0 });
const browser = await launchChromium();
try {
  for (let run = 0; run < Number(runsArg ?? 3); run++) {
    // A fresh context per run: nothing cached from the previous one.
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await ctx.newPage();
    await page.goto(`${server.url}#/s/${encodeURIComponent(name)}`);
    await page.waitForFunction(() => {
      const c = document.querySelector<HTMLCanvasElement>('[data-testid=timeline]');
      return c !== null && c.dataset.stepsDrawn !== undefined && c.dataset.stepsDrawn === c.dataset.stepsInView;
    }, null, { timeout: 120_000, polling: 'raf' });
    const opened = await page.evaluate(() => performance.now());
    await page.waitForFunction(() => document.querySelector('[data-testid=session-page]')?.getAttribute('data-complete') === 'yes', null, { timeout: 120_000, polling: 'raf' });
    const complete = await page.evaluate(() => performance.now());
    const marks = await page.evaluate(() => Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name, Math.round(m.startTime)])));
    const steps = await page.getByTestId('session-page').getAttribute('data-steps');
    const readMs = await page.getByTestId('session-page').getAttribute('data-load-ms');
    await page.waitForFunction(() => !document.querySelector('[data-testid=packet-count]')?.textContent?.includes('loading')
      && [...document.querySelectorAll<HTMLCanvasElement>('canvas.wave')].every((c) => c.dataset.loaded !== 'no'), null, { timeout: 300_000, polling: 200 });
    const packetsDone = await page.evaluate(() => performance.now());
    const partial = marks['steps-partial'] === undefined ? '' : `first ${PARTIAL} steps in at ${marks['steps-partial']} ms, `;
    console.log(`run ${run + 1}: ${steps} steps — timeline drawn ${opened.toFixed(0)} ms after navigation, all steps in and drawn at ${complete.toFixed(0)} ms (page script ran at ${marks['viewer-start']} ms, manifest at ${marks['manifest-read']} ms, ${partial}steps in at ${marks['steps-read']} ms: ${readMs} ms reading, canvas drawn at ${marks['timeline-drawn']} ms); packet table and waveforms complete at ${(packetsDone / 1000).toFixed(1)} s`);
    await ctx.close();
  }
} finally {
  await browser.close();
  await server.close();
}
