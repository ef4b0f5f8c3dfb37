#!/usr/bin/env bash
# vaultgate's benchmark: release build, local mode, wrk against its request kinds, ratios
# against the open health check (and (h), HTTPS, against (b)), peak RSS, and time to the first
# 200. Writes bench/RESULTS.md.
#
#   bench/run.sh                 # 10 s per scenario
#   DURATION=30 bench/run.sh     # longer runs
#
# Everything runs on loopback. wrk shares the machine's cores with the server.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
COLD_TOKENS="${COLD_TOKENS:-10000}"
TOTAL_TARGET="${TOTAL_TARGET:-1000000}"
PORT="${PORT:-17071}"
KV_PORT="${KV_PORT:-17072}"
TLS_PORT="${TLS_PORT:-17073}"
export THREADS

if ! command -v wrk >/dev/null; then
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }
fi

cargo build --release --locked -q -p vaultgate -p vaultgate-tools --bins
bin=target/release/vaultgate
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/secrets" "$work/key"
printf 'hello from vaultgate' >"$work/secrets/demo"
for i in $(seq 1 9); do printf 'batch value %s' "$i" >"$work/secrets/batch-$i"; done
# A token cache smaller than the cold-token list: each of those requests is a full verification.
serve_env=(env -i RUST_LOG=warn DEV_KEY_DIR="$work/key" SECRETS_DIR="$work/secrets" TOKEN_CACHE_MAX_ENTRIES=2000)

now_ms() { date +%s%3N; }

# Milliseconds from starting the binary to its first 200 on /health.
first_200_ms() {
  local start pid
  start=$(now_ms)
  "${serve_env[@]}" PORT="$1" "$bin" >"$work/first.log" 2>&1 &
  pid=$!
  until curl -fs -o /dev/null "http://127.0.0.1:$1/health"; do :; done
  echo $(($(now_ms) - start))
  kill $pid; wait $pid 2>/dev/null || true
}
first_cold=$(first_200_ms "$PORT")   # generates the development key
first_warm=$(first_200_ms "$PORT")   # reuses it

"${serve_env[@]}" PORT="$PORT" "$bin" >"$work/server.log" 2>&1 &
server=$!
until curl -fs -o /dev/null "http://127.0.0.1:$PORT/health"; do :; done

token=$("${serve_env[@]}" "$bin" token --role GetSecret --ttl 86400)
"${serve_env[@]}" "$bin" token --role GetSecret --ttl 86400 --count "$COLD_TOKENS" >"$work/tokens"
bad_token="${token%.*}.$(printf 'A%.0s' $(seq 1 342))"

total=0
# run NAME URL [wrk args...]: wrk output in $work/NAME.txt; requests added to $total.
run() {
  local name=$1 url=$2
  shift 2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$url" >"$work/$name.txt"
  total=$((total + $(awk '/requests in/ {print $1}' "$work/$name.txt")))
}
rps() { awk '/^Requests\/sec/ {print $2}' "$work/$1.txt"; }
# pct NAME 50|99: latency in ms.
pct() {
  awk -v p="$2%" '$1 == p {
    v = $2; n = v + 0
    if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n = n * 1000
    printf "%.2f", n }' "$work/$1.txt"
}

curl -fs -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/vault/demo"
# Warm-up, not counted: connections, allocator and CPU caches settle before (a).
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "http://127.0.0.1:$PORT/health" >/dev/null
run a "http://127.0.0.1:$PORT/health"
run b "http://127.0.0.1:$PORT/vault/demo" -H "Authorization: Bearer $token"
TOKENS_FILE="$work/tokens" run c "http://127.0.0.1:$PORT/vault/demo" -s bench/tokens.lua
run d "http://127.0.0.1:$PORT/vault/demo" -H "Authorization: Bearer $bad_token"
# (g): (b) through Key Vault's own Get Secret, as an official client reads it (a SecretBundle).
curl -fs -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/secrets/demo?api-version=7.6"
run g "http://127.0.0.1:$PORT/secrets/demo?api-version=7.6" -H "Authorization: Bearer $token"
# (f): one batch of 10 cached names per request (bench/batch.lua).
curl -fs -o /dev/null -X POST -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
  -d '{"names":["demo","batch-1","batch-2","batch-3","batch-4","batch-5","batch-6","batch-7","batch-8","batch-9"]}' \
  "http://127.0.0.1:$PORT/vault"
run f "http://127.0.0.1:$PORT/vault" -H "Authorization: Bearer $token" -s bench/batch.lua

# (e): a second vaultgate reading a local fake Key Vault; the secret is cached after the first read.
target/release/fake-azure demo='hello from the fake vault' >"$work/azure.env" &
until [ "$(wc -l <"$work/azure.env")" -ge 3 ]; do :; done
# shellcheck disable=SC2046
"${serve_env[@]}" $(cat "$work/azure.env") PORT="$KV_PORT" "$bin" >"$work/kv.log" 2>&1 &
until curl -fs -o /dev/null "http://127.0.0.1:$KV_PORT/health"; do :; done
curl -fs -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$KV_PORT/vault/demo"
run e "http://127.0.0.1:$KV_PORT/vault/demo" -H "Authorization: Bearer $token"

