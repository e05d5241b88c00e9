// `replay --paced --against URL` stamps the live connection's messages on a loop that only
// stamps and sends: decoding and measuring run in the measuring worker (harness/proxy/
// measurer.ts). Pinned by making measuring slow on purpose (testMeasureBurnMs) against a
// server that answers at once (../loadtest/prompt-upstream.ts, its own thread): the replayed
// lag is what a quiet client alone in another thread measures at the same time.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';
import { DEFAULT_INPUT, parseTarget, runLevel, wavInput } from '../../../harness/loadtest/index.ts';
import { againstLines, pacedAgainst } from '../../../harness/replay/against.ts';
import { startPromptUpstream, type PromptUpstream } from '../loadtest/prompt-upstream.ts';
import { quietClientLag } from '../loadtest/quiet-client.ts';

let up: PromptUpstream;
let url: string;
let session: string;
const dir = mkdtempSync(join(tmpdir(), 'solacelive-against-stamping-'));

beforeAll(async () => {
  up = await startPromptUpstream();
  url = `ws://127.0.0.1:${up.port}/api/chat`;
  // A Moshi session in the proxy's format: a load-test client's recording.
  const l = await runLevel({
    target: parseTarget(url, 'moshi'), clients: 1, durationS: 2, rampS: 0, inputs: [wavInput(DEFAULT_INPUT)], budgetMs: 1000,
    lib: await loadLibopusNode(), connectTimeoutMs: 10_000, record: dir, runId: 'rec', serverHealth: false,
  });
  expect(l.reports[0]!.recording?.status).toBe('complete');
  session = join(dir, readdirSync(dir)[0]!);
}, 60_000);
afterAll(async () => {
  await up?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('replay --against: arrival stamps do not wait for measuring', () => {
  const BURN_MS = 20;
  it(`measuring slowed to ${BURN_MS} ms a message: the replayed lag is the quiet client's, every frame answered and measured`, async () => {
    const [r, quiet] = await Promise.all([pacedAgainst(session, url, { testMeasureBurnMs: BURN_MS }), quietClientLag(url, 2)]);
    expect(r.complete, againstLines(r).join('\n')).toBe(true);
    expect(r.replayed.lag.count).toBe(r.recorded.lag.count);
    // Measured on the loop, each stamp waits for the messages measured before it: tens to hundreds of ms.
    expect(r.replayed.lag.p50! - quiet.p50!, JSON.stringify({ replayed: r.replayed.lag, quiet })).toBeLessThan(BURN_MS / 5);
  }, 90_000);
});
