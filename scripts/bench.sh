#!/usr/bin/env bash
# Throughput benchmark (issue 8): builds warcrow in release mode and runs ../shared/bench's
# harness with warcrow beside the peers, on the synthetic news site at N articles:
#
#   scripts/bench.sh [N=10000] [ROUNDS=3] [extra run.sh options, e.g. -l 20 -c 64]
#
# PEERS (default "wget spider") picks the peers measured in the same run. warcrow runs as
#   warcrow crawl {URL} --config config/bench.toml --out {OUT}/crawl -q
# ../shared/bench is read-only, so it is copied to target/bench (built there once).
# The table is printed by run.sh; its JSON results stay under target/bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
ROUNDS=${2:-3}
shift $(( $# < 2 ? $# : 2 ))
cargo build --release -q
. scripts/bench-harness.sh
BIN=$PWD/target/release/warcrow
CONFIG=$PWD/config/bench.toml
cd "$HARNESS"
# shellcheck disable=SC2086
./run.sh -n "$N" -r "$ROUNDS" "$@" ${PEERS-wget spider} \
    "warcrow=$BIN crawl {URL} --config $CONFIG --out {OUT}/crawl -q"
