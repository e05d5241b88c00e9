// The `solacelive` command: a table of subcommands, each in its own module under
// src/cli/ and imported only when used (so `--help` never loads MLX).
import { UsageError, type Command } from './cli/args.ts';
import { linkedOnPath, selfCommand } from './cli/invocation.ts';
import { pinProcessBlas } from './engine/blas.ts';

/** Commands that run the models in their own process (not in an engine worker). */
const IN_PROCESS_COMPUTE = new Set(['generate', 'codec', 'smoke']);

export interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<{ command: Command }>;
}

// One line per command; keep sorted by how a new user meets them.
// Commands built on harness/ (demo, record, replay, sessions, serve with recording) are added
// by bin/solacelive.mjs from harness/cli/commands.ts: src never imports harness.
const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  smoke: { summary: 'load MLX, run a small computation, print the device and BLAS in use', load: () => import('./cli/smoke.ts') },
  codec: { summary: 'Mimi codec on files: WAV → codes JSON, codes JSON → WAV, or both in one streaming session', load: () => import('./cli/codec.ts') },
  generate: { summary: 'run Mimi + Moshi LM over a WAV file (offline pipeline) and write the reply audio', load: () => import('./cli/generate.ts') },
  weights: { summary: 'download Moshi weights into the Hugging Face cache, or synthesize untrained ones (synth)', load: () => import('./cli/weights.ts') },
  serve: { summary: 'run the packet server: WebSocket sessions, GET /health, GET /metrics', load: () => import('./cli/serve.ts') },
  client: { summary: 'stream a WAV to a server, write the reply WAV, print text and latency', load: () => import('./cli/client.ts') },
};

function usage(commands: Readonly<Record<string, CommandEntry>>): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  const lines = Object.entries(commands).map(([name, e]) => `  ${name.padEnd(width)}  ${e.summary}`);
  return [
    'usage: solacelive <command> [options]',
    '',
    'Real-time Moshi/Mimi packet server on MLX with a deterministic session recorder.',
    '',
    'commands:',
    ...lines,
    '',
    'Run `solacelive <command> --help` (or `solacelive help <command>`) for a command\'s options.',
    // The help texts say `solacelive …`: say how to run that here when set-up has not linked it.
    ...(linkedOnPath() ? [] : ['', `\`solacelive\` is not on your PATH here: run it as \`${selfCommand()}\`, or let \`npm run setup\` link it (README).`]),
  ].join('\n');
}

export async function main(argv: string[], extra: Readonly<Record<string, CommandEntry>> = {}): Promise<number> {
  const commands = { ...COMMANDS, ...extra };
  // `solacelive help CMD` is `solacelive CMD --help`.
  if (argv[0] === 'help' && argv[1] !== undefined) argv = [argv[1], '--help'];
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage(commands));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    const { createRequire } = await import('node:module');
    console.log((createRequire(import.meta.url)('../package.json') as { version: string }).version);
    return 0;
  }
  const entry = commands[name];
  if (!entry) {
    console.error(`solacelive: unknown command '${name}'\n\n${usage(commands)}`);
    return 2;
  }
  let command: Command | undefined;
  try {
    // Loading a command may load MLX, which fails with a typed error on a machine
    // without BLAS: report it like any other error, without a stack trace.
    // Commands that compute in this process pin BLAS as the engine does, before MLX loads.
    if (IN_PROCESS_COMPUTE.has(name)) pinProcessBlas();
    ({ command } = await entry.load());
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(command.help);
      return 0;
    }
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`solacelive ${name}: ${err.message}\n\n${command?.help ?? ''}`);
      return 2;
    }
    const e = err as Error & { code?: string };
    console.error(`solacelive ${name}: ${e.code ? `[${e.code}] ` : ''}${e.message}`);
    if (process.env.SOLACELIVE_DEBUG) console.error(e.stack);
    return 1;
  }
}
