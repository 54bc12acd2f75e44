#!/usr/bin/env bash
# Makes sure a headless Chromium is installed for the console's browser
# tests (internal/console): Debian's chromium package, installed with
# apt-get when missing. Prints the browser's path.
set -euo pipefail
for b in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [[ -n $b && -x $b ]]; then
    echo "$b"
    exit 0
  fi
done
echo "ensure-browser: installing chromium from Debian" >&2
sudo=""
if [[ $(id -u) != 0 ]]; then sudo="sudo"; fi
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >&2
echo /usr/bin/chromium
