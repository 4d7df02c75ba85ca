//! The composition root: builds the parts of a crawl, runs it, and owns its shutdown.
//!
//! ```text
//!  seeds ─▶ scope ─▶ frontier ─▶ worker task (per URL) ───────────────▶ outcome
//!             ▲      (seen set,    politeness wait → fetch → WARC          │
//!             │       host queues) request+response → links                │
//!             └──────────── links, redirect targets ◀── crawl loop ◀───────┘
//!                                                       captures.jsonl, counts,
//!                                                       manifest.json checkpoints
//! ```
//!
//! The loop is the only owner of the frontier, scope and counters, so none of them need locks;
//! workers share only the fetcher, the WARC writer and the rate limiter. Shutdown: on Ctrl-C
//! or SIGTERM the loop stops handing out URLs and waits for in-flight ones (each bounded by the
//! fetch timeout); a second signal aborts them at their next await point, which is never inside
//! a WARC append. Then the open WARC is closed and renamed, and the manifest written.

mod articles;
mod frontier;
mod politeness;
mod progress;
mod record;
mod resume;
mod retry;
mod robots;
mod setup;
mod shutdown;
mod state;
mod store;
mod worker;

pub(crate) use store::payload_original;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use tokio::task::JoinSet;
use url::Url;

use crate::archive::WarcFileInfo;
use crate::config::Config;
use crate::manifest::Counts;

use state::CrawlState;
use worker::Outcome;

/// How this run behaves (flags), as opposed to what the crawl is (config).
#[derive(Debug, Clone)]
pub struct CrawlOptions {
    pub out_dir: PathBuf,
    pub crawl_id: String,
    /// Draw a progress line on stderr (only if it is a terminal).
    pub progress: bool,
}

/// What the crawl did, for the CLI's summary.
#[derive(Debug, Clone)]
pub struct CrawlSummary {
    pub crawl_id: String,
    pub out_dir: PathBuf,
    pub exit_reason: String,
    pub counts: Counts,
    pub failures: usize,
    pub warc_files: Vec<WarcFileInfo>,
    pub elapsed: Duration,
}

/// The crawl itself could not run or had to stop (per-URL failures are not errors).
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    #[error("cannot create the output folder {path}")]
    OutputDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the output folder {path} already holds a crawl (it has a manifest.json); choose \
         another --out, or leave it out for a fresh ./crawls/<crawl-id>/"
    )]
    OutputInUse { path: PathBuf },
    #[error(
        "{path} is not a warcrow crawl folder that can be resumed (no frontier.db, or one \
         from another version); start a new crawl with --out instead"
    )]
    NotACrawl { path: PathBuf },
    #[error("cannot set up the HTTP client")]
    Fetcher(#[from] crate::fetch::FetchError),
    #[error(
        "writing the crawl output failed; check free disk space and permissions of the \
         output folder, then continue the crawl with `warcrow crawl --resume <folder>` (what \
         was written up to the last checkpoint is kept)"
    )]
    Write(#[from] std::io::Error),
}

/// A crawl id: UTC time plus a short random suffix, sortable and unique enough per machine.
pub fn new_crawl_id() -> String {
    format!(
        "{}-{:04x}",
        Utc::now().format("%Y%m%dT%H%M%SZ"),
        rand::random::<u16>()
    )
}

fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// How often manifest.json is rewritten while crawling.
const MANIFEST_EVERY: Duration = Duration::from_secs(30);
/// How often the frontier database, captures.jsonl and index.cdxj are committed together.
const COMMIT_EVERY: Duration = Duration::from_secs(1);
/// Commit earlier when this many frontier changes are waiting...
const COMMIT_OPS: usize = 20_000;
/// ... or this many outcomes were recorded: what a kill makes the crawl fetch again.
const COMMIT_OUTCOMES: u32 = 32;

/// Run a new crawl to its end.
pub async fn run(
    config: Config,
    seeds: Vec<Url>,
    opts: CrawlOptions,
) -> Result<CrawlSummary, CrawlError> {
    run_with(config, seeds, opts, None).await
}

