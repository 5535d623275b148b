#!/usr/bin/env bash
# Peak memory (RSS) of a function process under load, with its throughput
# and latency: the webhook and payment-callback binaries, built as Netlify
# builds them, each run as one warm Lambda process fed N events one at a
# time (go run ./cmd/coldstart -load, which also stands in for the Graph
# API), against a private Postgres and Redis holding the demo catalogue.
#
#   scripts/function-load.sh [N]     N invocations per function (default
#                                    $INVOCATIONS, else 2000)
#
# Prints a markdown table on stdout; exits 1 unless every invocation
# answered 200 and every reply reached the Graph stand-in. The stack lives in
# .dev/rss and is always this script's own: DATABASE_URL and REDIS_URL from
# the environment are ignored, since the demo catalogue is imported into it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
n=${1:-${INVOCATIONS:-2000}}
stack_dir="$root/.dev/rss"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

log "starting private Postgres and Redis in .dev/rss"
# Captured first: `eval "$(…)"` would swallow a failed start and run on
# without a database.
stack_env=$(go run ./cmd/devstack up -dir "$stack_dir")
eval "$stack_env"
trap 'go run ./cmd/devstack down -dir "$stack_dir" >/dev/null 2>&1 || true' EXIT

log "schema and demo catalogue"
go run ./scripts/migrate >&2
go run ./scripts/import-catalog scripts/demo-catalog.csv >&2

./build.sh functions >&2

# Made-up secrets: the load tool signs the events with the ones it passes
# to the function. Stripe points nowhere: neither event calls it.
log "$n invocations per function, one at a time"
go run ./cmd/coldstart -load "$n" \
  -env VERIFY_TOKEN=load -env WHATSAPP_APP_SECRET=load-app-secret \
  -env WHATSAPP_PHONE_NUMBER_ID=106540352242922 -env WHATSAPP_ACCESS_TOKEN=EAAload \
  -env STRIPE_SECRET=sk_test_load -env STRIPE_WEBHOOK_SECRET=whsec_load \
  -env STRIPE_API_BASE_URL=http://127.0.0.1:1 \
  -env DATABASE_URL="$DATABASE_URL" -env REDIS_URL="$REDIS_URL" \
  dist/functions/webhook/bootstrap dist/functions/payment-callback/bootstrap
