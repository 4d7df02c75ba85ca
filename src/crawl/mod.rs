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
//! the loop stops handing out URLs and waits for in-flight ones (each bounded by the fetch
//! timeout); a second Ctrl-C aborts them at their next await point, which is never inside a
//! WARC append. Then the open WARC is closed and renamed, and the manifest written.

mod articles;
mod frontier;
mod politeness;
mod progress;
mod worker;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use tokio::task::JoinSet;
use url::Url;

use crate::archive::{WarcFileInfo, WarcWriter, WriterSettings, cdxj};
use crate::config::Config;
use crate::extract::LinkKind;
use crate::manifest::{CaptureLine, CapturesLog, Counts, ErrorInfo, Failure, Manifest, Software};
use crate::scope::{CaptureKind, Scope};

use frontier::{Frontier, QueuedUrl};
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
    #[error("cannot create the output folder {path}: {source}")]
    OutputDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot set up the HTTP client: {0}")]
    Fetcher(#[from] crate::fetch::FetchError),
    #[error(
        "writing the crawl output failed ({0}); check free disk space and permissions of the \
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
            // robots.txt is not consulted yet; say so rather than claim it is obeyed.
            ("robots", "ignore".into()),
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
    };
    for seed in &seeds {
        state.frontier.add(
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
            _ = tokio::signal::ctrl_c() => {
                if stopping {
                    eprintln!("\nsecond interrupt: abandoning {} in-flight fetches", tasks.len());
                    tasks.abort_all();
                } else {
                    eprintln!(
                        "\ninterrupted: finishing {} in-flight fetches (Ctrl-C again to abandon them)",
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

/// What the crawl loop owns.
struct CrawlState {
    scope: Scope,
    frontier: Frontier,
    captures: CapturesLog,
    index: LiveIndex,
    /// extracted.jsonl and the articles waiting for comment pages.
    articles: articles::ArticleLog,
    counts: Counts,
    failures: Vec<Failure>,
    /// Rejected URLs already counted, so each is counted once however often it is linked.
    rejected_seen: HashSet<String>,
}

impl CrawlState {
    /// Account for one finished URL and queue what it led to.
    fn record(&mut self, outcome: Outcome) -> std::io::Result<()> {
        match outcome {
            Outcome::Captured(c) => {
                let c = *c;
                let ex = &c.exchange;
                self.frontier.finished(c.item.host());
                self.counts.pages += 1;
                self.counts.payload_bytes += ex.payload.len() as u64;
                Counts::bump(&mut self.counts.by_status, &ex.status.to_string());
                Counts::bump(&mut self.counts.by_kind, c.item.kind.as_str());
                if c.revisit_of.is_some() {
                    Counts::bump(&mut self.counts.by_outcome, "revisit");
                }
                let extract_error = self.count_extraction(&c.extraction);
                let mut error = None;
                if ex.status >= 400 {
                    let reason = http::StatusCode::from_u16(ex.status)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("");
                    error = Some(ErrorInfo {
                        kind: "http".into(),
                        message: format!("HTTP {} {reason}", ex.status)
                            .trim_end()
                            .to_string(),
                    });
                    Counts::bump(&mut self.counts.by_outcome, "http_error");
                } else if let Some(msg) = &c.extract_error {
                    error = Some(ErrorInfo {
                        kind: "extract".into(),
                        message: msg.clone(),
                    });
                    Counts::bump(&mut self.counts.by_outcome, "extract_error");
                } else {
                    Counts::bump(&mut self.counts.by_outcome, "captured");
                }
                if let Some(t) = ex.truncated {
                    Counts::bump(
                        &mut self.counts.by_outcome,
                        &format!("truncated_{}", t.as_str()),
                    );
                }
                if let Some(e) = &error {
                    self.failures.push(Failure {
                        url: ex.url.to_string(),
                        status: Some(ex.status),
                        error: e.clone(),
                    });
                }
                self.captures.append(&CaptureLine {
                    url: ex.url.to_string(),
                    status: Some(ex.status),
                    content_type: ex.content_type().map(str::to_owned),
                    fetched_at: ex.started_at.to_rfc3339_opts(SecondsFormat::Micros, true),
                    hops: c.item.hops,
                    via: c.item.via.as_ref().map(Url::to_string),
                    kind: c.item.kind.as_str(),
                    warc_file: Some(c.response.file.clone()),
                    warc_offset: Some(c.response.offset),
                    warc_length: Some(c.response.length),
                    request_offset: Some(c.request.offset),
                    payload_digest: Some(c.payload_digest.clone()),
                    bytes: Some(ex.payload.len() as u64),
                    duration_ms: Some(ex.duration.as_millis() as u64),
                    ip: ex.ip.map(|ip| ip.to_string()),
                    truncated: ex.truncated.map(|t| t.as_str()),
                    redirect_to: c.redirect_to.as_ref().map(Url::to_string),
                    links: Some(c.links.len() as u32),
                    title: c.title.clone(),
                    record_type: Some(if c.revisit_of.is_some() {
                        "revisit"
                    } else {
                        "response"
                    }),
                    revisit_of: c.revisit_of.as_ref().map(|o| o.uri.clone()),
                    error,
                    extract_error,
                })?;
                self.index.append(&cdxj::CdxjFields {
                    url: ex.url.as_str(),
                    warc_date: ex.started_at,
                    mime: if c.revisit_of.is_some() {
                        Some("warc/revisit")
                    } else {
                        ex.content_type()
                    },
                    status: Some(ex.status),
                    digest: &c.payload_digest,
                    length: c.response.length,
                    offset: c.response.offset,
                    filename: &c.response.file,
                })?;
                if let Some(target) = &c.redirect_to {
                    self.enqueue_redirect(&c.item, target);
                }
                // Comment pages first, so they are queued as such rather than as outlinks.
                let queued = self.enqueue_comment_pages(&c.item, &c.comment_pages);
                for link in &c.links {
                    self.enqueue_link(&c.item, &link.url, link.kind);
                }
                self.article_done(c, queued)?;
            }
            Outcome::Failed {
                item,
                error,
                started_at,
            } => {
                self.frontier.finished(item.host());
                Counts::bump(&mut self.counts.by_kind, item.kind.as_str());
                Counts::bump(&mut self.counts.by_outcome, "failed");
                let info = ErrorInfo {
                    kind: error.kind().into(),
                    message: error.to_string(),
                };
                tracing::info!(url = %item.url, "fetch failed: {error}");
                self.failures.push(Failure {
                    url: item.url.to_string(),
                    status: None,
                    error: info.clone(),
                });
                self.captures.append(&CaptureLine {
                    url: item.url.to_string(),
                    status: None,
                    content_type: None,
                    fetched_at: started_at.to_rfc3339_opts(SecondsFormat::Micros, true),
                    hops: item.hops,
                    via: item.via.as_ref().map(Url::to_string),
                    kind: item.kind.as_str(),
                    warc_file: None,
                    warc_offset: None,
                    warc_length: None,
                    request_offset: None,
                    payload_digest: None,
                    bytes: None,
                    duration_ms: None,
                    ip: None,
                    truncated: None,
                    redirect_to: None,
                    links: None,
                    title: None,
                    record_type: None,
                    revisit_of: None,
                    error: Some(info),
                    extract_error: None,
                })?;
                self.articles.done(&item.url, None, Vec::new())?;
            }
            Outcome::WriteFailed { item, .. } => self.frontier.finished(item.host()),
        }
        Ok(())
    }

    fn enqueue_redirect(&mut self, from: &QueuedUrl, target: &Url) {
        // A seed that redirects to another host (http → https://www.) brings that host along:
        // hops stay 0 along a seed's redirect chain, and only seeds start at 0.
        let from_seed = from.hops == 0
            && !from.requisite
            && matches!(from.kind, CaptureKind::Seed | CaptureKind::Redirect);
        if let (true, Some(host)) = (from_seed, target.host_str()) {
            self.scope.add_host(host);
        }
        let url = crate::canonical::canonicalize(target);
        let item = QueuedUrl {
            url: url.clone(),
            hops: from.hops,
            via: Some(from.url.clone()),
            kind: CaptureKind::Redirect,
            requisite: from.requisite,
        };
        if self.offer(item, true) {
            self.articles.redirected(&from.url, &url);
        }
    }

    fn enqueue_link(&mut self, from: &QueuedUrl, url: &Url, kind: LinkKind) {
        let (hops, requisite, capture_kind) = match kind {
            LinkKind::Outlink => (from.hops + 1, false, CaptureKind::Outlink),
            LinkKind::Requisite => (from.hops, true, CaptureKind::Requisite),
        };
        self.offer(
            QueuedUrl {
                url: crate::canonical::canonicalize(url),
                hops,
                via: Some(from.url.clone()),
                kind: capture_kind,
                requisite,
            },
            false,
        );
    }

    /// Queues `item` if scope allows and it is new; returns whether it was queued.
    fn offer(&mut self, item: QueuedUrl, front: bool) -> bool {
        if self.frontier.is_seen(&item.url) {
            self.counts.duplicates += 1;
            return false;
        }
        if let Err(rejection) = self.scope.check(&item.url, item.hops, item.requisite) {
            if !self
                .rejected_seen
                .insert(crate::canonical::canonical_key(&item.url))
            {
                return false;
            }
            let reason = rejection.reason();
            Counts::bump(&mut self.counts.rejected, &reason);
            if rejection == crate::scope::Rejection::OffScope {
                Counts::bump(
                    &mut self.counts.off_scope_hosts,
                    item.url.host_str().unwrap_or(""),
                );
            }
            return false;
        }
        self.frontier.add(item, front)
    }
}

/// `index.cdxj`, appended as records are written and sorted bytewise when the crawl ends, so
/// replay tools can use the crawl without an indexing step.
struct LiveIndex {
    path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
}

impl LiveIndex {
    fn create(path: &std::path::Path) -> std::io::Result<LiveIndex> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(LiveIndex {
            path: path.to_path_buf(),
            out: std::io::BufWriter::with_capacity(64 * 1024, file),
        })
    }

    fn append(&mut self, fields: &cdxj::CdxjFields) -> std::io::Result<()> {
        use std::io::Write;
        self.out.write_all(cdxj::cdxj_line(fields).as_bytes())?;
        self.out.write_all(b"\n")
    }

    fn flush(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        self.out.flush()
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.flush()?;
        cdxj::sort_index_file(&self.path)
    }
}

/// Counts by status, as "200: 12, 404: 1".
pub fn status_summary(by_status: &BTreeMap<String, u64>) -> String {
    by_status
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
