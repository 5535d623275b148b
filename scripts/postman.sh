#!/usr/bin/env bash
# Runs the end-to-end Postman suite (postman_collection.json) with newman,
# pinned in package-lock.json, against a dev server of its own, and exits
# with newman's status.
#
#   scripts/postman.sh [newman options…]      e.g. --reporters cli,junit
#
# The dev server is cmd/dev, built and started on PORT (default: a free
# loopback port) with the dev stack's defaults only: the user's .env and
# shell settings for the shop do not reach it, so the collection's defaults
# always match. It uses DATABASE_URL and REDIS_URL when both are set, else a
# private Postgres and Redis in .dev/postman (started, and stopped at the
# end). Its log and stand-ins file are in .dev/postman. It never touches
# .dev/local, so a `./build.sh dev` running meanwhile is not disturbed.
#
# POSTMAN_BASE_URL=http://localhost:8888 runs the suite against a dev server
# already running instead (pass --env-var for secrets it does not share with
# the defaults). POSTMAN_TIMEOUT: seconds to wait for the server (default 180).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
dir=.dev/postman

log() { printf '\033[1m--> %s\033[0m\n' "$*" >&2; }
die() { printf 'postman: %s\n' "$*" >&2; exit 1; }

for tool in node npm go curl; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done

# newman as package-lock.json pins it. The stamp is scripts/netlify-check.sh's:
# one `npm ci` serves both.
stamp=node_modules/.netlify-check-stamp
want_stamp="$(sha256sum package-lock.json | cut -d' ' -f1) node-$(node -p 'process.versions.node.split(".")[0]')"
if [ ! -x node_modules/.bin/newman ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want_stamp" ]; then
  log "npm ci"
  npm ci --prefer-offline --no-audit --no-fund --ignore-scripts --include=dev --include=optional --loglevel=error
  printf '%s\n' "$want_stamp" > "$stamp"
fi

# run_newman BASE_URL [newman options…]. A request may take a cleanup run's
# 25 s; none should take a minute.
run_newman() {
  npx --no -- newman run postman_collection.json --env-var "base_url=$1" --timeout-request 60000 "${@:2}"
}

if [ -n "${POSTMAN_BASE_URL:-}" ]; then
  log "newman against $POSTMAN_BASE_URL"
  run_newman "$POSTMAN_BASE_URL" "$@"
  exit
fi

mkdir -p "$dir"
stack_started=
server_pid=
finish() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$stack_started" ]; then
    go run ./cmd/devstack down -dir "$dir" >/dev/null 2>&1 || true
  fi
}
trap finish EXIT

if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  log "starting a private Postgres and Redis in $dir"
  stack_started=1
  stack_env=$(go run ./cmd/devstack up -dir "$dir")
  eval "$stack_env"
fi

log "building cmd/dev"
go build -o "$dir/dev" ./cmd/dev

port=${PORT:-$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })')}
base="http://127.0.0.1:$port"
log "starting the dev server on $base (log: $dir/dev.log)"
# Only what the dev server needs: everything else takes its dev default.
env -i PATH="$PATH" HOME="${HOME:-/tmp}" TMPDIR="${TMPDIR:-/tmp}" \
  DATABASE_URL="$DATABASE_URL" REDIS_URL="$REDIS_URL" PORT="$port" \
  "$dir/dev" -standins "$dir/standins.json" >"$dir/dev.log" 2>&1 &
server_pid=$!

deadline=$((SECONDS + ${POSTMAN_TIMEOUT:-180}))
until curl -fsS --max-time 2 "$base/healthz" >/dev/null 2>&1; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    server_pid=
    tail -n 30 "$dir/dev.log" >&2
    die "the dev server exited before answering /healthz"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    tail -n 30 "$dir/dev.log" >&2
    die "the dev server did not answer $base/healthz within ${POSTMAN_TIMEOUT:-180}s"
  fi
  sleep 0.2
done

log "newman run postman_collection.json"
status=0
run_newman "$base" "$@" || status=$?
if [ "$status" != 0 ]; then
  log "newman failed ($status); the dev server's log is $dir/dev.log"
fi
exit "$status"
