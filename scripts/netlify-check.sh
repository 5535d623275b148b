#!/usr/bin/env bash
# Checks the Netlify side of the shop with Netlify's own tools, offline:
#
#  1. bundles every Go function with @netlify/zip-it-and-ship-it, as a Netlify
#     build does, with the per-function settings @netlify/config reads from
#     netlify.toml, then checks the manifest (four functions, all `go`,
#     cleanup scheduled as netlify.toml says) and the redirects;
#  2. serves the functions with `netlify functions:serve --offline` on a free
#     loopback port and sends the WhatsApp webhook a verification GET, a signed
#     POST (expects 200) and a badly signed POST (expects 401).
#
# Runs from anywhere; installs node_modules with `npm ci` when missing or stale.
# Needs node, npm, go, curl and openssl.
#
# Environment (each has a harmless local default; the caller's value wins):
#   VERIFY_TOKEN WHATSAPP_APP_SECRET WHATSAPP_PHONE_NUMBER_ID
#   WHATSAPP_ACCESS_TOKEN DATABASE_URL REDIS_URL
# Any other variable in the environment reaches the functions too.
#   NETLIFY_CHECK_TIMEOUT  seconds to wait for the functions server (default 300)
#   NETLIFY_CHECK_CLEANUP=1  also run cleanup once as the scheduler would
#   NETLIFY_CHECK_KEEP=1   keep the temporary directory (bundles, logs)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
expected_functions=(cleanup create-order-proxy payment-callback webhook)

started=$SECONDS
log() { printf '\033[1m--> %s\033[0m\n' "$*" >&2; }
die() { printf 'netlify-check: FAIL: %s\n' "$*" >&2; exit 1; }
phase_start() { phase_t0=$SECONDS; log "$1"; }
phase_end() { timings+=("$1 $((SECONDS - phase_t0))s"); }
timings=()

for tool in node npm go curl openssl; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done

# Settings the functions read. Local, harmless defaults: the database and Redis
# URLs point at a closed loopback port unless the caller provides real ones.
export VERIFY_TOKEN="${VERIFY_TOKEN:-netlify-check-verify-token}"
export WHATSAPP_APP_SECRET="${WHATSAPP_APP_SECRET:-netlify-check-app-secret}"
export WHATSAPP_PHONE_NUMBER_ID="${WHATSAPP_PHONE_NUMBER_ID:-100000000000001}"
export WHATSAPP_ACCESS_TOKEN="${WHATSAPP_ACCESS_TOKEN:-netlify-check-access-token}"
export DATABASE_URL="${DATABASE_URL:-postgres://shop:shop@127.0.0.1:1/shop?sslmode=disable}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:1/0}"
export STRIPE_SECRET="${STRIPE_SECRET:-sk_test_netlify_check}"
export STRIPE_WEBHOOK_SECRET="${STRIPE_WEBHOOK_SECRET:-whsec_netlify_check}"
export ORDER_API_KEY="${ORDER_API_KEY:-netlify-check-order-key}"
export ADMIN_API_KEY="${ADMIN_API_KEY:-netlify-check-admin-key}"

if [ -f "$root/.go-version" ]; then
  want_go="go$(tr -d '[:space:]' < "$root/.go-version")"
  have_go=$(go env GOVERSION)
  [ "$want_go" = "$have_go" ] || log "warning: .go-version asks for $want_go, building with $have_go"
fi

