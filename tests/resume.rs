//! Killing the crawler at the worst moments and resuming: `kill -9` in the middle of a fetch,
//! an abort halfway through writing a record, an abort at a WARC file rollover, two kills in
//! one crawl, and a disk that fills up. After `warcrow crawl --resume DIR` every time:
//!
//! * the crawl finishes with every page of the test site captured exactly once (a second
//!   capture of a URL is allowed only as an earlier try of a retried URL);
//! * warcio accepts every WARC file, no file is left `.open`, and captures.jsonl and the
//!   WARCs agree both ways (tests/tools/check_warcs.py);
//! * index.cdxj lists exactly the responses and revisits.
//!
//! `WARCROW_CRASH_AT` (see src/archive/writer.rs) makes the crawler abort at an exact point,
//! as a kill would, without cleanup.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;

/// The test site's crawl config; small WARC files (64 KiB) make a crawl roll over often.
fn write_config(dir: &Path, rollover_bytes: u64) -> PathBuf {
    let path = dir.join("resume.toml");
    let warc = format!("rollover_bytes = {rollover_bytes}");
    std::fs::write(&path, support::test_config_toml("wire", &warc)).unwrap();
    path
}

fn warcrow() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warcrow"));
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

struct Run {
    status: ExitStatus,
    stderr: String,
}