/// Run a new crawl as a run of a job: `prior` is what the job's earlier runs captured (for
/// conditional requests and revisits of their records; see `job/dedup.rs`).
pub async fn run_with(
    config: Config,
    seeds: Vec<Url>,
    opts: CrawlOptions,
    prior: Option<Arc<crate::job::dedup::JobIndex>>,
) -> Result<CrawlSummary, CrawlError> {
    let prepared = setup::fresh(config, seeds, &opts, prior).await?;
    drive(prepared, opts).await
}

/// Continue the crawl in `opts.out_dir` after an interruption, a kill or a limit.
/// `config`: replaces the crawl's own config (to raise a limit), if given.
pub async fn resume(
    config: Option<Config>,
    opts: CrawlOptions,
) -> Result<CrawlSummary, CrawlError> {
    let prepared = setup::resumed(config, &opts).await?;
    drive(prepared, opts).await
}

/// Which limit stops the crawl now, if any.
fn limit_reached(
    config: &Config,
    state: &CrawlState,
    in_flight: usize,
    elapsed: Duration,
) -> Option<&'static str> {
    let c = &config.raw.crawl;
    if c.max_pages > 0 && state.counts.pages + in_flight as u64 >= c.max_pages {
        return Some("limit_reached:max_pages");
    }
    if c.max_bytes > 0 && state.counts.payload_bytes >= c.max_bytes {
        return Some("limit_reached:max_bytes");
    }
    if c.max_duration_secs > 0.0 && elapsed.as_secs_f64() >= c.max_duration_secs {
        return Some("limit_reached:max_duration");
    }
    None
}

