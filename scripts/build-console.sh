#!/usr/bin/env bash
# Builds the web console into internal/console/dist/app, which the binary
# embeds. Skips the work when the sources, the lockfile and the API
# description are what the last build saw (a stamp in the output), so
# make build and make run only pay for it after a change. Installs Node.js
# and npm from Debian when they are missing.
#   scripts/build-console.sh [--force]
set -euo pipefail
cd "$(dirname "$0")/.."

web=internal/console/web
out=internal/console/dist/app
GO=${GO:-go}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "build-console: installing Node.js and npm from Debian"
  sudo=""
  if [[ $(id -u) != 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
fi

mkdir -p "$web/gen"
# The API description as this source tree's binary serves it: the
# console's types come from it, so a contract change fails the type check
# below rather than the console's users.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
$GO run ./cmd/customerhub openapi >"$tmp"
if ! cmp -s "$tmp" "$web/gen/openapi.json"; then
  cp "$tmp" "$web/gen/openapi.json"
fi

stamp=$( (cat "$web/package-lock.json" "$web/gen/openapi.json" "$web/build.mjs" "$web/index.html" "$web/tsconfig.json";
  find "$web/src" -type f -print0 | sort -z | xargs -0 cat) | sha256sum | cut -d' ' -f1)
if [[ ${1:-} != --force && -f $out/.stamp && $(cat "$out/.stamp") == "$stamp" ]]; then
  exit 0
fi

lockhash=$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)
if [[ ! -f $web/node_modules/.lockhash || $(cat "$web/node_modules/.lockhash") != "$lockhash" ]]; then
  (cd "$web" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  echo "$lockhash" >"$web/node_modules/.lockhash"
fi
(cd "$web" && node_modules/.bin/openapi-typescript gen/openapi.json -o gen/api.d.ts --silent \
  && node_modules/.bin/tsc -p tsconfig.json && node build.mjs)
echo "$stamp" >"$out/.stamp"
