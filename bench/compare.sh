#!/usr/bin/env bash
# Interleaved A/B of two vaultgate binaries on the hot read: per round, each binary's
# GET /health then GET /vault/demo (one valid token), so machine drift hits both alike.
# Prints each round's (b)/(a) ratio and the medians. On a shared 2-core machine single
# bench/run.sh runs vary by ±10%; compare builds with this, not with two RESULTS.md files.
#
#   bench/compare.sh OLD_BINARY NEW_BINARY [ROUNDS=7] [SECONDS=5]
set -euo pipefail
old=$1 new=$2 rounds=${3:-7} secs=${4:-5}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/secrets" "$work/key"
printf 'hello from vaultgate' >"$work/secrets/demo"
serve() { # binary port
  env -i RUST_LOG=warn DEV_KEY_DIR="$work/key" SECRETS_DIR="$work/secrets" PORT="$2" "$1" >/dev/null 2>&1 &
  until curl -fs -o /dev/null "http://127.0.0.1:$2/health"; do :; done
}
serve "$old" 17191
serve "$new" 17192
token=$(env -i DEV_KEY_DIR="$work/key" SECRETS_DIR="$work/secrets" "$new" token --role GetSecret --ttl 86400)
rps() { wrk -t2 -c64 -d"${secs}s" "$@" | awk '/^Requests\/sec/ {print $2}'; }
for port in 17191 17192; do
  wrk -t2 -c64 -d2s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/vault/demo" >/dev/null
done
for _ in $(seq 1 "$rounds"); do
  for port in 17191 17192; do
    a=$(rps "http://127.0.0.1:$port/health")
    b=$(rps -H "Authorization: Bearer $token" "http://127.0.0.1:$port/vault/demo")
    name=$([ "$port" = 17191 ] && echo old || echo new)
    echo "$name $a $b $(awk -v x="$b" -v y="$a" 'BEGIN { printf "%.3f", x / y }')" | tee -a "$work/rounds"
  done
done
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for name in old new; do
  echo "$name: median (b)/(a) $(awk -v n=$name '$1 == n { print $4 }' "$work/rounds" | median)," \
    "median (b) $(awk -v n=$name '$1 == n { print $3 }' "$work/rounds" | median) requests/s"
done