async fn drive(p: setup::Prepared, opts: CrawlOptions) -> Result<CrawlSummary, CrawlError> {
    let started = Instant::now();
    let setup::Prepared {
        config,
        ctx,
        mut state,
        mut manifest,
        elapsed_before,
    } = p;
    let out = opts.out_dir.clone();
    let manifest_path = out.join("manifest.json");
    let progress = progress::Progress::new(opts.progress);
    let max_conn = config.raw.politeness.max_connections;
    let mut tasks: JoinSet<Outcome> = JoinSet::new();
    let mut exit_reason: Option<String> = None;
    let mut stopping = false;
    let mut signals = shutdown::StopSignals::new();
    let mut fatal: Option<std::io::Error> = None;
    let mut last_manifest = Instant::now();
    let mut last_commit = Instant::now();
    // Outcomes are recorded in the order their records were appended, so every commit covers
    // a prefix of each WARC file (see store.rs); early ones wait here.
    let mut early: BTreeMap<u64, Box<worker::Captured>> = BTreeMap::new();
    let mut next_seq: u64 = 0;
    let mut recorded: u32 = 0;
    let commit = |state: &mut CrawlState, elapsed: Duration| -> std::io::Result<()> {
        let captures_len = state.captures.flush()?;
        let index_len = state.index.flush()?;
        let extracted_len = state.articles.flush(state.frontier.store_mut())?;
        let payloads = state.frontier.commit(&store::Checkpoint {
            counts: state.counts.clone(),
            captures_len,
            index_len,
            extracted_len,
            warc_ends: state.warc_ends.clone(),
            elapsed_secs: elapsed.as_secs_f64(),
        })?;
        ctx.dedup.committed(payloads.iter().map(String::as_str));
        Ok(())
    };
    loop {
        let now = tokio::time::Instant::now();
        state.frontier.wake(now);
        let elapsed = elapsed_before + started.elapsed();
        while !stopping && tasks.len() < max_conn {
            if let Some(limit) = limit_reached(&config, &state, tasks.len(), elapsed) {
                exit_reason.get_or_insert_with(|| limit.to_string());
                stopping = true;
                break;
            }
            let Some(item) = state.frontier.next(now) else {
                if !state.frontier.wants_refill() {
                    break;
                }
                if state.frontier.pending() > 0 {
                    commit(&mut state, elapsed)?;
                    last_commit = Instant::now();
                    recorded = 0;
                }
                state.frontier.refill().map_err(std::io::Error::from)?;
                continue;
            };
            if let state::Gate::Go(mut item) = state.gate(item) {
                item.attempts += 1;
                tasks.spawn(worker::process(ctx.clone(), item));
            }
        }
        let wake = state.frontier.next_wake();
        if tasks.is_empty() && (stopping || wake.is_none()) {
            break;
        }
        let sleep_until = wake.unwrap_or_else(|| now + Duration::from_secs(3600));
        tokio::select! {
            joined = tasks.join_next(), if !tasks.is_empty() => {
                let Some(joined) = joined else { continue };
                match joined {
                    Ok(Outcome::WriteFailed { item, error }) => {
                        tracing::error!(url = %item.url, "WARC write failed: {error}");
                        fatal.get_or_insert(std::io::Error::new(error.kind(), error.to_string()));
                        state.record(Outcome::WriteFailed { item, error })?;
                        stopping = true;
                    }
                    Ok(Outcome::Captured(c)) => {
                        early.insert(c.seq, c);
                        while let Some(c) = early.remove(&next_seq) {
                            next_seq += 1;
                            recorded += 1;
                            state.record(Outcome::Captured(c))?;
                        }
                    }
                    Ok(outcome) => {
                        recorded += 1;
                        state.record(outcome)?;
                    }
                    Err(e) if e.is_cancelled() => {}
                    Err(e) => tracing::error!("a worker task panicked: {e}"),
                }
                progress.update(
                    state.counts.pages,
                    state.frontier.queued(),
                    state.frontier.in_flight(),
                    state.failures.len() as u64,
                );
            }
            _ = tokio::time::sleep_until(sleep_until) => {}
            _ = signals.next() => {
                if stopping {
                    eprintln!("\nsecond stop signal: abandoning {} in-flight fetches", tasks.len());
                    tasks.abort_all();
                } else {
                    eprintln!(
                        "\nstopping: finishing {} in-flight fetches (Ctrl-C again to abandon them)",
                        tasks.len()
                    );
                    stopping = true;
                }
                exit_reason.get_or_insert_with(|| "interrupted".into());
            }
        }
        if last_commit.elapsed() >= COMMIT_EVERY
            || state.frontier.pending() >= COMMIT_OPS
            || recorded >= COMMIT_OUTCOMES
        {
            commit(&mut state, elapsed_before + started.elapsed())?;
            last_commit = Instant::now();
            recorded = 0;
        }
        if last_manifest.elapsed() >= MANIFEST_EVERY {
            last_manifest = Instant::now();
            manifest.counts = state.counts.clone();
            manifest.failures = state.failures.clone();
            manifest.write_atomic(&manifest_path)?;
        }
    }
    progress.finish();
    if !early.is_empty() {
        // Only possible when a worker panicked after writing: those records stay uncommitted
        // and are cut off by the next resume.
        tracing::warn!("{} captures could not be recorded in order", early.len());
    }
    let elapsed = elapsed_before + started.elapsed();
    // On a write failure the disk may be full: the last commit stands, and resume cuts the
    // files back to it.
    let finished_ok = fatal.is_none();
    if finished_ok {
        if state.frontier.queued() == 0 {
            // Nothing more will come for articles still waiting: write them as they are.
            state.articles.finish(state.frontier.store_mut())?;
        }
        commit(&mut state, elapsed)?;
        state.captures.sync()?;
        state.index.finish()?;
    }
    let warc_files = ctx.writer.finish()?;
    let exit_reason = match &fatal {
        Some(_) => "failed:warc_write".to_string(),
        None => exit_reason.unwrap_or_else(|| "finished".into()),
    };
    manifest.ended_at = Some(now_rfc3339());
    manifest.exit_reason = exit_reason.clone();
    manifest.counts = state.counts.clone();
    manifest.failures = state.failures.clone();
    manifest.warc_files = warc_files.clone();
    manifest.write_atomic(&manifest_path)?;
    if let Some(e) = fatal {
        return Err(CrawlError::Write(e));
    }
    Ok(CrawlSummary {
        crawl_id: manifest.crawl_id,
        out_dir: out,
        exit_reason,
        failures: state.failures.len(),
        counts: state.counts,
        warc_files,
        elapsed,
    })
}

fn worker_politeness(config: &Config) -> politeness::HostPoliteness {
    let p = &config.raw.politeness;
    politeness::HostPoliteness::new(p.requests_per_second, p.burst)
}

/// Counts by status, as "200: 12, 404: 1".
pub fn status_summary(by_status: &BTreeMap<String, u64>) -> String {
    if by_status.is_empty() {
        return "none".into();
    }
    by_status
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