# (h): (b) over vaultgate's own TLS (TLS=dev: the development certificate, ECDSA P-256), wrk's
# connections kept alive, so the handshakes are paid once per connection.
"${serve_env[@]}" TLS=dev PORT="$TLS_PORT" "$bin" >"$work/tls.log" 2>&1 &
tls_server=$!
until curl -fs -o /dev/null --cacert "$work/key/dev-tls-ca.pem" "https://127.0.0.1:$TLS_PORT/health"; do :; done
curl -fs -o /dev/null --cacert "$work/key/dev-tls-ca.pem" -H "Authorization: Bearer $token" \
  "https://127.0.0.1:$TLS_PORT/vault/demo"
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -H "Authorization: Bearer $token" "https://127.0.0.1:$TLS_PORT/vault/demo" >/dev/null
run h "https://127.0.0.1:$TLS_PORT/vault/demo" -H "Authorization: Bearer $token"
kill $tls_server; wait $tls_server 2>/dev/null || true

# (a) again at the end: the baseline is the mean of both, so drift on a shared machine
# does not favour the scenarios measured first or last.
run a2 "http://127.0.0.1:$PORT/health"

# Keep (b) going until the first server has answered TOTAL_TARGET requests, then read its peak RSS.
# (f) counts: it is the first server; (e) and (h) are others.
served=$((total - $(awk '/requests in/ {print $1}' "$work/e.txt") - $(awk '/requests in/ {print $1}' "$work/h.txt")))
while [ "$served" -lt "$TOTAL_TARGET" ]; do
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$PORT/vault/demo" >"$work/soak.txt"
  served=$((served + $(awk '/requests in/ {print $1}' "$work/soak.txt")))
done
rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")

ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", x / y }'; }
a=$(awk -v x="$(rps a)" -v y="$(rps a2)" 'BEGIN { printf "%.2f", (x + y) / 2 }')
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
{
  echo "# vaultgate benchmark"
  echo
  echo "- machine: $(nproc) cores ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); wrk shares the cores"
  echo "- commit: $commit; $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- command: \`DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS bench/run.sh\` (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s; release build; local mode, WORKERS = cores, TOKEN_CACHE_MAX_ENTRIES=2000 so that (c) cycling $COLD_TOKENS tokens never hits the cache)"
  echo
  echo "| scenario | requests/s | p50 ms | p99 ms | ratio to (a) | target |"
  echo "|---|---|---|---|---|---|"
  echo "| (a) GET /health (mean of a run first and a run last: $(rps a), $(rps a2)) | $a | $(pct a 50) | $(pct a 99) | 1.00 | |"
  echo "| (b) GET /vault/demo, one valid token (hot) | $(rps b) | $(pct b 50) | $(pct b 99) | $(ratio "$(rps b)" "$a") | ≥ 0.8; p99 ≤ 5 ms |"
  echo "| (c) $COLD_TOKENS distinct valid tokens in turn (cold) | $(rps c) | $(pct c 50) | $(pct c 99) | $(ratio "$(rps c)" "$a") | ≥ 0.4 |"
  echo "| (d) bad signature | $(rps d) | $(pct d 50) | $(pct d 99) | $(ratio "$(rps d)" "$a") | ≥ 0.8 |"
  echo "| (e) via a local fake Key Vault, cached | $(rps e) | $(pct e 50) | $(pct e 99) | $(ratio "$(rps e)" "$a") | ≥ 0.8 |"
  echo "| (f) POST /vault, 10 cached names per batch ($(awk -v x="$(rps f)" 'BEGIN { printf "%.0f", x * 10 }') names/s) | $(rps f) | $(pct f 50) | $(pct f 99) | $(ratio "$(rps f)" "$a") | |"
  echo "| (g) GET /secrets/demo (Key Vault's Get Secret; ratio to (b): $(ratio "$(rps g)" "$(rps b)"), target ≥ 0.95) | $(rps g) | $(pct g 50) | $(pct g 99) | $(ratio "$(rps g)" "$a") | ≥ 0.95 of (b) |"
  echo "| (h) (b) over HTTPS (vaultgate's own TLS, keep-alive; ratio to (b): $(ratio "$(rps h)" "$(rps b)"), target ≥ 0.8) | $(rps h) | $(pct h 50) | $(pct h 99) | $(ratio "$(rps h)" "$a") | ≥ 0.8 of (b) |"
  echo
  echo "- peak RSS of the server after $served requests: $((rss_kib / 1024)) MiB ($rss_kib KiB; target ≤ 64 MiB after 1,000,000)"
  echo "- first 200 on /health after start: ${first_warm} ms with the development key present, ${first_cold} ms when it is generated first (target ≤ 200 ms)"
} >bench/RESULTS.md
cat bench/RESULTS.md
