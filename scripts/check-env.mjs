// Runs before `npm test` (pretest): says what is missing and how to fix it, instead of
// letting the first test fail on a Node version error or a dlopen trace.
// Plain JS so it runs under any Node.
import { existsSync } from 'node:fs';

const problems = [];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) problems.push(`Node ${process.version} is too old (need >= 22.18).`);
if (!existsSync(new URL('../node_modules/vitest/package.json', import.meta.url))) problems.push('npm dependencies are not installed.');
if (process.platform === 'linux' && existsSync('/sbin/ldconfig')) {
  const { execFileSync } = await import('node:child_process');
  const libs = execFileSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' });
  if (!/libblas\.so\.3 /.test(libs) || !/liblapack\.so\.3 /.test(libs)) problems.push('libblas.so.3 / liblapack.so.3 are missing (apt-get install libopenblas0-pthread).');
}
if (problems.length) {
  console.error(`This machine is not set up for SolaceLive:\n  - ${problems.join('\n  - ')}\nRun \`npm run setup\` (it fixes all of these), then try again.`);
  process.exit(1);
}