async fn wait(child: std::process::Child) -> Run {
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    Run {
        status: out.status,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Start a new crawl of the test site into `out`, with `crash_at` set if given.
fn start(
    site: &support::TestSite,
    config: &Path,
    out: &Path,
    crash_at: Option<&str>,
) -> std::process::Child {
    let mut cmd = warcrow();
    cmd.arg("crawl")
        .arg(site.index_url().as_str())
        .arg("--config")
        .arg(config)
        .arg("--out")
        .arg(out)
        .arg("-q");
    if let Some(c) = crash_at {
        cmd.env("WARCROW_CRASH_AT", c);
    }
    cmd.spawn().unwrap()
}

fn resume(out: &Path, crash_at: Option<&str>) -> std::process::Child {
    let mut cmd = warcrow();
    cmd.arg("crawl").arg("--resume").arg(out).arg("-q");
    if let Some(c) = crash_at {
        cmd.env("WARCROW_CRASH_AT", c);
    }
    cmd.spawn().unwrap()
}

fn path_of(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

/// How many captures the resumed crawl found committed (from its "resuming crawl" line).
fn resumed_with(run: &Run) -> u64 {
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("resuming crawl"))
        .unwrap_or_else(|| panic!("no resume line in {}", run.stderr));
    line.split(": ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"))
}

/// Everything a resumed crawl must satisfy, whatever happened to it before.
fn assert_complete_and_consistent(site: &support::TestSite, out: &Path) {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["exit_reason"], "finished", "{manifest:#}");
    let caps = support::read_jsonl(&out.join("captures.jsonl"));
    let mut finals: BTreeMap<String, usize> = BTreeMap::new();
    for c in caps.iter().filter(|c| c["retry_at"].is_null()) {
        *finals
            .entry(path_of(c["url"].as_str().unwrap()))
            .or_default() += 1;
    }
    let twice: Vec<_> = finals.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "captured more than once: {twice:?}");
    let expected: BTreeSet<String> = site
        .expected_paths()
        .into_iter()
        .filter(|p| !p.contains("replytocom="))
        .collect();
    let got: BTreeSet<String> = finals.keys().cloned().collect();
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
    // Counts carried over the kills agree with the lines.
    assert_eq!(
        manifest["counts"]["pages"].as_u64().unwrap(),
        caps.iter().filter(|c| !c["status"].is_null()).count() as u64
    );
    // The manifest lists exactly the files on disk, with their sizes.
    let listed: BTreeSet<String> = manifest["warc_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(out.join("warc"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(listed, on_disk);
    // The live index has a line per response and revisit.
    let index = std::fs::read_to_string(out.join("index.cdxj")).unwrap();
    let with_records = caps.iter().filter(|c| !c["warc_offset"].is_null()).count();
    assert_eq!(index.lines().count(), with_records);
    support::check_warcs(out);
    // extracted.jsonl carried over the kills: the articles an offline `warcrow extract` of
    // the same WARCs finds, each once, with all its comment pages' comments.
    let warcs: Vec<PathBuf> = std::fs::read_dir(out.join("warc"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let offline = warcrow().arg("extract").args(&warcs).output().unwrap();
    assert!(offline.status.success());
    let sorted = |text: &str| -> Vec<Value> {
        let mut v: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        v.sort_by_key(|l| l["url"].as_str().unwrap().to_string());
        v
    };
    let live = sorted(&std::fs::read_to_string(out.join("extracted.jsonl")).unwrap());
    assert!(live.len() >= 6, "{} articles", live.len());
    assert_eq!(live, sorted(&String::from_utf8_lossy(&offline.stdout)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_halfway_through_a_record_then_resume() {
    let site = support::TestSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), 65536);
    let out = dir.path().join("crawl");
    let run = wait(start(&site, &config, &out, Some("write:60"))).await;
    assert!(!run.status.success(), "the crash point was not reached");
    // The torn record is there, in a file still named .open.
    let open: Vec<_> = std::fs::read_dir(out.join("warc"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".open"))
        .collect();
    assert_eq!(open.len(), 1);
    let run = wait(resume(&out, None)).await;
    assert!(run.status.success(), "{}", run.stderr);
    assert!(
        resumed_with(&run) > 0,
        "nothing was committed before the crash"
    );
    assert_complete_and_consistent(&site, &out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_at_a_file_rollover_then_resume() {
    let site = support::TestSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), 65536);
    let out = dir.path().join("crawl");
    let run = wait(start(&site, &config, &out, Some("rollover"))).await;
    assert!(!run.status.success(), "no rollover happened");
    let run = wait(resume(&out, None)).await;
    assert!(run.status.success(), "{}", run.stderr);
    assert!(
        resumed_with(&run) > 0,
        "nothing was committed before the crash"
    );
    assert_complete_and_consistent(&site, &out);
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["warc_files"].as_array().unwrap().len() >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_fetch_and_twice_in_one_crawl() {
    let site = support::TestSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), 65536);
    let out = dir.path().join("crawl");
    // First kill: SIGKILL while /slow/ is being fetched (the server holds it for seconds).
    let mut child = start(&site, &config, &out, None);
    let mut waited = 0;
    let committed =
        |out: &Path| std::fs::metadata(out.join("captures.jsonl")).is_ok_and(|m| m.len() > 0);
    while site.slow_hits() == 0 || !committed(&out) {
        assert!(waited < 600, "the crawl never asked for /slow/");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
    child.kill().unwrap(); // SIGKILL
    let run = wait(child).await;
    assert!(!run.status.success());
    // Second kill, in the resumed crawl: an abort mid-record. Late enough (the site has 134
    // pages, about 32 committed by now) that the crawl loop, which may lag behind the
    // workers on a loaded machine, has recorded and committed 32 outcomes before it.
    let run = wait(resume(&out, Some("write:70"))).await;
    assert!(!run.status.success(), "{}", run.stderr);
    let first = resumed_with(&run);
    assert!(first > 0, "nothing was committed before the kill");
    let run = wait(resume(&out, None)).await;
    assert!(run.status.success(), "{}", run.stderr);
    assert!(
        resumed_with(&run) > first,
        "the second run committed nothing"
    );
    assert_complete_and_consistent(&site, &out);
    // A finished crawl resumed again has nothing left to do, and changes nothing.
    let before = std::fs::read(out.join("captures.jsonl")).unwrap();
    let run = wait(resume(&out, None)).await;
    assert!(run.status.success(), "{}", run.stderr);
    assert_eq!(std::fs::read(out.join("captures.jsonl")).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_the_crawl_cleanly_and_it_resumes() {
    let site = support::TestSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    // One WARC file for the whole crawl, so it is the first file to reach the limit.
    let config = write_config(dir.path(), 1 << 20);
    let out = dir.path().join("crawl");
    // A file-size limit stands in for a full disk: writes past it fail (EFBIG) once the
    // signal it raises is ignored, as a full disk's ENOSPC would.
    let script = format!(
        "trap '' XFSZ; ulimit -f 256; exec {} crawl {} --config {} --out {} -q",
        env!("CARGO_BIN_EXE_warcrow"),
        site.index_url(),
        config.display(),
        out.display()
    );
    let child = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let run = wait(child).await;
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("free disk space") && run.stderr.contains("--resume"),
        "{}",
        run.stderr
    );
    let run = wait(resume(&out, None)).await;
    assert!(run.status.success(), "{}", run.stderr);
    // Which file hits the limit first (a WARC, or frontier.db's journal) varies; either
    // way the crawl resumes from its last commit.
    resumed_with(&run);
    assert_complete_and_consistent(&site, &out);
}
