#!/usr/bin/env bash
# Throughput against concurrency with added latency (issue 8): ../shared/bench's site with
# LAT ms added to every response, crawled by warcrow at 16, 64 and 256 requests in flight
# (config/bench.toml with max_connections and max_connections_per_host set to each).
#
# usage: scripts/bench-scaling.sh [N=2000] [LAT=20] [ROUNDS=1]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
LAT=${2:-20}
ROUNDS=${3:-1}
cargo build --release -q
WORK=$(mktemp -d /tmp/warcrow-bench-scaling.XXXXXX)
CRAWLERS=()
for c in 16 64 256; do
    sed -e "s/^max_connections_per_host = .*/max_connections_per_host = $c/" \
        -e "s/^max_connections = .*/max_connections = $c/" config/bench.toml >"$WORK/c$c.toml"
    CRAWLERS+=("warcrow-c$c=$PWD/target/release/warcrow crawl {URL} --config $WORK/c$c.toml --out {OUT}/crawl -q")
done
. scripts/bench-harness.sh
cd "$HARNESS"
./run.sh -n "$N" -l "$LAT" -r "$ROUNDS" "${CRAWLERS[@]}"