# 1. node_modules, reinstalled when package-lock.json or the Node major changed.
phase_start "npm ci (when needed)"
stamp="$root/node_modules/.netlify-check-stamp"
want_stamp="$(sha256sum "$root/package-lock.json" | cut -d' ' -f1) node-$(node -p 'process.versions.node.split(".")[0]')"
if [ ! -x "$root/node_modules/.bin/netlify" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want_stamp" ]; then
  # --ignore-scripts: nothing here needs an install script (they only fetch or
  # compile optional extras); --include: NODE_ENV=production or omit=optional
  # in the caller's npm config would drop the CLI or its Go functions proxy.
  (cd "$root" && npm ci --prefer-offline --no-audit --no-fund --ignore-scripts \
    --include=dev --include=optional --loglevel=error)
  printf '%s\n' "$want_stamp" > "$stamp"
else
  log "node_modules up to date"
fi
phase_end npm

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netlify-check.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    # The server leads its own process group (setsid): end it and the
    # function processes it started.
    kill -TERM -- "-$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$server_pid" 2>/dev/null || true
  fi
  if [ "${NETLIFY_CHECK_KEEP:-}" = 1 ]; then log "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# 2. Bundle as a Netlify build does, and check the manifest.
phase_start "bundle functions with zip-it-and-ship-it"
mkdir -p "$tmp/bundle"
functions_dir=$(cd "$root" && ROOT="$root" OUT="$tmp/bundle" EXPECTED="${expected_functions[*]}" \
  node --input-type=module - <<'JS'
import { resolveConfig } from '@netlify/config'
import { zipFunctions } from '@netlify/zip-it-and-ship-it'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const { ROOT: root, OUT: out } = process.env
const expected = process.env.EXPECTED.split(' ').sort()
const problems = []
const check = (ok, message) => ok || problems.push(message)

// netlify.toml as Netlify reads it (no API calls: offline, not linked).
const { config } = await resolveConfig({ repositoryRoot: root, cwd: root, offline: true, mode: 'cli' })
const functionsDir = config.functionsDirectory
check(functionsDir === join(root, 'functions'), `functions directory is ${functionsDir}, want ${join(root, 'functions')}`)

// @netlify/build hands zip-it-and-ship-it the [functions] settings keyed by
// name (or glob); for Go only `schedule` (and the display name) matter.
// zipGo: true gives the zip with `bootstrap` a CLI deploy uploads.
const zisiConfig = { '*': { zipGo: true } }
for (const [pattern, settings] of Object.entries(config.functions ?? {})) {
  zisiConfig[pattern] = { ...zisiConfig[pattern], schedule: settings.schedule, name: settings.name }
}
const manifestPath = join(out, 'manifest.json')
// One at a time: on two cores, parallel cold Go builds compile the same
// dependencies several times over.
const results = await zipFunctions(functionsDir, out, {
  basePath: root, repositoryRoot: root, config: zisiConfig, manifest: manifestPath, parallelLimit: 1,
})
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
const fns = manifest.functions

check(fns.length === expected.length, `manifest has ${fns.length} functions, want ${expected.length}`)
check(JSON.stringify(fns.map((f) => f.name).sort()) === JSON.stringify(expected),
  `functions are [${fns.map((f) => f.name).sort()}], want [${expected}]`)
for (const f of fns) {
  check(f.runtime === 'go', `${f.name}: runtime ${f.runtime}, want go`)
  const want = config.functions?.[f.name]?.schedule
  check(f.schedule === want, `${f.name}: schedule ${JSON.stringify(f.schedule)}, netlify.toml says ${JSON.stringify(want)}`)
  const r = results.find((x) => x.name === f.name)
  check(r?.entryFilename === 'bootstrap', `${f.name}: zip entry ${r?.entryFilename}, want bootstrap`)
}
check(Boolean(config.functions?.cleanup?.schedule), 'netlify.toml gives cleanup no schedule')

const wantRedirects = {
  '/webhook': '/.netlify/functions/webhook',
  '/payment-callback': '/.netlify/functions/payment-callback',
  '/create-order': '/.netlify/functions/create-order-proxy',
}
for (const [from, to] of Object.entries(wantRedirects)) {
  const r = config.redirects.find((x) => x.from === from)
  check(r && r.to === to && r.status === 200 && r.force === true,
    `redirect ${from}: ${JSON.stringify(r && { to: r.to, status: r.status, force: r.force })}, want ${to} 200 forced`)
}

console.error('function             runtime  schedule      zip')
for (const f of [...fns].sort((a, b) => a.name.localeCompare(b.name))) {
  const size = results.find((x) => x.name === f.name)?.size ?? 0
  console.error(`${f.name.padEnd(20)} ${f.runtime.padEnd(8)} ${String(f.schedule ?? '-').padEnd(13)} ${(size / 1048576).toFixed(1)} MB`)
}
console.error(`redirects: ${Object.keys(wantRedirects).join(', ')} (200, forced)`)
if (problems.length) {
  console.error(problems.map((p) => `  - ${p}`).join('\n'))
  process.exit(1)
}
console.log(functionsDir)
JS
) || die "bundle or manifest check failed"
phase_end bundle

# 3. Serve the functions as `netlify dev` does. The CLI compiles each function
# with a plain `go build` in its directory, four at once; built with the
# settings zip-it-and-ship-it uses (cgo off, lambda.norpc) they only link from
# the Go cache the bundle step filled (on linux/amd64, where the target is the
# host), and the binaries served are the kind deployed.
serve_goflags=${GOFLAGS:-}
case " $serve_goflags " in *" -tags"*) ;; *) serve_goflags="${serve_goflags:+$serve_goflags }-tags=lambda.norpc" ;; esac
phase_start "netlify functions:serve --offline"
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })')
# The CLI listens on every interface; this preload binds its servers to
# loopback only.
cat > "$tmp/loopback.cjs" <<'JS'
'use strict'
const net = require('node:net')
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const [first] = args
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1')
  } else if (first !== null && typeof first === 'object' && first.path === undefined && first.fd === undefined &&
    first._handle === undefined && first.host === undefined) {
    args[0] = { ...first, host: '127.0.0.1' }
  } else if (first === undefined || typeof first === 'function') {
    args.unshift(0, '127.0.0.1')
  }
  return listen.apply(this, args)
}
JS
# CI=true keeps the CLI's telemetry off and its prompts away.
(cd "$root" && exec setsid env CI=true NODE_OPTIONS="--require $tmp/loopback.cjs ${NODE_OPTIONS:-}" \
  CGO_ENABLED=0 GOFLAGS="$serve_goflags" \
  "$root/node_modules/.bin/netlify" functions:serve --offline --port "$port" --functions "$functions_dir" \
  > "$tmp/serve.log" 2>&1) &
