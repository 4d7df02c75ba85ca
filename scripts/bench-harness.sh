# Sourced by the benchmark scripts: copies ../shared/bench (read-only) to target/bench, keeping
# what was built there before, and sets HARNESS to that folder.
SRC=${BENCH_DIR:-../shared/bench}
mkdir -p target/bench
(cd "$SRC" && find . -path ./results -prune -o -path '*/target' -prune -o -type f -print) |
    while read -r f; do
        mkdir -p "target/bench/$(dirname "$f")"
        cmp -s "$SRC/$f" "target/bench/$f" || cp "$SRC/$f" "target/bench/$f"
    done
chmod -R u+w target/bench
HARNESS=$PWD/target/bench
