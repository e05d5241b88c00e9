// Real Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core
// (which never downloads a browser of its own). The flags keep a headless run off the
// network this machine does not have: without the background-networking ones Chromium
// opens many refused connections and slows every start.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';

export const CHROMIUM_PATH = process.env.SOLACELIVE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** Launch headless Chromium; extra args (e.g. fake media devices) are appended. */
export async function launchChromium(extraArgs: readonly string[] = [], options: LaunchOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: run \`npm run setup\` (installs Debian's chromium) or set SOLACELIVE_CHROMIUM`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // playwright gives each launch a new empty profile of its own.
    args: [...CHROMIUM_ARGS, ...extraArgs],
    ...options,
  });
}
