//! The job-level files that tie runs together: `runs.jsonl` and `index.cdxj`.
//!
//! `runs.jsonl` has one line per ended run, appended with one `write` and an fsync when the
//! run has ended (finished, stopped by a limit or a signal, or failed):
//!
//! ```json
//! {"crawl_id":"20260101T031500Z-1a2b","group":"front","dir":"runs/20260101T031500Z-1a2b",
//!  "started_at":"…","ended_at":"…","exit_reason":"finished","pages":41,"warc_bytes":183002,
//!  "revisits":{"identical_payload":30,"not_modified":5}}
//! ```
//!
//! (one line in the file; `error` is added when the run failed). `index.cdxj` is rebuilt
//! after each run from the `index.cdxj` of every run listed in runs.jsonl, each line's
//! `filename` made relative to JOBDIR (`runs/<id>/warc/<file>`), sorted bytewise: a pywb or
//! ReplayWeb.page collection rooted at JOBDIR replays every capture time of a page. A run
//! that was killed before it wrote its line (SIGKILL, power loss) is in neither file, nor in
//! dedup.db; its folder stays in runs/.
//!
//! Both are written under `.lock-job`, so runs of different groups ending together neither
//! interleave lines nor replace the index with one that misses a run.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::lock::{JobLock, LockError};

pub const RUNS_FILE: &str = "runs.jsonl";
pub const INDEX_FILE: &str = "index.cdxj";
const JOB_LOCK: &str = ".lock-job";

/// One line of runs.jsonl.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub crawl_id: String,
    pub group: String,
    /// The run's crawl folder, relative to JOBDIR.
    pub dir: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub ended_at: String,
    /// As in the run's manifest.json ("finished", "interrupted", "limit_reached:…",
    /// "failed:…"); "failed" when the run stopped before it could say.
    pub exit_reason: String,
    pub pages: u64,
    /// Bytes of the run's WARC files.
    pub warc_bytes: u64,
    pub revisits: RevisitCounts,
    /// Why the run failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Revisit records a run wrote, by profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisitCounts {
    /// `identical-payload-digest`: a payload an earlier capture holds.
    pub identical_payload: u64,
    /// `server-not-modified`: a 304 to a conditional request.
    pub not_modified: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RunsError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("{}: {source}", .path.display())]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> RunsError + '_ {
    move |source| RunsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What the run's manifest.json says, for its runs.jsonl line: exit reason (None while it
