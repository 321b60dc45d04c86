#!/usr/bin/env bash
# Fuzzes intake for a bounded time: bash fuzz/run.sh [SECONDS] (default 600).
# Seeds are the intake corpus; crashes land in fuzz/artifacts/intake/ and
# each one becomes a file of tests/fixtures/intake-corpus/input.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-600}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p corpus/intake
for f in ../tests/fixtures/intake-corpus/input/*; do
    # Seeds stay small so that mutations are cheap.
    [ "$(stat -c %s "$f")" -lt 200000 ] && cp -n "$f" corpus/intake/
done
# cargo fuzz needs unstable compiler flags; the stable toolchain allows them
# with RUSTC_BOOTSTRAP for this build only.
RUSTC_BOOTSTRAP=1 cargo fuzz run intake corpus/intake -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=262144
