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
mod robots;
mod shutdown;
mod state;
mod worker;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use tokio::task::JoinSet;
use url::Url;

use crate::archive::{WarcFileInfo, WarcWriter, WriterSettings};
use crate::config::Config;
use crate::manifest::{CapturesLog, Counts, Manifest, Software};
use crate::scope::{CaptureKind, Scope};

use frontier::{Frontier, QueuedUrl};
use state::{CrawlState, LiveIndex};
use worker::{Outcome, WorkerContext};

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
    #[error("cannot set up the HTTP client")]
    Fetcher(#[from] crate::fetch::FetchError),
    #[error(
        "writing the crawl output failed; check free disk space and permissions of the \
         output folder"
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
const CHECKPOINT_EVERY: Duration = Duration::from_secs(30);

/// Run a crawl to its end.
pub async fn run(
    config: Config,
    seeds: Vec<Url>,
    opts: CrawlOptions,
) -> Result<CrawlSummary, CrawlError> {
    let started = Instant::now();
    let out = opts.out_dir.clone();
    // Never mix two crawls in one folder: their captures.jsonl, index and manifest would
    // describe each other's WARCs.
    if out.join("manifest.json").exists() {
        return Err(CrawlError::OutputInUse { path: out });
    }
    std::fs::create_dir_all(out.join("warc")).map_err(|source| CrawlError::OutputDir {
        path: out.clone(),
        source,
    })?;
    let raw = &config.raw;
    let writer = WarcWriter::new(WriterSettings {
        dir: out.join("warc"),
        prefix: raw.warc.prefix.clone(),
        rollover_bytes: raw.warc.rollover_bytes,
        compression_level: raw.warc.compression_level,
        info_fields: vec![
            (
                "software",
                format!("warcrow/{} (Rust)", env!("CARGO_PKG_VERSION")),
            ),
            ("format", "WARC File Format 1.1".into()),
            (
                "conformsTo",
                "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
                    .into(),
            ),
            ("isPartOf", opts.crawl_id.clone()),
            ("http-header-user-agent", config.fetch.user_agent.clone()),
            (
                "robots",
                match raw.politeness.robots {
                    crate::config::RobotsMode::Obey => "obey".into(),
                    crate::config::RobotsMode::Ignore => "ignore".into(),
                },
            ),
        ],
    })?;
    let fetcher = crate::fetch::build(raw.fetch.fetcher, &config.fetch)?;
    let ctx = Arc::new(WorkerContext {
        fetcher,
        writer,
        politeness: worker_politeness(&config),
        dedup: crate::archive::dedup::PayloadDedup::new(
            raw.warc.revisits,
            raw.warc.revisit_min_bytes,
        ),
        compression_level: raw.warc.compression_level,
        max_parse_bytes: 32 * 1024 * 1024,
    });
    let mut state = CrawlState {
        scope: Scope::new(&config, &seeds),
        frontier: Frontier::new(raw.politeness.max_connections_per_host),
        captures: CapturesLog::create(&out.join("captures.jsonl"))?,
        index: LiveIndex::create(&out.join("index.cdxj"))?,
        articles: articles::ArticleLog::create(&out.join("extracted.jsonl"))?,
        counts: Counts::default(),
        failures: Vec::new(),
        rejected_seen: HashSet::new(),
        robots: (raw.politeness.robots == crate::config::RobotsMode::Obey)
            .then(|| robots::RobotsPolicy::new(&config.fetch.user_agent)),
    };
    // Seeds are fetched whatever the scope rules say (they are the crawl's own choice).
    for seed in &seeds {
        state.queue(
            QueuedUrl {
                url: seed.clone(),
                hops: 0,
                via: None,
                kind: CaptureKind::Seed,
                requisite: false,
            },
            false,
        );
    }
    let mut manifest = Manifest {
        crawl_id: opts.crawl_id.clone(),
        software: Software {
            name: "warcrow",
            version: env!("CARGO_PKG_VERSION"),
        },
        seeds: seeds.iter().map(|s| s.to_string()).collect(),
        started_at: now_rfc3339(),
        ended_at: None,
        exit_reason: "running".into(),
        counts: Counts::default(),
        failures: Vec::new(),
        warc_files: Vec::new(),
        config: serde_json::to_value(raw).unwrap_or(serde_json::Value::Null),
    };
    let manifest_path = out.join("manifest.json");
    manifest.write_atomic(&manifest_path)?;

    let progress = progress::Progress::new(opts.progress);
    let max_conn = raw.politeness.max_connections;
    let max_pages = raw.crawl.max_pages;
    let mut tasks: JoinSet<Outcome> = JoinSet::new();
    let mut exit_reason: Option<String> = None;
    let mut stopping = false;
    let mut signals = shutdown::StopSignals::new();
    let mut fatal: Option<std::io::Error> = None;
    let mut last_checkpoint = Instant::now();
    let mut dispatched: u64 = 0;
    loop {
        while !stopping && tasks.len() < max_conn {
            if max_pages > 0 && dispatched >= max_pages {
                if state.frontier.queued() > 0 && exit_reason.is_none() {
                    exit_reason = Some("limit_reached:max_pages".into());
                }
                break;
            }
            let Some(item) = state.frontier.next() else {
                break;
            };
            if state.robots_refuse(&item) {
                continue;
            }
            dispatched += 1;
            tasks.spawn(worker::process(ctx.clone(), item));
        }
        if tasks.is_empty() {
            break;
        }
        tokio::select! {
            joined = tasks.join_next() => {
                let Some(joined) = joined else { continue };
                match joined {
                    Ok(Outcome::WriteFailed { item, error }) => {
                        tracing::error!(url = %item.url, "WARC write failed: {error}");
                        state.frontier.finished(item.host());
                        fatal.get_or_insert(error);
                        stopping = true;
                    }
                    Ok(outcome) => state.record(outcome)?,
                    Err(e) if e.is_cancelled() => {}
                    Err(e) => tracing::error!("a worker task panicked: {e}"),
                }
                progress.update(
                    state.counts.pages,
                    state.frontier.queued(),
                    state.frontier.in_flight(),
                    state.failures.len() as u64,
                );
                if last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
                    last_checkpoint = Instant::now();
                    state.captures.flush()?;
                    state.index.flush()?;
                    state.articles.flush()?;
                    manifest.counts = state.counts.clone();
                    manifest.failures = state.failures.clone();
                    manifest.write_atomic(&manifest_path)?;
                }
            }
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
    }
    progress.finish();
    state.captures.flush()?;
    state.index.finish()?;
    state.articles.finish()?;
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
        crawl_id: opts.crawl_id,
        out_dir: out,
        exit_reason,
        failures: state.failures.len(),
        counts: state.counts,
        warc_files,
        elapsed: started.elapsed(),
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
