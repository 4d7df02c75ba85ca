#!/usr/bin/env bash
# Kill-and-resume benchmark (issue 6): crawl ../shared/bench's synthetic news site at N
# articles with config/bench.toml, kill -9 the crawler twice mid-crawl, resume it each time
# with `warcrow crawl --resume`, and report against the site's own count of reachable URLs:
#   pages lost         site URLs with no final capture (must be 0)
#   fetched twice      requests the server answered beyond one per URL
#   peak RSS           the largest of the three runs (/usr/bin/time -v)
# and run tests/tools/check_warcs.py (warcio) over the result.
#
# usage: scripts/bench-resume.sh [N=10000] [KILL1_SECS=4] [KILL2_SECS=4]
# Needs .venv (made by scripts/test.sh) for warcio; builds sitegen in target/bench (a copy of
# ../shared/bench, which is read-only).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
KILL1=${2:-4}
KILL2=${3:-4}
PORT=${PORT:-18097}
WORK=$(mktemp -d /tmp/warcrow-bench-resume.XXXXXX)
trap 'kill $SITE_PID 2>/dev/null || true' EXIT

cargo build --release -q
. scripts/bench-harness.sh
(cd "$HARNESS/sitegen" && cargo build --release -q)
SITEGEN=$HARNESS/sitegen/target/release/sitegen
EXPECTED=$("$SITEGEN" --articles "$N" --count 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["urls_reachable_from_root"])')
"$SITEGEN" --port "$PORT" --articles "$N" --max-secs 3600 2>"$WORK/sitegen.log" &
SITE_PID=$!
URL="http://127.0.0.1:$PORT/"
for _ in $(seq 100); do curl -s -o /dev/null "${URL}__sitegen/stats" && break; sleep 0.05; done

OUT=$WORK/crawl
BIN=$PWD/target/release/warcrow
run() { # $1: log name, $2: seconds before kill -9 (0 = let it finish), rest: warcrow args
    local name=$1 secs=$2
    shift 2
    /usr/bin/time -v -o "$WORK/$name.time" "$BIN" "$@" >"$WORK/$name.log" 2>&1 &
    local pid=$!
    if [ "$secs" != 0 ]; then
        sleep "$secs"
        pkill -KILL -P "$pid" warcrow || true # the crawler, child of /usr/bin/time
    fi
    wait "$pid" || true
    grep -E "Maximum resident|Elapsed" "$WORK/$name.time" | sed "s/^/  $name: /"
}
echo "site: $N articles, $EXPECTED URLs reachable (+ robots.txt)"
run first "$KILL1" crawl "$URL" --config config/bench.toml --out "$OUT" -q
run second "$KILL2" crawl --resume "$OUT" -q
run third 0 crawl --resume "$OUT" -q
grep -h "resuming crawl" "$WORK"/second.log "$WORK"/third.log | sed 's/^/  /'

REQUESTS=$(curl -s "${URL}__sitegen/stats" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
.venv/bin/python - "$OUT" "$EXPECTED" "$REQUESTS" "$WORK" <<'EOF'
import glob, json, os, re, sys
from warcio.archiveiterator import ArchiveIterator
out, expected, requests, work = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
uris, responses = set(), 0
for path in sorted(glob.glob(os.path.join(out, "warc", "*.warc.gz"))):
    with open(path, "rb") as f:
        for rec in ArchiveIterator(f):
            if rec.rec_type in ("response", "revisit"):
                responses += 1
                uris.add(rec.rec_headers.get_header("WARC-Target-URI"))
site = {u for u in uris if not u.endswith("/robots.txt") and "sitemap" not in u}
rss = []
for name in ("first", "second", "third"):
    text = open(os.path.join(work, name + ".time")).read()
    rss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024)
manifest = json.load(open(os.path.join(out, "manifest.json")))
print(json.dumps({
    "exit_reason": manifest["exit_reason"],
    "site_urls": expected,
    "captured_urls": len(site),
    "pages_lost": expected - len(site),
    "response_records": responses,
    "records_of_a_url_twice": responses - len(uris),
    "server_requests": requests,
    "fetched_twice": requests - len(uris),
    "peak_rss_mb": [round(r, 1) for r in rss],
}, indent=1))
EOF
.venv/bin/python tests/tools/check_warcs.py "$OUT" | tail -1
echo "output kept in $WORK"
