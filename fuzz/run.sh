#!/usr/bin/env bash
# Fuzzes header parsing + token validation for a bounded time (default 60 s), growing the
# committed corpus. A crash is written to fuzz/artifacts/; turn it into a regression test.
#   fuzz/run.sh            # 60 s
#   FUZZ_SECONDS=600 fuzz/run.sh
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# cargo-fuzz passes nightly-only flags (the sanitizer); this lets the stable toolchain take them.
export RUSTC_BOOTSTRAP=1
cargo fuzz run header_and_token corpus/header_and_token -- \
  -max_total_time="${FUZZ_SECONDS:-60}" -max_len=4096 -print_final_stats=1
