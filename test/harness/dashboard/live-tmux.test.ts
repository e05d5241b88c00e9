// A real run, as a user does it: `solacelive serve` (tiny model, real MLX engine), then
// `solacelive dash` in a detached tmux session at 80×24, then `solacelive client` streams
// fixtures/audio/hello.wav; the captured pane must show the session and non-zero figures,
// follow a resize, switch views on tab and quit on q. The plain (non-TTY) output of the same
// command is read back line by line; a URL with no server is reported and exits 1.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSummary } from '../../../harness/dashboard/plain.ts';
import { CliProcesses } from '../../cli-process.ts';

const root = new URL('../../../', import.meta.url).pathname;
const bin = join(root, 'bin/solacelive.mjs');
const wav = join(root, 'fixtures/audio/hello.wav');
const dir = mkdtempSync(join(tmpdir(), 'solacelive-dash-'));
const tmuxName = `solacelive-dash-test-${process.pid}`;
// A user's terminal: the pane is a TTY, and CI (set when the suite runs under CI) is not,
// or the dashboard would rightly print its plain CI lines instead of the interactive view.
const USER_TERMINAL = 'env -u CI';
const cli = new CliProcesses();
const children = cli.children;
let serve: ChildProcess;
let http = '';
let ws = '';

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`tmux is needed for this test (npm run setup installs it): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const pane = () => tmux('capture-pane', '-p', '-t', tmuxName).replace(/\n$/, '');

async function until(what: string, ms: number, pred: () => boolean, show: () => string = pane): Promise<void> {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; screen:\n${show()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const run = (args: string[], timeoutMs: number) => cli.run(args, timeoutMs);

beforeAll(async () => {
  serve = spawn(process.execPath, [bin, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(serve);
  let log = '';
  serve.stderr!.on('data', (d) => (log += d));
  await until('serve to listen with its model ready', 60_000, () => /model \S+ ready/.test(log) && /listening on ws:\/\//.test(log), () => log);
  ws = /listening on (ws:\/\/\S+)/.exec(log)![1]!;
  http = ws.replace(/^ws:/, 'http:');
}, 90_000);

afterAll(() => {
  spawnSync('tmux', ['kill-session', '-t', tmuxName]);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('solacelive dash on a live server', () => {
  it('shows the streamed session with non-zero figures at 80×24, follows a resize, tab switches views, q quits', async () => {
    tmux('new-session', '-d', '-s', tmuxName, '-x', '80', '-y', '24', `${USER_TERMINAL} ${process.execPath} ${bin} dash --url ${http}; echo DASH-EXIT=$?; sleep 120`);
    await until('the dashboard to connect', 30_000, () => pane().includes('● live'));
    const client = run(['client', '--in', wav, '--out', join(dir, 'reply.wav'), '--url', ws, '--json'], 90_000);
    // While it streams: the session is listed as streaming.
    await until('the session to show while it streams', 60_000, () => /› \w{8} (streaming|ending)/.test(pane()));
    const r = await client;
    expect(r.code, r.stderr).toBe(0);
    const session = (JSON.parse(r.stdout) as { session: string }).session;
    const short = session.slice(0, 8);
    // Closed, and its close hook has run (the session is out of the server's registry).
    await until('the closed session', 10_000, () => pane().includes(`${short} session-close: closed 1000 session ended`));
    const screen = pane();
    const lines = screen.split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines[0]).toMatch(/engine ok/);
    // step.total has real figures: p50 > 0 and a bar.
    const total = lines.find((l) => l.startsWith('step.total  ') && /\d/.test(l))!;
    const [p50, p95, p99] = total.trim().split(/\s+/).slice(1, 4).map(Number);
    expect(p50).toBeGreaterThan(0);
    expect(p99).toBeGreaterThanOrEqual(p95!);
    expect(total).toMatch(/[█▓░]/);
    const steps = Number(/steps (\d+)/.exec(screen)![1]);
    expect(steps).toBeGreaterThan(10);
    const row = lines.find((l) => l.includes(`${short} closed`))!;
    expect(Number(row.trim().split(/\s+/)[3])).toBe(steps);
    expect(screen).toContain('Sessions 0/1');

    tmux('resize-window', '-t', tmuxName, '-x', '60', '-y', '20');
    await until('the screen to follow the resize', 10_000, () => pane().split('\n').every((l) => l.length <= 60) && pane().includes('step.total  '));

    tmux('send-keys', '-t', tmuxName, 'Tab');
    await until('the sessions view', 5_000, () => pane().includes(`Session ${session.slice(0, 40)}`.trim().slice(0, 58)));
    tmux('send-keys', '-t', tmuxName, 'q');
    await until('dash to exit 0 and print its final table', 10_000, () => pane().includes('DASH-EXIT=0'));
    expect(pane()).toMatch(/^step\.total\s+\d+/m);
  }, 180_000);

  it('serve --dashboard shows the same view in the server\'s own terminal, and q stops the server', async () => {
    const name = `${tmuxName}-serve`;
    tmux('new-session', '-d', '-s', name, '-x', '80', '-y', '24', `${USER_TERMINAL} ${process.execPath} ${bin} serve --port 0 --dashboard; echo SERVE-EXIT=$?; sleep 120`);
    const servePane = () => tmux('capture-pane', '-p', '-t', name).replace(/\n$/, '');
    try {
      await until('the in-process dashboard with the engine up', 60_000, () => /SolaceLive http:\/\/127\.0\.0\.1:\d+ ● live\s+engine ok/.test(servePane()), servePane);
      const port = /SolaceLive http:\/\/127\.0\.0\.1:(\d+)/.exec(servePane())![1]!;
      const r = await run(['client', '--in', wav, '--out', join(dir, 'reply3.wav'), '--url', `ws://127.0.0.1:${port}`, '--fast', '--json'], 90_000);
      expect(r.code, r.stderr).toBe(0);
      const short = (JSON.parse(r.stdout) as { session: string }).session.slice(0, 8);
      await until('the session on the server\'s screen', 10_000, () => servePane().includes(`${short} session-close: closed 1000 session ended`), servePane);
      expect(Number(/steps (\d+)/.exec(servePane())![1])).toBeGreaterThan(10);
      tmux('send-keys', '-t', name, 'q');
      await until('the server to stop', 20_000, () => servePane().includes('SERVE-EXIT=0'), servePane);
      expect(servePane()).toContain('shutting down');
    } finally {
      spawnSync('tmux', ['kill-session', '-t', name]);
    }
  }, 180_000);

  it('prints stable key=value summaries and a final table when stdout is not a terminal', async () => {
    const dash = run(['dash', '--url', http, '--every', '0.5', '--duration', '6'], 30_000);
    const client = await run(['client', '--in', wav, '--out', join(dir, 'reply2.wav'), '--url', ws, '--fast'], 60_000);
    expect(client.code, client.stderr).toBe(0);
    const d = await dash;
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toContain('connected');
    const out = d.stdout.trim().split('\n');
    const summaries = out.filter((l) => l.startsWith('dash ')).map(parseSummary);
    expect(summaries.length).toBeGreaterThanOrEqual(4);
    for (const s of summaries) expect(Object.keys(s.fields)[0]).toBe('t_s');
    const last = summaries.at(-1)!.fields;
    expect(last.engine).toBe('ok');
    expect(last.steps as number).toBeGreaterThan(0);
    expect(last.p50_ms as number).toBeGreaterThan(0);
    // Step counts only grow from one line to the next.
    const counts = summaries.map((s) => s.fields.steps as number);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    // The table says what window each part covers, fits 80 columns, and the summary line closes it.
    expect(out.some((l) => /^server-wide: spans over (all \d+ steps|the last \d+ of \d+ steps)/.test(l))).toBe(true);
    expect(out).toContain('sessions (each its own: e2e of last ≤250 steps, counts since open)');
    expect(out.some((l) => /^step\.total\s+\d+/.test(l))).toBe(true);
    // A real server's steps carry a measured e2e: its row, and the summary's end-to-end figures.
    expect(out.some((l) => /^e2e\s+\d+/.test(l))).toBe(true);
    expect(last.e2e_p99_ms as number).toBeGreaterThanOrEqual(last.p99_ms as number);
    expect(out.filter((l) => !l.startsWith('dash ')).every((l) => l.length <= 80)).toBe(true);
    expect(out.at(-1)).toMatch(/^dash t_s=/);
  }, 60_000);

  it('says there is no server at a URL nobody listens on, and exits 1', async () => {
    // A port that was free a moment ago (fetch refuses well-known ports such as 9 outright).
    const port = await new Promise<number>((resolve) => {
      const s = createNetServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const r = await run(['dash', '--url', `http://127.0.0.1:${port}`, '--plain', '--wait', '1.5'], 20_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('connection refused: no server is listening there');
    expect(r.stderr).toMatch(/no telemetry within 1\.5 s/);
    expect(r.stdout).toBe('');
  });
});
