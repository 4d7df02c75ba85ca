#!/usr/bin/env bash
# The test command (README: "Run the tests"). Installs the third-party WARC tools the tests
# judge our output with into .venv (pinned, once), then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/warcio ] || ! cmp -s tests/tools/requirements.txt .venv/requirements.txt; then
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -r tests/tools/requirements.txt
    cp tests/tools/requirements.txt .venv/requirements.txt
fi
# tests/index.rs runs wget (another crawler) against the loopback site.
command -v wget >/dev/null || (apt-get update -qq && apt-get install -y -qq wget)
export WARCROW_TEST_PYTHON="$PWD/.venv/bin/python"
cargo test --all-targets "$@"
