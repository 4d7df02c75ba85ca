#!/usr/bin/env bash
# Extraction benchmark (not a timed test): our extractor vs trafilatura on the fixtures in
# tests/fixtures/extract/ and the demo site's article pages, scored the same way.
# 1. `cargo test --test extract_quality` (debug profile: scores are not timings) scores ours, prints its JSON table and
#    writes the pages and our extractions to target/tmp/extract-bench/.
# 2. tests/tools/extract_bench.py runs trafilatura (pinned in its own venv under
#    target/extract-bench/venv, kept apart from the test venv) and prints both.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/extract-bench/venv
REQ=(trafilatura==2.0.0 lxml_html_clean==0.4.3)
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import trafilatura" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${REQ[@]}"
fi
cargo test --test extract_quality -- --nocapture extraction_quality
"$VENV/bin/python" tests/tools/extract_bench.py
