// `solacelive view`: the web viewer over a sessions folder (harness/view/server.ts), built
// first when viewer/dist is missing or older than its sources.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intOption, parseCommandArgs, UsageError, type Command } from '../../src/cli/args.ts';
import { parseAllowOrigins } from '../../src/server/request-guard.ts';
import { checkViewAccess, DEFAULT_VIEW_HOST, DEFAULT_VIEW_PORT, ensureViewerBuilt, startViewServer } from '../view/index.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/sessions/', import.meta.url));

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    sessions: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    token: { type: 'string' },
    'allow-origin': { type: 'string', multiple: true },
  });
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const port = intOption(values, 'port', DEFAULT_VIEW_PORT);
  if (port < 0 || port > 65535) throw new UsageError('--port must be 0…65535');
  let allowOrigins: string[];
  try {
    allowOrigins = parseAllowOrigins(values['allow-origin'] ?? []);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const host = values.host ?? DEFAULT_VIEW_HOST;
  // From the environment too, so the token need not appear in `ps` (as for serve).
  const token = values.token ?? process.env.SOLACELIVE_TOKEN ?? null;
  // Before the build: a refused bind should not wait for vite.
  checkViewAccess(host, token);
  const sessionsDir = resolve(values.sessions ?? (existsSync('sessions') ? 'sessions' : FIXTURES));
  const log = (m: string) => console.error(`solacelive view: ${m}`);
  await ensureViewerBuilt(log);
  const s = await startViewServer({ sessionsDir, port, host, token, allowOrigins, log }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') throw new Error(`port ${port} is in use (another solacelive view?): pick another with --port, or --port 0 for a free one`);
    throw err;
  });
  // The page forwards ?token= to its API calls; the token is printed only if it was typed here.
  const open = token === null ? s.url : `${s.url}?token=${values.token !== undefined ? encodeURIComponent(token) : '$SOLACELIVE_TOKEN'}`;
  console.log(`solacelive view: sessions in ${sessionsDir}`);
  console.log(`  viewer     ${open}`);
  console.log(`  live page  ${s.url}live/`);
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void s.close().then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

export const command: Command = {
  summary: 'web viewer for recorded sessions (timeline, audio, tokens, packets, replay verdict) and the live page',
  help: [
    `usage: solacelive view [--sessions DIR] [--port ${DEFAULT_VIEW_PORT}] [--host ${DEFAULT_VIEW_HOST}] [--token T] [--allow-origin ORIGIN]…`,
    '',
    'Serves the web viewer and a read-only HTTP API over the session folders directly inside',
    'DIR (list, manifest, steps, packets, WAVs with byte ranges, the last saved replay and diff),',
    'and the live packet-voice page at /live/. Builds viewer/dist first (vite) when it is',
    'missing or older than its sources. Nothing outside DIR and the built viewer is served: a',
    'symlink whose target leaves DIR, or anything but a regular file, is refused. Only GET and',
    'HEAD are answered. Ctrl-C stops it.',
    '',
    '  --sessions DIR      the sessions folder (default: ./sessions if it exists, else the',
    '                      fixture sessions of this checkout)',
    `  --port P            port (default ${DEFAULT_VIEW_PORT}; 0 picks a free one)`,
    `  --host H            address to bind (default ${DEFAULT_VIEW_HOST}); anything but loopback needs --token`,
    '  --token T           the API needs "Authorization: Bearer T" or ?token=T (or set SOLACELIVE_TOKEN);',
    '                      open the page as http://HOST:PORT/?token=T and it sends the token itself',
    '  --allow-origin O    also answer pages served from origin O (scheme://host[:port]; repeatable);',
    '                      by default only pages from localhost, 127.0.0.1 or [::1] may call the API',
    '',
    'On a loopback bind only loopback Host names are answered (DNS rebinding), as for serve.',
    'The page can also open a session folder or a .zip dropped onto it, without the server.',
  ].join('\n'),
  run,
};
