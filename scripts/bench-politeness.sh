#!/usr/bin/env bash
# Politeness at speed (issue 8): 50 copies of ../shared/bench's site on 127.0.0.1 ... 127.0.0.50
# (the loopback range is all ours), crawled at once with a per-host limit of RATE requests per
# second (burst 1) for SECS seconds. From the WARC-Date of every request record (microsecond
# dates) it reports, per host, the most requests in any 1-second window (must be <= RATE, +1
# for the burst) and the achieved rate as a share of the ideal HOSTS x RATE requests/s.
#
# usage: scripts/bench-politeness.sh [HOSTS=50] [RATE=2] [SECS=30]
# Needs .venv (made by scripts/test.sh) for warcio.
set -euo pipefail
cd "$(dirname "$0")/.."
HOSTS=${1:-50}
RATE=${2:-2}
SECS=${3:-30}
PORT=${PORT:-18190}
WORK=$(mktemp -d /tmp/warcrow-bench-politeness.XXXXXX)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT

cargo build --release -q
. scripts/bench-harness.sh
(cd "$HARNESS/sitegen" && cargo build --release -q)
SEEDS=()
for i in $(seq 1 "$HOSTS"); do
    "$HARNESS/sitegen/target/release/sitegen" --bind "127.0.0.$i" --port "$PORT" --articles 500 \
        --max-secs $((SECS + 300)) 2>/dev/null &
    PIDS+=($!)
    SEEDS+=("http://127.0.0.$i:$PORT/")
done
for s in "${SEEDS[@]}"; do
    for _ in $(seq 100); do curl -s -o /dev/null "${s}__sitegen/stats" && break; sleep 0.05; done
done
cat >"$WORK/politeness.toml" <<EOF
[crawl]
max_hops = 1000
max_duration_secs = $SECS
[politeness]
requests_per_second = $RATE
burst = 1
max_connections_per_host = 2
max_connections = $((HOSTS * 2))
contact_url = "https://github.com/warcrow/warcrow#benchmarks"
[fetch]
timeout_secs = 30.0
[warc]
prefix = "politeness"
EOF
OUT=$WORK/crawl
/usr/bin/time -v -o "$WORK/time.txt" target/release/warcrow crawl "${SEEDS[@]}" \
    --config "$WORK/politeness.toml" --out "$OUT" -q >"$WORK/crawl.log" 2>&1 || true
grep -E "Maximum resident|Elapsed|Percent of CPU" "$WORK/time.txt" | sed 's/^\s*/  /'
.venv/bin/python - "$OUT" "$HOSTS" "$RATE" <<'PY'
import bisect, glob, json, os, sys
from collections import defaultdict
from datetime import datetime
from urllib.parse import urlsplit
from warcio.archiveiterator import ArchiveIterator
out, hosts, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
times = defaultdict(list)
for path in sorted(glob.glob(os.path.join(out, "warc", "*.warc.gz"))):
    with open(path, "rb") as f:
        for rec in ArchiveIterator(f):
            if rec.rec_type != "request":
                continue
            h = rec.rec_headers
            t = datetime.fromisoformat(h.get_header("WARC-Date").replace("Z", "+00:00")).timestamp()
            times[urlsplit(h.get_header("WARC-Target-URI")).hostname].append(t)
worst, worst_host, total = 0, None, 0
gaps = []
first, last = float("inf"), 0.0
for host, ts in times.items():
    ts.sort()
    total += len(ts)
    first, last = min(first, ts[0]), max(last, ts[-1])
    gaps += [b - a for a, b in zip(ts, ts[1:])]
    # The most requests in any window [t, t + 1 s): windows starting at each request.
    for i, t in enumerate(ts):
        n = bisect.bisect_left(ts, t + 1.0) - i
        if n > worst:
            worst, worst_host = n, host
span = last - first
print(json.dumps({
    "hosts_crawled": len(times),
    "requests": total,
    "span_s": round(span, 2),
    "max_requests_any_host_any_1s_window": worst,
    "worst_host": worst_host,
    "limit": rate,
    "min_gap_between_requests_to_a_host_s": round(min(gaps), 4) if gaps else None,
    "gaps_under_interval": sum(1 for g in gaps if g < 1.0 / rate),
    "achieved_rps": round(total / span, 1) if span else None,
    "ideal_rps": hosts * rate,
    "share_of_ideal": round(total / span / (hosts * rate), 3) if span else None,
}, indent=1))
PY
echo "output kept in $WORK"
