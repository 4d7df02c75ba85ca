//! Runs the third-party WARC checks (tests/tools/check_warcs.py, on a pinned warcio installed
//! by scripts/test.sh) over a crawl folder. A missing checker is a test failure, never a skip.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The python of the test venv: `$WARCROW_TEST_PYTHON`, else `.venv/bin/python`.
pub fn test_python() -> PathBuf {
    if let Some(p) = std::env::var_os("WARCROW_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        venv.exists(),
        "the WARC checkers are not installed: run the tests with scripts/test.sh (it installs \
         the pinned warcio into .venv)"
    );
    venv
}

/// `warcio check`, a full warcio iteration with digest checks, adjacency of request/response
/// pairs, and captures.jsonl offsets seeking to their records. Returns the checker's summary.
pub fn check_warcs(crawl_dir: &Path) -> serde_json::Value {
    check_job_run(crawl_dir, &[])
}

/// [`check_warcs`] for a run of a job: revisits may point at records of `earlier` runs.
pub fn check_job_run(crawl_dir: &Path, earlier: &[&Path]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/check_warcs.py");
    let out = Command::new(test_python())
        .arg(script)
        .arg(crawl_dir)
        .args(earlier)
        .output()
        .expect("cannot run the WARC checker");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "WARC check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or("{}");
    serde_json::from_str(last).expect("checker summary is JSON")
}
