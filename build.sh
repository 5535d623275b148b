#!/usr/bin/env bash
# One entry point for building, running and testing the shop.
#
#   ./build.sh                 build what Netlify deploys (the four functions)
#   ./build.sh dev             run the whole shop locally on http://localhost:8888
#   ./build.sh chat            talk to the local shop as a WhatsApp customer
#   ./build.sh test            vet and test everything against real Postgres and Redis
#   ./build.sh functions       cross-compile each function as Netlify does, with sizes
#   ./build.sh netlify-check   bundle with Netlify's own tools and serve one request
#   ./build.sh bench           benchmarks against the machine's own limits, cold starts, sizes
#   ./build.sh storm [FLAGS]   customers rush, duplicates and faults, then every invariant checked
#   ./build.sh coldstart       time each function binary's cold start through a Lambda Runtime API
#   ./build.sh migrate         apply the schema to DATABASE_URL
#   ./build.sh import [FEED]   import a Meta catalogue feed (default: the demo feed)
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)

functions=(webhook payment-callback create-order-proxy cleanup)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# .env holds local settings; anything already in the environment wins.
load_env() {
  [ -f .env ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
    local key=${line%%=*} value=${line#*=}
    [ -n "${!key:-}" ] || export "$key=$value"
  done < .env
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=
apt_install() {
  command -v apt-get >/dev/null || { echo "missing $*: install it with your package manager" >&2; exit 1; }
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Postgres and Redis run privately from the checkout; install their
# binaries when the machine lacks them.
ensure_services() {
  if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null; then
    log "installing redis-server"; apt_install redis-server
  fi
  if [ -z "${DATABASE_URL:-}" ] && ! command -v pg_ctl >/dev/null && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    log "installing postgresql"; apt_install postgresql
  fi
}

# Netlify compiles functions/<name>/main.go itself when it deploys; this
# builds the same binaries the same way (static, linux/amd64, `bootstrap` for
# the provided.al2 runtime, lambda.norpc) to check and measure them.
build_functions() {
  local out="$root/dist/functions"
  mkdir -p "$out" public
  for fn in "${functions[@]}"; do
    CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -tags lambda.norpc -ldflags='-s -w' \
      -o "$out/$fn/bootstrap" "./functions/$fn"
    awk -v n="$fn" -v b="$(stat -c %s "$out/$fn/bootstrap")" 'BEGIN { printf "%-20s %5.1f MB\n", n, b / 1048576 }'
  done
}

# stripe-mock checks our Stripe request shapes against Stripe's OpenAPI spec.
ensure_stripe_mock() {
  command -v stripe-mock >/dev/null && return
  [ -x "$(go env GOPATH)/bin/stripe-mock" ] && return
  log "installing stripe-mock"
  go install github.com/stripe/stripe-mock@v0.203.0
}

# start_stack exports DATABASE_URL and REDIS_URL for a private stack in
# .dev/<name> unless both are given, and stops it when the script exits.
start_stack() {
  ensure_services
  if [ -n "${DATABASE_URL:-}" ] && [ -n "${REDIS_URL:-}" ]; then return; fi
  local stack_dir="$root/.dev/$1" stack_env
  log "starting private Postgres and Redis in .dev/$1"
  # Captured first: `eval "$(…)"` would swallow a failed start and run on
  # without a database.
  stack_env=$(go run ./cmd/devstack up -dir "$stack_dir")
  eval "$stack_env"
  # Expanded now: the EXIT trap runs after this function's locals are gone.
  trap "go run ./cmd/devstack down -dir '$stack_dir' >/dev/null 2>&1 || true" EXIT
}

cmd_test() {
  ensure_stripe_mock
  start_stack test
  log "go vet"
  go vet ./...
  log "staticcheck"
  go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
  log "go test -race"
  go test -race -count=1 -timeout 8m ./...
  log "fuzzing (${FUZZTIME:-a few seconds} per target)"
  fuzz
  log "Postman suite (newman) against the dev server"
  ./scripts/postman.sh
  log "storm (short)"
  go run ./cmd/storm -short -dir "$root/.dev/storm-ci"
  log "netlify check"
  ./scripts/netlify-check.sh
}

# Each fuzz target runs briefly on top of its kept corpus (testdata/fuzz):
# long enough to catch a regression in the parsers and signature checks.
# Budgets are execution counts (about 5 s each here), not durations: Go
# 1.26's coordinator can report a spurious "context deadline exceeded" when
# a duration runs out mid-call on a loaded machine (go.dev/issue/75804,
# fixed in 1.27). FUZZTIME (e.g. 60s or 50000x) overrides every budget.
fuzz() {
  local target pkg name budget
  for target in pkg/whatsapp:FuzzParseNotification:10000x pkg/whatsapp:FuzzVerifySignature:20000x \
    pkg/lambdahttp:FuzzHandler:7000x pkg/catalog:FuzzParseFeed:400x pkg/conversation:FuzzReadIntent:30000x \
    pkg/payments:FuzzReadEvent:10000x pkg/payments:FuzzCallback:10000x pkg/orders:FuzzVerifyBackendRequest:15000x \
    pkg/app:FuzzCreateOrder:1000x; do
    IFS=: read -r pkg name budget <<<"$target"
    go test -run '^$' -fuzz "^$name\$" -fuzztime "${FUZZTIME:-$budget}" "./$pkg"
  done
}

# Benchmarks run in one go so their ratios compare like with like; each
# target is a ratio to a limit measured in the same run.
cmd_bench() {
  start_stack bench
  log "benchmarks (go test -bench)"
  CI=true go test -run '^$' -bench 'Reserve|RawEvalSHA|Create|PaymentEvent|PostgresInsert|InboundText|InboundOrder|BareHTTP' \
    -benchtime "${BENCHTIME:-5s}" ./pkg/inventory ./pkg/orders ./pkg/app | tee "$root/dist/bench.txt"
  # Latency at a steady rate below saturation: half the measured inbound rate.
  local half
  half=$(awk '/^BenchmarkInboundText/ { for (i = 1; i < NF; i++) if ($(i+1) == "msgs/s") print int($i / 2) }' "$root/dist/bench.txt")
  CI=true INBOUND_RATE="${half:-100}" go test -run '^$' -bench 'InboundLatency' -benchtime 2000x ./pkg/app \
    | tee -a "$root/dist/bench.txt"
  awk '
    /^Benchmark/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /\/s$/) rate[$1] = $i }
    END {
      r = rate["BenchmarkReserve-2"]; e = rate["BenchmarkRawEvalSHA-2"]
      o = rate["BenchmarkCreate-2"]; p = rate["BenchmarkPostgresInsert-2"]; v = rate["BenchmarkPaymentEvent-2"]
      printf "\n| measure | rate | limit | ratio | target |\n|---|--:|--:|--:|--:|\n"
      if (e) printf "| holds/s through reserve.lua vs raw EVALSHA | %.0f | %.0f | %.2f | 0.50 |\n", r, e, r / e
      if (p) printf "| orders/s end to end vs Postgres single-row inserts/s | %.0f | %.0f | %.3f | 0.08 |\n", o, p, o / p
      if (p) printf "| Stripe events/s through payment-callback vs inserts/s | %.0f | %.0f | %.3f | 0.15 |\n", v, p, v / p
      w = rate["BenchmarkInboundOrder-2"]
      if (p) printf "| orders/s through the webhook (signed buy) vs inserts/s | %.0f | %.0f | %.3f | 0.08 |\n", w, p, w / p
      m = rate["BenchmarkInboundText-2"]
      if (p) printf "| inbound WhatsApp messages/s vs inserts/s | %.0f | %.0f | %.3f | 0.25 |\n", m, p, m / p
      h = rate["BenchmarkBareHTTP-2"]
      if (h) printf "| inbound WhatsApp messages/s vs a bare net/http 200 | %.0f | %.0f | %.3f | – |\n", m, h, m / h
    }' "$root/dist/bench.txt"
  log "cleanup: 10,000 lapsed holds in one run"
  CI=true go test -run '^$' -bench 'CleanupLapsed' -benchtime 1x ./pkg/cleanup | tee -a "$root/dist/bench.txt"
  log "cold start and binary size"
  build_functions >/dev/null
  cmd_coldstart
  log "a function process under load: throughput, latency, peak RSS"
  scripts/function-load.sh "${INVOCATIONS:-2000}"
}

# Dummy settings: the sample events never reach Postgres, Redis or the
# providers, but each function must load its configuration as in production.
cmd_coldstart() {
  go run ./cmd/coldstart -runs "${RUNS:-20}" -event cmd/coldstart/testdata \
    -env VERIFY_TOKEN=t -env WHATSAPP_APP_SECRET=s -env WHATSAPP_PHONE_NUMBER_ID=1 \
    -env STRIPE_WEBHOOK_SECRET=whsec_test -env BACKEND_MODE=inline -env ADMIN_API_KEY=k \
    -env ORDER_API_KEY=k -env STRIPE_SECRET=sk_test_x -env WHATSAPP_ACCESS_TOKEN=t \
    -env DATABASE_URL=postgres://shop@127.0.0.1:1/shop -env REDIS_URL=redis://127.0.0.1:1/0 \
    dist/functions/*/bootstrap
}

main() {
  load_env
  case "${1:-build}" in
    build|functions) log "building functions"; build_functions ;;
    dev) ensure_services; exec go run ./cmd/dev ;;
    chat) shift; exec go run ./cmd/chat "$@" ;;
    test) cmd_test ;;
    bench) mkdir -p dist; cmd_bench ;;
    storm) shift; ensure_services; exec go run ./cmd/storm "$@" ;;
    netlify-check) exec ./scripts/netlify-check.sh ;;
    coldstart) build_functions; cmd_coldstart ;;
    migrate) exec go run ./scripts/migrate ;;
    import) shift; exec go run ./scripts/import-catalog "${@:-scripts/demo-catalog.csv}" ;;
    *) sed -n '2,14p' "$0" >&2; exit 2 ;;
  esac
}

main "$@"
