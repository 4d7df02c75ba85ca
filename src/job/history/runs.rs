//! Finding a job's runs, in run order, and reading each run's `extracted.jsonl`.
//!
//! Run order is `runs.jsonl`'s line order. Run folders under `runs/` that `runs.jsonl` does
//! not list yet (a run still going, if the index is written when a run ends) come after the
//! listed ones, by their manifest's `started_at`. Without `runs.jsonl`, every `runs/*/` folder
//! is a run, in `started_at` order (folder name for ties and for folders without a manifest).

use std::collections::HashSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::HistoryError;
use crate::extract::extracted::ExtractedLine;

pub(super) const RUNS_INDEX: &str = "runs.jsonl";
pub(super) const RUNS_DIR: &str = "runs";
const EXTRACTED: &str = "extracted.jsonl";

/// One run of the job: its crawl id and its crawl folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RunDir {
    pub crawl_id: String,
    pub dir: PathBuf,
}

/// What this module needs of a `runs.jsonl` line; the other keys are the runner's.
#[derive(Deserialize)]
struct IndexLine {
    crawl_id: String,
    /// Relative to the job folder; `runs/<crawl_id>` when absent.
    dir: Option<String>,
}

/// What this module needs of a run's `manifest.json`.
#[derive(Deserialize)]
struct ManifestStart {
    started_at: Option<String>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> HistoryError + '_ {
    move |source| HistoryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The job's runs in run order.
pub(super) fn list_runs(job_dir: &Path) -> Result<Vec<RunDir>, HistoryError> {
    let index = job_dir.join(RUNS_INDEX);
    let runs_dir = job_dir.join(RUNS_DIR);
    if !index.is_file() && !runs_dir.is_dir() {
        return Err(HistoryError::NotAJob(job_dir.to_path_buf()));
    }
    let mut runs = if index.is_file() {
        read_index(job_dir, &index)?
    } else {
        Vec::new()
    };
    if runs_dir.is_dir() {
        let listed_dirs: HashSet<PathBuf> = runs.iter().map(|r| r.dir.clone()).collect();
        let listed_ids: HashSet<String> = runs.iter().map(|r| r.crawl_id.clone()).collect();
        let mut unlisted: Vec<(Option<DateTime<Utc>>, RunDir)> = Vec::new();
        for entry in std::fs::read_dir(&runs_dir).map_err(io_err(&runs_dir))? {
            let dir = entry.map_err(io_err(&runs_dir))?.path();
            let Some(crawl_id) = dir.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !dir.is_dir() || listed_dirs.contains(&dir) || listed_ids.contains(crawl_id) {
                continue;
            }
            if index.is_file() {
                tracing::debug!(
                    crawl_id,
                    "run folder not in runs.jsonl: taken after the listed runs"
                );
            }
            let crawl_id = crawl_id.to_string();
            unlisted.push((started_at(&dir), RunDir { crawl_id, dir }));
        }
        // A folder without a readable start time (None) sorts first: it is most likely a run
        // that failed before writing its manifest, older than the ones that did.
        unlisted.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.crawl_id.cmp(&b.1.crawl_id)));
        runs.extend(unlisted.into_iter().map(|(_, r)| r));
    }
    Ok(runs)
}

/// `runs.jsonl`'s runs, first line of each crawl id wins. A line that is not JSON (the last
/// one half-written while a run ends) is skipped with a warning rather than failing the job.
fn read_index(job_dir: &Path, index: &Path) -> Result<Vec<RunDir>, HistoryError> {
    let file = std::fs::File::open(index).map_err(io_err(index))?;
    let mut seen = HashSet::new();
    let mut runs = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io_err(index))?;
        if line.trim().is_empty() {
            continue;
        }
        let entry: IndexLine = match serde_json::from_str(&line) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!("{}:{}: skipped: {e}", index.display(), n + 1);
                continue;
            }
        };
        if !seen.insert(entry.crawl_id.clone()) {
            continue;
        }
        let rel = entry
            .dir
            .unwrap_or_else(|| format!("{RUNS_DIR}/{}", entry.crawl_id));
        runs.push(RunDir {
            crawl_id: entry.crawl_id,
            dir: job_dir.join(rel),
        });
    }
    Ok(runs)
}

fn started_at(dir: &Path) -> Option<DateTime<Utc>> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).ok()?;
    let m: ManifestStart = serde_json::from_str(&text).ok()?;
    let at = DateTime::parse_from_rfc3339(m.started_at?.trim()).ok()?;
    Some(at.with_timezone(&Utc))
}

/// The run's `extracted.jsonl` lines, in file order. A run without one (it failed before
/// extracting anything) has no lines; a line that does not parse (a run killed mid-write
/// and never resumed leaves half a line) is skipped with a warning.
pub(super) fn read_extracted(run: &RunDir) -> Result<Vec<ExtractedLine>, HistoryError> {
    let path = run.dir.join(EXTRACTED);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::debug!(crawl_id = %run.crawl_id, "run has no extracted.jsonl");
            return Ok(Vec::new());
        }
        Err(e) => return Err(io_err(&path)(e)),
    };
    let mut lines = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io_err(&path))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(l) => lines.push(l),
            Err(e) => tracing::warn!("{}:{}: skipped: {e}", path.display(), n + 1),
        }
    }
    Ok(lines)
}
