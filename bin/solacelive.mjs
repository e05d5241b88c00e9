#!/usr/bin/env node
// Launcher for the `solacelive` command. Plain JS so that an old Node gets a clear
// message instead of a syntax error; the CLI itself is TypeScript run by Node's
// built-in type stripping (Node >= 22.18), so there is no build step.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(`solacelive needs Node >= 22.18 (this is ${process.version} at ${process.execPath}).\n` +
    'Run `npm run setup` in the project folder: it installs Node 24 from the npm registry where the machine has an older one.');
  process.exit(1);
}
const { main } = await import('../src/cli.ts');
// The harness (recorder, replayer) sits on top of src; its commands join here.
const { HARNESS_COMMANDS } = await import('../harness/cli/commands.ts');
// The benchmarks and the CI gate (bench/) sit on top of both.
const { BENCH_COMMANDS } = await import('../bench/cli.ts');
process.exitCode = await main(process.argv.slice(2), { ...HARNESS_COMMANDS, ...BENCH_COMMANDS });