server_pid=$!
base="http://127.0.0.1:$port"
deadline=$((SECONDS + ${NETLIFY_CHECK_TIMEOUT:-300}))
until curl -s -o /dev/null --max-time 5 "$base/"; do
  kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/serve.log" >&2; die "functions server exited"; }
  [ "$SECONDS" -lt "$deadline" ] || { cat "$tmp/serve.log" >&2; die "functions server not up after ${NETLIFY_CHECK_TIMEOUT:-300}s"; }
  sleep 0.2
done
log "serving on $base"

fail() { echo "--- functions server log" >&2; cat "$tmp/serve.log" >&2; die "$*"; }
webhook="$base/.netlify/functions/webhook"

challenge=$(openssl rand -hex 16)
answer=$(curl -sS --max-time 120 -o "$tmp/verify.out" -w '%{http_code}' -G \
  --data-urlencode 'hub.mode=subscribe' \
  --data-urlencode "hub.verify_token=$VERIFY_TOKEN" \
  --data-urlencode "hub.challenge=$challenge" "$webhook") || fail "verification GET failed"
[ "$answer" = 200 ] || fail "verification GET answered $answer: $(head -c 300 "$tmp/verify.out")"
[ "$(cat "$tmp/verify.out")" = "$challenge" ] || fail "verification GET answered '$(head -c 300 "$tmp/verify.out")', want the challenge $challenge"
log "GET verification: 200, challenge echoed"

# A delivery with no messages: signature checking is what is tested here.
printf '%s' '{"object":"whatsapp_business_account","entry":[{"id":"0","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000000","phone_number_id":"'"$WHATSAPP_PHONE_NUMBER_ID"'"},"statuses":[]}}]}]}' > "$tmp/body.json"
sign() { openssl dgst -sha256 -hmac "$1" -hex < "$tmp/body.json" | awk '{print $NF}'; }
post() {
  curl -sS --max-time 120 -o "$tmp/post.out" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' -H "X-Hub-Signature-256: sha256=$1" \
    --data-binary @"$tmp/body.json" "$webhook"
}
answer=$(post "$(sign "$WHATSAPP_APP_SECRET")") || fail "signed POST failed"
[ "$answer" = 200 ] || fail "signed POST answered $answer, want 200: $(head -c 300 "$tmp/post.out")"
log "POST with a good signature: 200"
answer=$(post "$(sign "not-$WHATSAPP_APP_SECRET")") || fail "badly signed POST failed"
[ "$answer" = 401 ] || fail "badly signed POST answered $answer, want 401: $(head -c 300 "$tmp/post.out")"
log "POST with a bad signature: 401"

if [ "${NETLIFY_CHECK_CLEANUP:-}" = 1 ]; then
  # `netlify functions:invoke` lists JavaScript functions only; this is the
  # request it would send. The CLI turns any call of a scheduled function into
  # the scheduler's POST ({"next_run": …}, X-NF-Event: schedule) and answers
  # 200 with notes, or 500 when the function failed.
  answer=$(curl -sS --max-time 120 -o "$tmp/cleanup.out" -w '%{http_code}' -X POST \
    -H 'User-Agent: Netlify Clockwork' "$base/.netlify/functions/cleanup") || fail "cleanup call failed"
  if [ "$answer" != 200 ] || grep -q 'status code of\|error during execution' "$tmp/cleanup.out"; then
    fail "cleanup answered $answer: $(head -c 500 "$tmp/cleanup.out")"
  fi
  log "scheduled cleanup run: 200"
fi
phase_end serve

printf 'netlify-check: OK in %ss (%s)\n' "$((SECONDS - started))" "$(IFS=,; echo "${timings[*]}" | sed 's/,/, /g')"