/// says "running", i.e. the run never got to write its end), pages, WARC bytes, revisits.
pub fn manifest_counts(run_dir: &Path) -> (Option<String>, u64, u64, RevisitCounts) {
    let value: serde_json::Value = std::fs::read(run_dir.join("manifest.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    let exit_reason = value["exit_reason"]
        .as_str()
        .filter(|r| *r != "running")
        .map(str::to_owned);
    let counts = &value["counts"];
    let warc_bytes = value["warc_files"]
        .as_array()
        .map(|files| files.iter().filter_map(|f| f["size"].as_u64()).sum())
        .unwrap_or(0);
    let outcome = |key: &str| counts["by_outcome"][key].as_u64().unwrap_or(0);
    let revisits = RevisitCounts {
        identical_payload: outcome("revisit"),
        not_modified: outcome("revisit_not_modified"),
    };
    (
        exit_reason,
        counts["pages"].as_u64().unwrap_or(0),
        warc_bytes,
        revisits,
    )
}

/// The runs listed in runs.jsonl, in order (unreadable lines skipped).
pub fn read_runs(job_dir: &Path) -> Vec<RunRecord> {
    let Ok(text) = std::fs::read_to_string(job_dir.join(RUNS_FILE)) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// Append the run's line to runs.jsonl and rebuild index.cdxj, under the job lock.
/// Blocking: call it from blocking code.
pub fn add_run(job_dir: &Path, record: &RunRecord) -> Result<(), RunsError> {
    let _lock = JobLock::acquire(&job_dir.join(JOB_LOCK))?;
    append_line(job_dir, record)?;
    rebuild_index(job_dir)
}

fn append_line(job_dir: &Path, record: &RunRecord) -> Result<(), RunsError> {
    let path = job_dir.join(RUNS_FILE);
    let mut line = serde_json::to_vec(record).map_err(|e| io_err(&path)(e.into()))?;
    line.push(b'\n');
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io_err(&path))?;
    // One write of the whole line: a reader never sees half of it, even if we die here.
    file.write_all(&line).map_err(io_err(&path))?;
    file.sync_data().map_err(io_err(&path))
}

/// A run's index line with its `filename` made relative to JOBDIR. `filename` is the last
/// key, and a raw `"filename": "` cannot occur inside a JSON string (its quotes would be
/// escaped), so the last occurrence is the key.
fn job_line(line: &str, run_dir: &str) -> Option<String> {
    const KEY: &str = "\"filename\": \"";
    let start = line.rfind(KEY)? + KEY.len();
    Some(format!(
        "{}{run_dir}/warc/{}",
        &line[..start],
        &line[start..]
    ))
}

/// index.cdxj from the runs listed in runs.jsonl: merged, sorted, replaced atomically.
pub fn rebuild_index(job_dir: &Path) -> Result<(), RunsError> {
    let building = job_dir.join(format!("{INDEX_FILE}.building"));
    let mut out = BufWriter::new(File::create(&building).map_err(io_err(&building))?);
    let mut seen = std::collections::HashSet::new();
    for run in read_runs(job_dir) {
        if !seen.insert(run.crawl_id.clone()) {
            continue;
        }
        let path = job_dir.join(&run.dir).join(INDEX_FILE);
        let Ok(file) = File::open(&path) else {
            continue; // a run that failed before writing any capture
        };
        for line in BufReader::new(file).lines() {
            let line = line.map_err(io_err(&path))?;
            if let Some(line) = job_line(&line, &run.dir) {
                out.write_all(line.as_bytes()).map_err(io_err(&building))?;
                out.write_all(b"\n").map_err(io_err(&building))?;
            }
        }
    }
    out.into_inner()
        .map_err(|e| io_err(&building)(e.into_error()))?
        .sync_all()
        .map_err(io_err(&building))?;
    // Sorts in place (through its own temporary file); then it takes the index's name.
    crate::archive::cdxj::sort_index_file(&building).map_err(io_err(&building))?;
    let index = job_dir.join(INDEX_FILE);
    std::fs::rename(&building, &index).map_err(io_err(&index))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, group: &str) -> RunRecord {
        RunRecord {
            crawl_id: id.into(),
            group: group.into(),
            dir: format!("runs/{id}"),
            started_at: "2026-01-01T00:00:00.000Z".into(),
            ended_at: "2026-01-01T00:01:00.000Z".into(),
            exit_reason: "finished".into(),
            pages: 2,
            warc_bytes: 100,
            revisits: RevisitCounts::default(),
            error: None,
        }
    }

    #[test]
    fn filename_becomes_relative_to_the_job() {
        let line = r#"com,example)/ 20260101000000 {"url": "https://example.com/?q=\"filename\": \"x", "length": "5", "offset": "0", "filename": "w-1.warc.gz"}"#;
        let out = job_line(line, "runs/r1").unwrap();
        assert!(
            out.ends_with(r#""filename": "runs/r1/warc/w-1.warc.gz"}"#),
            "{out}"
        );
        assert!(out.contains(r#"q=\"filename\": \"x"#), "{out}");
        assert_eq!(job_line("no json", "runs/r1"), None);
    }

    #[test]
    fn runs_are_appended_and_their_indexes_merged_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let job = dir.path();
        for (id, lines) in [
            ("r1", "b 20260101000000 {\"filename\": \"a.warc.gz\"}\n"),
            (
                "r2",
                "c 20260102000000 {\"filename\": \"a.warc.gz\"}\na 20260102000000 {\"filename\": \"a.warc.gz\"}\n",
            ),
            // Not listed in runs.jsonl (killed, or another group's run in progress).
            ("r3", "0 20260103000000 {\"filename\": \"a.warc.gz\"}\n"),
        ] {
            std::fs::create_dir_all(job.join("runs").join(id)).unwrap();
            std::fs::write(job.join("runs").join(id).join(INDEX_FILE), lines).unwrap();
        }
        add_run(job, &record("r1", "front")).unwrap();
        let mut r2 = record("r2", "articles");
        r2.error = Some("disk full".into());
        add_run(job, &r2).unwrap();
        assert_eq!(read_runs(job), vec![record("r1", "front"), r2]);
        let text = std::fs::read_to_string(job.join(RUNS_FILE)).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().next().is_some_and(|l| !l.contains("error")));
        let index = std::fs::read_to_string(job.join(INDEX_FILE)).unwrap();
        assert_eq!(
            index,
            "a 20260102000000 {\"filename\": \"runs/r2/warc/a.warc.gz\"}\n\
             b 20260101000000 {\"filename\": \"runs/r1/warc/a.warc.gz\"}\n\
             c 20260102000000 {\"filename\": \"runs/r2/warc/a.warc.gz\"}\n"
        );
        assert!(!job.join("index.cdxj.building").exists());
    }

    #[test]
    fn counts_come_from_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("manifest.json"),
            r#"{"exit_reason": "finished", "counts": {"pages": 7,
               "by_outcome": {"revisit": 3, "revisit_not_modified": 2}},
               "warc_files": [{"name": "a", "size": 10}, {"name": "b", "size": 5}]}"#,
        )
        .unwrap();
        let (reason, pages, bytes, revisits) = manifest_counts(dir.path());
        assert_eq!(reason.as_deref(), Some("finished"));
        assert_eq!((pages, bytes), (7, 15));
        assert_eq!(
            revisits,
            RevisitCounts {
                identical_payload: 3,
                not_modified: 2
            }
        );
        std::fs::write(
            dir.path().join("manifest.json"),
            r#"{"exit_reason": "running"}"#,
        )
        .unwrap();
        let (reason, pages, ..) = manifest_counts(dir.path());
        assert_eq!((reason, pages), (None, 0));
        assert_eq!(manifest_counts(&dir.path().join("none")).1, 0);
    }
}
