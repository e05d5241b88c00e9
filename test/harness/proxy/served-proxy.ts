// The proxy in front of a real SolaceLive server on loopback (createServer + the tiny engine
// child, as `solacelive serve` runs them), for tests of what the proxy forwards and records.
import type { EnginePort } from '../../../src/server/engine-port.ts';
import type { SessionHooks } from '../../../src/server/hooks.ts';
import type { ServerOptions } from '../../../src/server/options.ts';
import { createServer, type SolaceServer } from '../../../src/server/server.ts';
import { startProxy, type MoshiProxy, type ProxyOptions } from '../../../harness/proxy/index.ts';
import { startEngine } from '../../server/live/engine.ts';

export interface ServedProxy {
  readonly engine: EnginePort;
  readonly server: SolaceServer;
  readonly proxy: MoshiProxy;
  /** The server's /api/chat, what the proxy forwards to. */
  readonly upstream: string;
  close(): Promise<void>;
}

export async function startServedProxy(server: ServerOptions, proxy: Omit<ProxyOptions, 'upstream'>, hooks?: (engine: EnginePort) => SessionHooks): Promise<ServedProxy> {
  const engine = await startEngine();
  const s = createServer({ port: 0, ...server }, engine, hooks?.(engine));
  const upstream = `${(await s.start()).url}/api/chat`;
  const p = await startProxy({ ...proxy, upstream });
  return {
    engine, server: s, proxy: p, upstream,
    close: async () => {
      await p.close();
      await s.stop();
      await engine.close();
    },
  };
}
