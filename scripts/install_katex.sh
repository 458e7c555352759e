#!/usr/bin/env bash
# Installs what the math checks of `docpipe eval` need: Debian's headless-capable Chromium and the
# KaTeX npm package (MIT) into docpipe/eval/katex/ (git-ignored). Idempotent: re-running it skips
# whatever is already present. Usage: scripts/install_katex.sh [TARGET_DIR]
set -euo pipefail

KATEX_VERSION="${KATEX_VERSION:-0.16.22}"
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${1:-$root/docpipe/eval/katex}"

if ! command -v chromium >/dev/null 2>&1; then
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

if ! command -v npm >/dev/null 2>&1; then
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq npm >/dev/null
fi

installed="$(node -p "require('$target/node_modules/katex/package.json').version" 2>/dev/null || true)"
if [ "$installed" != "$KATEX_VERSION" ]; then
    mkdir -p "$target"
    npm install --prefix "$target" --no-save --no-audit --no-fund --loglevel=error "katex@$KATEX_VERSION"
fi

test -f "$target/node_modules/katex/dist/katex.min.js"
echo "chromium: $(command -v chromium)"
echo "katex $KATEX_VERSION: $target/node_modules/katex/dist"
