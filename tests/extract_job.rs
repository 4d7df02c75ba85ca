//! `warcrow extract JOBDIR`: a job folder's comment history, and one run's news, on the
//! synthetic three-run job the history unit tests use.

use std::process::Command;

use serde_json::Value;

#[path = "../src/job/history/fixture.rs"]
mod fixture;

use fixture::{BRIDGE, FAIR, RIVER, RUNS, write_job};

fn warcrow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_warcrow"))
}

fn parse(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn urls(lines: &[Value]) -> Vec<&str> {
    lines.iter().map(|l| l["url"].as_str().unwrap()).collect()
}

/// (id, first_seen, last_seen) of each comment of `line`.
fn comments(line: &Value) -> Vec<(&str, &str, &str)> {
    line["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap(),
                c["first_seen"].as_str().unwrap(),
                c["last_seen"].as_str().unwrap(),
            )
        })
        .collect()
}

#[test]
fn extract_of_a_job_folder_prints_its_comment_history() {
    let job = tempfile::tempdir().unwrap();
    write_job(job.path()).unwrap();
    let out = warcrow().arg("extract").arg(job.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("3 articles"), "{stderr}");
    let lines = parse(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(urls(&lines), [BRIDGE, RIVER, FAIR]);

    let river = &lines[1];
    assert_eq!(river["title"], "River rises again");
    assert_eq!(river["first_seen"], RUNS[0].1);
    assert_eq!(river["last_seen"], RUNS[2].1);
    assert_eq!(river["runs"].as_array().unwrap().len(), 3);
    let (r1, r2, r3) = (RUNS[0].1, RUNS[1].1, RUNS[2].1);
    assert_eq!(
        comments(river),
        [
            ("101", r1, r3),
            ("102", r1, r2), // gone in run 3, kept
            ("103", r2, r3),
            ("104", r3, r3),
            ("105", r3, r3),
        ]
    );
    assert_eq!(lines[2]["comments"][0]["first_seen"], r3);
}

#[test]
fn run_job_writes_one_runs_news_and_a_job_cannot_be_mixed_with_warcs() {
    let job = tempfile::tempdir().unwrap();
    write_job(job.path()).unwrap();
    let out = job.path().join("news.jsonl");
    let n = warcrow::extract_cmd::run_job(job.path(), Some(RUNS[1].0), Some(&out)).unwrap();
    assert_eq!(n, 2);
    let lines = parse(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(urls(&lines), [BRIDGE, RIVER]);
    assert_eq!(comments(&lines[1]), [("103", RUNS[1].1, RUNS[1].1)]);
    assert_eq!(lines[0]["comments"].as_array().unwrap().len(), 2);

    let err = warcrow::extract_cmd::run_job(job.path(), Some("no-such-run"), None).unwrap_err();
    assert!(err.to_string().contains("no-such-run"), "{err}");

    let mixed = warcrow()
        .arg("extract")
        .arg(job.path())
        .arg(job.path().join("other.warc.gz"))
        .output()
        .unwrap();
    assert!(!mixed.status.success());
    assert!(String::from_utf8_lossy(&mixed.stderr).contains("job folder"));
}
