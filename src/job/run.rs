//! One run of a job: what `warcrow crawl --job JOBDIR` does, and what `warcrow schedule`
//! starts when a group is due.
//!
//! ```text
//! create the job (first call only) ─▶ job.toml group ─▶ .lock-<group> ─▶ config + seeds
//!   ─▶ crawl into runs/<crawl-id>/ (conditional requests, revisits of earlier runs: dedup.db)
//!   ─▶ whatever its end: its committed captures into dedup.db, its line into runs.jsonl,
//!      index.cdxj rebuilt (see runs.rs)
//! ```
//!
//! The first call on a folder without `config.toml` creates the job: it writes the given
//! config file's text (or the built-in defaults, config/default.toml) to `JOBDIR/config.toml`
//! and the seeds to `JOBDIR/seeds.txt`. Later calls reuse both; giving seeds or a config to an
//! existing job is an error rather than a silent replacement, since it would change what the
//! job's later runs are compared with. To change them, edit those two files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{SecondsFormat, Utc};
use url::Url;

use super::lock::{JobLock, LockError, group_lock_path};
use super::runs::{self, RunRecord, RunsError};
use super::spec::{GroupSeeds, JobSpec, SpecError};
use crate::config::{Config, ConfigError};
use crate::crawl::{self, CrawlError, CrawlOptions, CrawlSummary};
use crate::seeds::SeedError;

pub const CONFIG_FILE: &str = "config.toml";
pub const SEEDS_FILE: &str = "seeds.txt";
pub const RUNS_DIR: &str = "runs";

/// A new job without --config gets these defaults, every key documented.
const DEFAULT_CONFIG: &str = include_str!("../../config/default.toml");

/// What one run did.
#[derive(Debug)]
pub enum RunOutcome {
    Ran(Box<RunReport>),
    /// The group had no seeds now (e.g. no recent article yet): no run was started.
    NothingToCrawl {
        group: String,
        why: String,
    },
}

