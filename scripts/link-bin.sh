#!/usr/bin/env bash
# Puts `solacelive` on PATH: a symlink to this checkout's bin/solacelive.mjs in /usr/local/bin
# (root) or ~/.local/bin (others), the same places set-up installs Node. Called by setup.sh;
# idempotent. SOLACELIVE_BIN_DIR overrides the folder (tests link into a temp folder).
# A `solacelive` there that is not a link to some solacelive.mjs (another tool's) is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*" >&2; }

bin="$(pwd -P)/bin/solacelive.mjs"
if [ -n "${SOLACELIVE_BIN_DIR:-}" ]; then dir="$SOLACELIVE_BIN_DIR"
elif [ "$(id -u)" = 0 ]; then dir=/usr/local/bin
else dir="$HOME/.local/bin"; fi
link="$dir/solacelive"

[ -x "$bin" ] || chmod +x "$bin"
if [ -L "$link" ] && [ "$(readlink -f "$link")" = "$(readlink -f "$bin")" ]; then
  : # already this checkout's
elif [ -e "$link" ] && { [ ! -L "$link" ] || [ "$(basename "$(readlink "$link")")" != solacelive.mjs ]; }; then
  say "warning: $link exists and is not a SolaceLive link; left alone (run this checkout as: node $bin)"
  exit 0
else
  mkdir -p "$dir"
  # A link to another checkout's bin (or a dangling one) is replaced: the newest set-up wins.
  ln -sfn "$bin" "$link"
  say "linked $link -> $bin"
fi

# The link only helps if the shell finds it first.
found="$(PATH="$PATH" command -v solacelive 2>/dev/null || true)"
if [ -z "$found" ] || [ "$(readlink -f "$found")" != "$(readlink -f "$bin")" ]; then
  say "note: 'solacelive' on your PATH is ${found:-nothing}; add $dir to the front of PATH (e.g. in ~/.profile) to run it as 'solacelive'"
else
  say "'solacelive' runs $bin"
fi
