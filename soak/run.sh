#!/usr/bin/env bash
# Load and fault soak (not CI; CI runs a 10-second version): 256 connections of mixed
# traffic for 60 s against the release binary, while the fake Entra ID rotates keys, goes
# down and up and stalls, and the fake Key Vault throttles, fails and stalls. Every answer
# is checked against the catalog; the last line is `N passed, M failed`.
#   soak/run.sh                    # 60 s, 256 connections
#   SECONDS_=300 soak/run.sh       # longer
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p vaultgate -p vaultgate-tools --bins
target/release/soak --seconds "${SECONDS_:-60}" --connections "${CONNECTIONS:-256}" --binary target/release/vaultgate
