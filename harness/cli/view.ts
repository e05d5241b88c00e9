// `solacelive view`: the web viewer over a sessions folder (harness/view/server.ts), built
// first when viewer/dist is missing or older than its sources.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intOption, parseCommandArgs, UsageError, type Command } from '../../src/cli/args.ts';
import { DEFAULT_VIEW_HOST, DEFAULT_VIEW_PORT, ensureViewerBuilt, startViewServer } from '../view/index.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/sessions/', import.meta.url));

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    sessions: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const port = intOption(values, 'port', DEFAULT_VIEW_PORT);
  if (port < 0 || port > 65535) throw new UsageError('--port must be 0…65535');
  const sessionsDir = resolve(values.sessions ?? (existsSync('sessions') ? 'sessions' : FIXTURES));
  const log = (m: string) => console.error(`solacelive view: ${m}`);
  await ensureViewerBuilt(log);
  const s = await startViewServer({ sessionsDir, port, host: values.host ?? DEFAULT_VIEW_HOST, log }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE') throw new Error(`port ${port} is in use (another solacelive view?): pick another with --port, or --port 0 for a free one`);
    throw err;
  });
  console.log(`solacelive view: sessions in ${sessionsDir}`);
  console.log(`  viewer     ${s.url}`);
  console.log(`  live page  ${s.url}live/`);
  if (!['127.0.0.1', '::1', 'localhost'].includes(s.host)) log(`bound to ${s.host}: anyone who can reach this address can read every session in the folder`);
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
    `usage: solacelive view [--sessions DIR] [--port ${DEFAULT_VIEW_PORT}] [--host ${DEFAULT_VIEW_HOST}]`,
    '',
    'Serves the web viewer and a read-only HTTP API over the session folders directly inside',
    'DIR (list, manifest, steps, packets, WAVs with byte ranges, the last saved replay verdict),',
    'and the live packet-voice page at /live/. Builds viewer/dist first (vite) when it is',
    'missing or older than its sources. Nothing outside DIR and the built viewer is served;',
    'only GET and HEAD are answered. Ctrl-C stops it.',
    '',
    '  --sessions DIR  the sessions folder (default: ./sessions if it exists, else the',
    '                  fixture sessions of this checkout)',
    `  --port P        port (default ${DEFAULT_VIEW_PORT}; 0 picks a free one)`,
    `  --host H        address to bind (default ${DEFAULT_VIEW_HOST}, loopback only)`,
    '',
    'The page can also open a session folder or a .zip dropped onto it, without the server.',
  ].join('\n'),
  run,
};
