// `solacelive dash SESSION` on a session the real proxy recorded here (in front of the test
// Moshi upstream, real sockets on loopback, its replies paused once): the report's summary
// line reads back into proxy.json's lag, growth, stalls and close; each stall, client-timeout
// silence and the close has its line; it says what the session is and points to the viewer.
// An engine-recorded session and a folder that is no session get a typed error saying what
// to run instead.
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMoshi } from '../../../src/client/moshi.ts';
import { PROXY_FILE } from '../../../harness/format/index.ts';
import { parseSummary } from '../../../harness/dashboard/plain.ts';
import { lagSparkline } from '../../../harness/dashboard/session.ts';
import { startProxy, type MoshiProxy } from '../../../harness/proxy/index.ts';
import { parseProxyFile, type ProxyFile } from '../../../harness/view/proxied.ts';
import { testFrames } from '../../server/live/engine.ts';
import { CliProcesses } from '../../cli-process.ts';
import { startTestUpstream, type TestUpstream } from '../proxy/moshi-upstream.ts';

const FIXTURE = new URL('../../../fixtures/sessions/hello-2s.session', import.meta.url).pathname;
const cli = new CliProcesses();
let root: string, up: TestUpstream, proxy: MoshiProxy, path: string, file: ProxyFile;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dash-session-'));
  await mkdir(join(root, 'sessions'));
  up = await startTestUpstream();
  proxy = await startProxy({ upstream: up.url, record: join(root, 'sessions'), meter: { clientTimeoutMs: 700 }, log: () => undefined });
  const c = await connectMoshi(`${proxy.url}/api/chat`, { query: { delay: 20, growth: 2, pauseAt: 12, pauseMs: 900 } });
  await c.run(testFrames(30, 4));
  const deadline = performance.now() + 20_000;
  while (proxy.reports.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  path = proxy.reports[0]!.path!;
  file = parseProxyFile(await readFile(join(path, PROXY_FILE), 'utf8'));
}, 60_000);

afterAll(async () => {
  cli.killAll();
  await proxy?.close();
  await up?.close();
  await rm(root, { recursive: true, force: true });
});

describe('solacelive dash SESSION', () => {
  it('reports a proxied session: its lag, growth, stalls and close as proxy.json has them, and where the lane is', async () => {
    const f = file.figures;
    expect(f.stalls.count).toBeGreaterThanOrEqual(1);
    expect(f.clientTimeouts.count).toBeGreaterThanOrEqual(1);
    const run = await cli.run(['dash', path], 30_000);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    const { word, fields } = parseSummary(lines[0]!);
    expect(word).toBe('dash-session');
    expect(fields).toMatchObject({
      kind: 'proxied', upstream: file.upstream, replies: f.lag.count, lag_p50_ms: f.lag.p50, lag_p95_ms: f.lag.p95, lag_p99_ms: f.lag.p99, lag_max_ms: f.lag.max,
      growth_ms_per_min: f.lag.slopeMsPerMin, late: f.late.count, missing: f.missing.count, stalls: f.stalls.count, client_timeouts: f.clientTimeouts.count,
      closed_by: f.end!.by, close_code: f.end!.code,
    });
    const stalls = lines.filter((l) => l.startsWith('stall ')).map((l) => parseSummary(l).fields);
    expect(stalls.map((s) => [s.at_ms, s.duration_ms])).toEqual(f.stalls.list.map((s) => [s.atMs, s.durationMs]));
    expect(lines.filter((l) => l.startsWith('client-timeout ')).map((l) => parseSummary(l).fields.silent_ms)).toEqual(f.clientTimeouts.list.map((t) => t.silentMs));
    expect(parseSummary(lines.find((l) => l.startsWith('close '))!).fields).toMatchObject({ by: f.end!.by, code: f.end!.code });
    expect(run.stdout).toMatch(/Proxied session of .*no 80 ms budget verdict/);
    // A few seconds of session: no growth, and the line says why.
    expect(f.lag.slopeMsPerMin).toBeNull();
    expect(run.stdout).toMatch(/growth – \(needs answered frames over >= 20 s; these span \d+\.\d s/);
    expect(run.stdout).toContain(lagSparkline(f.lag.series.map(([, lag]) => lag), 60));
    expect(run.stdout).toContain(`solacelive view ${join(root, 'sessions')}`);
  }, 60_000);

  it('the sparkline keeps each column\'s largest lag: a spike is never averaged away', () => {
    const flat = Array.from({ length: 120 }, () => 50);
    flat[77] = 900;
    const line = lagSparkline(flat, 60);
    expect(line).toHaveLength(60);
    expect(line[38]).toBe('█');
    expect(line.replace('█', '')).toMatch(/^▁+$/);
  });

  it('an engine-recorded session and a folder that is no session: a typed error saying what to run instead', async () => {
    await cp(FIXTURE, join(root, 'engine.session'), { recursive: true });
    const engine = await cli.run(['dash', join(root, 'engine.session')], 30_000);
    expect(engine.code).toBe(1);
    expect(engine.stderr).toMatch(/DASH_ERR_ENGINE_SESSION.*solacelive replay .*--dashboard.*solacelive view/);
    const none = await cli.run(['dash', root], 30_000);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/DASH_ERR_NOT_A_SESSION/);
  }, 60_000);
});