#[derive(Debug)]
pub struct RunReport {
    /// Whether this call created the job.
    pub created: bool,
    pub record: RunRecord,
    pub run_dir: PathBuf,
    pub summary: CrawlSummary,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Seeds(#[from] SeedError),
    /// Several of the above at once, when creating a job.
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    #[error("{0}")]
    Usage(String),
    /// A bug: a task of ours panicked.
    #[error("{0}")]
    Internal(String),
    #[error(
        "group {group:?} of the job {} is already running ({source}); it runs once at a time, \
         try again when that run has ended",
        .job.display()
    )]
    Busy {
        job: PathBuf,
        group: String,
        source: LockError,
    },
    #[error(transparent)]
    Lock(LockError),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Dedup(#[from] super::dedup::DedupError),
    #[error(transparent)]
    Runs(#[from] RunsError),
    #[error("the run in {} failed: {source}", .run_dir.display())]
    Crawl {
        run_dir: PathBuf,
        source: CrawlError,
    },
}

impl JobError {
    /// A run of this group was already going on: not a failure of this job's runs.
    pub fn is_busy(&self) -> bool {
        matches!(self, JobError::Busy { .. })
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> JobError + '_ {
    move |source| JobError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// One run of the job in `job_dir` for `group` (None: the job's only group). `seeds` and
/// `config_path` are for creating the job and must be empty/None for an existing one.
pub async fn run_once(
    job_dir: &Path,
    group: Option<&str>,
    seeds: &[Url],
    config_path: Option<&Path>,
    progress: bool,
) -> Result<RunOutcome, JobError> {
    let created = if job_dir.join(CONFIG_FILE).exists() {
        if !seeds.is_empty() || config_path.is_some() {
            return Err(JobError::Usage(format!(
                "{} is already a job: its seeds are in {SEEDS_FILE} and its config in \
                 {CONFIG_FILE} there. Run `warcrow crawl --job {}` without URLs, --seeds or \
                 --config, and edit those files to change them",
                job_dir.display(),
                job_dir.display()
            )));
        }
        false
    } else {
        create(job_dir, seeds, config_path)?;
        true
    };
    let spec = JobSpec::load(job_dir)?;
    let group = spec.group(group).map_err(JobError::Usage)?;
    let _lock = match JobLock::try_acquire(&group_lock_path(job_dir, &group.name)) {
        Ok(lock) => lock,
        Err(e @ LockError::Busy { .. }) => {
            return Err(JobError::Busy {
                job: job_dir.to_path_buf(),
                group: group.name.clone(),
                source: e,
            });
        }
        Err(e) => return Err(JobError::Lock(e)),
    };
    let mut config = Config::from_file(Some(&job_dir.join(CONFIG_FILE)))?;
    if let Some(hops) = group.max_hops {
        config.raw.crawl.max_hops = hops;
    }
    let seeds = match &group.seeds {
        GroupSeeds::All => {
            let path = job_dir.join(SEEDS_FILE);
            crate::seeds::collect(&[], &[&path]).map_err(|e| {
                JobError::Usage(format!(
                    "group {:?} crawls the job's seeds, {}: {}",
                    group.name,
                    path.display(),
                    e.0.join("; ")
                ))
            })?
        }
        GroupSeeds::List(urls) => urls.clone(),
        GroupSeeds::RecentArticles { days } => {
            let urls = super::history::recent_articles(job_dir, *days);
            if urls.is_empty() {
                return Ok(RunOutcome::NothingToCrawl {
                    group: group.name.clone(),
                    why: format!(
                        "earlier runs found no article published within the last {days} day(s)"
                    ),
                });
            }
            urls
        }
    };
    let crawl_id = crawl::new_crawl_id();
    // File names unique across the job's runs (pywb and WACZ folders may hold them all):
    // the crawl id goes into the prefix.
    config.raw.warc.prefix = format!("{}-{crawl_id}", config.raw.warc.prefix);
    let dir = format!("{RUNS_DIR}/{crawl_id}");
    let run_dir = job_dir.join(&dir);
    let index = super::dedup::JobIndex::open(job_dir)?;
    let opts = CrawlOptions {
        out_dir: run_dir.clone(),
        crawl_id: crawl_id.clone(),
        progress,
    };
    tracing::info!(group = %group.name, run = %dir, "job run starting");
    let started_at = now_rfc3339();
    let result = crawl::run_with(config, seeds, opts, Some(Arc::new(index))).await;
    let ended_at = now_rfc3339();
    let (exit_reason, pages, warc_bytes, revisits) = runs::manifest_counts(&run_dir);
    let record = RunRecord {
        crawl_id: crawl_id.clone(),
        group: group.name.clone(),
        dir,
        started_at,
        ended_at,
        exit_reason: exit_reason.unwrap_or_else(|| "failed".into()),
        pages,
        warc_bytes,
        revisits,
        error: result.as_ref().err().map(|e| error_chain(e)),
    };
    let after = {
        let (job_dir, run_dir, record) = (job_dir.to_path_buf(), run_dir.clone(), record.clone());
        // Reads every run's index: off the async threads, which other runs may be using.
        tokio::task::spawn_blocking(move || record_run(&job_dir, &run_dir, &record))
            .await
            .unwrap_or_else(|e| {
                Err(JobError::Internal(format!(
                    "recording the run panicked: {e}"
                )))
            })
    };
    let summary = result.map_err(|source| JobError::Crawl {
        run_dir: run_dir.clone(),
        source,
    })?;
    after?;
    Ok(RunOutcome::Ran(Box::new(RunReport {
        created,
        record,
        run_dir,
        summary,
    })))
}

/// After a run, whatever its end: its committed captures into dedup.db (when it got as far
/// as making its folder), then its line into runs.jsonl and the job's index rebuilt. Each
/// step is tried even if the one before failed; the first failure is returned.
fn record_run(job_dir: &Path, run_dir: &Path, record: &RunRecord) -> Result<(), JobError> {
    let mut first: Option<JobError> = None;
    if run_dir.exists() {
        match super::dedup::ingest_run(job_dir, run_dir, &record.crawl_id) {
            Ok(added) => tracing::info!(
                run = %record.dir, urls = added.urls, payloads = added.payloads,
                "run added to the job's dedup index"
            ),
            Err(e) => {
                tracing::error!(run = %record.dir, "{e}");
                first = Some(e.into());
            }
        }
    }
    if let Err(e) = runs::add_run(job_dir, record) {
        tracing::error!(run = %record.dir, "{e}");
        first.get_or_insert(e.into());
    }
    first.map_or(Ok(()), Err)
}

/// Make `job_dir` a job: check config, seeds and job.toml together, then write config.toml
/// last (its presence is what makes a folder a job), each file through a rename.
fn create(job_dir: &Path, seeds: &[Url], config_path: Option<&Path>) -> Result<(), JobError> {
    let mut problems = Vec::new();
    let config_text = match config_path {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) => {
                problems.push(format!("{}: cannot read the config: {e}", path.display()));
                None
            }
        },
        None => Some(DEFAULT_CONFIG.to_string()),
    };
    if let (Some(text), Some(path)) = (&config_text, config_path) {
        let name = path.display().to_string();
        if let Err(e) = crate::config::RawConfig::parse(text, &name).and_then(|r| r.validate(&name))
        {
            problems.push(e.to_string());
        }
    }
    match JobSpec::load(job_dir) {
        Ok(spec) => {
            let needs_seeds = spec.groups.iter().any(|g| g.seeds == GroupSeeds::All);
            if needs_seeds && seeds.is_empty() {
                problems.push(format!(
                    "{} is not a job yet: to create it, give its seed URLs (as arguments or \
                     with --seeds FILE); they are kept in {SEEDS_FILE} for every later run",
                    job_dir.display()
                ));
            }
        }
        Err(e) => problems.push(e.to_string()),
    }
    if !problems.is_empty() {
        return Err(JobError::Invalid(problems));
    }
    std::fs::create_dir_all(job_dir.join(RUNS_DIR)).map_err(io_err(job_dir))?;
    let mut seeds_text = String::from(
        "# The job's seeds, crawled by groups with seeds = \"all\" (see job.toml). One URL a\n\
         # line; edit to change what later runs crawl.\n",
    );
    for url in seeds {
        seeds_text.push_str(url.as_str());
        seeds_text.push('\n');
    }
    write_new(&job_dir.join(SEEDS_FILE), &seeds_text)?;
    write_new(
        &job_dir.join(CONFIG_FILE),
        config_text.as_deref().unwrap_or(DEFAULT_CONFIG),
    )?;
    tracing::info!(job = %job_dir.display(), "job created");
    Ok(())
}

/// An error with its causes, "outer: inner: …", for runs.jsonl.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn write_new(path: &Path, text: &str) -> Result<(), JobError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

#[cfg(test)]
mod tests;
