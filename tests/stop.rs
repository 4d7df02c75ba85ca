//! Stopping a crawl from outside: SIGTERM (as systemd or `kill` sends it) ends the crawl
//! cleanly — whole WARC files that warcio accepts, a manifest saying "interrupted", exit 130.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_cleanly_with_whole_warcs() {
    let site = support::TestSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("crawl");
    let config = dir.path().join("slow.toml");
    // Two requests a second: the crawl of ~120 URLs would take a minute, so it is surely
    // still running when the signal comes.
    std::fs::write(
        &config,
        "[politeness]\nrequests_per_second = 2.0\nmax_connections_per_host = 1\n\
         contact_url = \"https://example.invalid/test\"\n[fetch]\ntimeout_secs = 2.0\n",
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_warcrow"))
        .arg("crawl")
        .arg(site.index_url().as_str())
        .arg("--config")
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .arg("-q")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (bounded) until the first WARC file is open, i.e. the crawl is under way.
    let warc_dir = out.join("warc");
    let mut started = false;
    for _ in 0..200 {
        let open = std::fs::read_dir(&warc_dir)
            .map(|d| {
                d.flatten()
                    .any(|e| e.file_name().to_string_lossy().ends_with(".open"))
            })
            .unwrap_or(false);
        if open {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(started, "the crawl never opened a WARC file");
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["exit_reason"], "interrupted");
    let pages = manifest["counts"]["pages"].as_u64().unwrap();
    assert!((1..100).contains(&pages), "{pages} pages before the stop");
    // Whole files only, every capture listed is in a WARC and every record is listed.
    let checked = support::check_warcs(&out);
    assert_eq!(checked["listed"].as_u64(), Some(pages), "{checked}");
}
