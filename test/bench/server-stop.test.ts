// The server suite stops its serve processes with SIGTERM (they tell their sessions, then
// close them); one that does not exit within the grace is killed and said, with its log's
// tail, so a bench run never waits on it (a full-suite run once hung 420 s in the suite).
import { describe, expect, it } from 'vitest';
import { startServe, stopLayout } from '../../bench/suites/server.ts';
import { parseTarget } from '../../harness/loadtest/index.ts';

describe('server suite: stopping its serve processes', () => {
  it('a serve that does not exit on SIGTERM is killed after the grace and the log says so', async () => {
    const a = await startServe(['--engines', '1']);
    const b = await startServe(['--engines', '1']);
    // b cannot act on SIGTERM while stopped (SIGSTOP): the case of a serve whose shutdown hangs.
    b.child.kill('SIGSTOP');
    const logs: string[] = [];
    const t0 = performance.now();
    await stopLayout({
      layout: { name: 'test', engines: 1, haproxy: false }, url: a.url, haproxy: null,
      serves: [a, b].map((s) => ({ child: s.child, target: parseTarget(s.url, 'moshi'), log: s.log })),
    }, (m) => logs.push(m));
    const took = performance.now() - t0;
    expect(a.child.exitCode).toBe(0); // a shut down on SIGTERM
    expect(b.child.signalCode).toBe('SIGKILL');
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(new RegExp(`^serve pid ${b.child.pid} did not exit within 15 s of SIGTERM: killed \\(SIGKILL\\); its log ends:\\n[^]*model \\S+ ready`));
    expect(took).toBeGreaterThanOrEqual(15_000);
  }, 120_000);
});
