// Root postinstall: the MLX binding's own install script is switched off in package.json
// (allowScripts) because it downloads from GitHub and fails offline, although the npm
// tarball already ships the Linux x64 binary. Here we decide per platform:
//   - Linux x64: keep the shipped build/Release/mlx.node; nothing to fetch.
//   - anything else (macOS arm64 needs the Metal build and its mlx.metallib): run the
//     binding's own downloader, which needs internet.
// Never fail the install on Linux: a missing BLAS is reported by `solacelive doctor`.
// Plain JS (no TypeScript) so it runs before anything is built, under any Node >= 18.
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

const require = createRequire(import.meta.url);
let pkgDir;
try {
  pkgDir = dirname(require.resolve('@frost-beta/mlx/package.json'));
} catch {
  // Installed without dependencies (e.g. `npm ci --omit`): nothing to do.
  process.exit(0);
}
const binary = join(pkgDir, 'build', 'Release', 'mlx.node');
const shippedLinux = process.platform === 'linux' && process.arch === 'x64';

if (shippedLinux) {
  if (!existsSync(binary) || statSync(binary).size < 1_000_000) {
    console.error(`[solacelive] ${binary} is missing or truncated; reinstall @frost-beta/mlx (npm ci).`);
    process.exit(1);
  }
  process.exit(0);
}

const needsMetallib = process.platform === 'darwin' && process.arch === 'arm64';
const metallib = join(pkgDir, 'build', 'Release', 'mlx.metallib');
if (existsSync(binary) && (!needsMetallib || existsSync(metallib)) && process.env.SOLACELIVE_FORCE_MLX_DOWNLOAD !== '1') {
  // On macOS the shipped Linux ELF is not loadable, so only skip when the metallib (which
  // only the downloader writes) is present too.
  process.exit(0);
}
console.error(`[solacelive] fetching the MLX binary for ${process.platform}-${process.arch} (the binding's install.js)`);
const r = spawnSync(process.execPath, [join(pkgDir, 'install.js')], { cwd: pkgDir, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`[solacelive] could not download the MLX binary for ${process.platform}-${process.arch}; ` +
    'this platform needs internet access at install time (only Linux x64 ships in the npm tarball).');
  process.exit(r.status ?? 1);
}
