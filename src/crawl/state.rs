//! What the crawl loop owns and how it accounts for each finished URL: the scope, the
//! frontier, captures.jsonl, the live CDXJ index, the article merger and the counters. Only
//! the loop touches this state, so none of it needs a lock.

use std::collections::HashSet;
use std::path::PathBuf;

use chrono::SecondsFormat;
use url::Url;

use crate::archive::cdxj;
use crate::extract::LinkKind;
use crate::manifest::{CaptureLine, CapturesLog, Counts, ErrorInfo, Failure};
use crate::scope::{CaptureKind, Scope};

use super::articles;
use super::frontier::{Frontier, QueuedUrl};
use super::robots::RobotsPolicy;
use super::worker::Outcome;

/// What the crawl loop owns.
pub(super) struct CrawlState {
    pub(super) scope: Scope,
    pub(super) frontier: Frontier,
    pub(super) captures: CapturesLog,
    pub(super) index: LiveIndex,
    /// extracted.jsonl and the articles waiting for comment pages.
    pub(super) articles: articles::ArticleLog,
    pub(super) counts: Counts,
    pub(super) failures: Vec<Failure>,
    /// Rejected URLs already counted, so each is counted once however often it is linked.
    pub(super) rejected_seen: HashSet<String>,
    /// None when `politeness.robots = "ignore"`.
    pub(super) robots: Option<RobotsPolicy>,
}

impl CrawlState {
    /// Account for one finished URL and queue what it led to.
    pub(super) fn record(&mut self, outcome: Outcome) -> std::io::Result<()> {
        match outcome {
            Outcome::Captured(c) => {
                let c = *c;
                let ex = &c.exchange;
                if c.item.kind == CaptureKind::Robots {
                    self.learn_robots(&c.item, Some(ex));
                }
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
                if item.kind == CaptureKind::Robots {
                    self.learn_robots(&item, None);
                }
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

    pub(super) fn enqueue_redirect(&mut self, from: &QueuedUrl, target: &Url) {
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

    pub(super) fn enqueue_link(&mut self, from: &QueuedUrl, url: &Url, kind: LinkKind) {
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
    pub(super) fn offer(&mut self, item: QueuedUrl, front: bool) -> bool {
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
        self.queue(item, front)
    }

    /// Queue a URL that scope has accepted (or a seed), behind its host's robots.txt.
    pub(super) fn queue(&mut self, item: QueuedUrl, front: bool) -> bool {
        if let Some(robots) = self.robots.as_mut() {
            if let Some(robots_url) = robots.needs_fetch(&item.url) {
                // Hold the host until its robots.txt is in; fetch that first.
                self.frontier.block(item.host());
                self.frontier.add_urgent(QueuedUrl {
                    url: robots_url,
                    hops: item.hops,
                    via: None,
                    kind: CaptureKind::Robots,
                    requisite: true,
                });
            }
            if let Err(reason) = robots.allowed(&item.url) {
                self.count_rejection(&item.url, reason);
                return false;
            }
        }
        self.frontier.add(item, front)
    }

    /// A URL handed out by the frontier: may it still be fetched? Rules learnt after it was
    /// queued (its host's robots.txt arrived later) are applied here.
    pub(super) fn robots_refuse(&mut self, item: &QueuedUrl) -> bool {
        let Some(Err(reason)) = self.robots.as_ref().map(|r| r.allowed(&item.url)) else {
            return false;
        };
        self.frontier.finished(item.host());
        self.count_rejection(&item.url, reason);
        true
    }

    fn count_rejection(&mut self, url: &Url, reason: &str) {
        if self
            .rejected_seen
            .insert(crate::canonical::canonical_key(url))
        {
            Counts::bump(&mut self.counts.rejected, reason);
        }
    }

    /// A robots.txt fetch finished (`None`: no response at all): learn its rules, release
    /// the host's queue.
    fn learn_robots(&mut self, item: &QueuedUrl, ex: Option<&crate::fetch::Exchange>) {
        let Some(robots) = self.robots.as_mut() else {
            return;
        };
        let host = item.host().to_string();
        match ex {
            Some(ex) => {
                let encoding = ex
                    .headers
                    .get(http::header::CONTENT_ENCODING)
                    .and_then(|v| v.to_str().ok());
                // robots.txt is small; 500 KiB is the most RFC 9309 asks a crawler to read.
                let body =
                    crate::extract::decode::decode_content(&ex.payload, encoding, 500 * 1024)
                        .map(|d| d.bytes.into_owned())
                        .unwrap_or_default();
                robots.learn(&host, Some(ex.status), &body);
            }
            None => robots.learn(&host, None, b""),
        }
        self.frontier.unblock(&host);
    }
}

/// `index.cdxj`, appended as records are written and sorted bytewise when the crawl ends, so
/// replay tools can use the crawl without an indexing step.
pub(super) struct LiveIndex {
    pub(super) path: PathBuf,
    pub(super) out: std::io::BufWriter<std::fs::File>,
}

impl LiveIndex {
    pub(super) fn create(path: &std::path::Path) -> std::io::Result<LiveIndex> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(LiveIndex {
            path: path.to_path_buf(),
            out: std::io::BufWriter::with_capacity(64 * 1024, file),
        })
    }

    pub(super) fn append(&mut self, fields: &cdxj::CdxjFields) -> std::io::Result<()> {
        use std::io::Write;
        self.out.write_all(cdxj::cdxj_line(fields).as_bytes())?;
        self.out.write_all(b"\n")
    }

    pub(super) fn flush(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        self.out.flush()
    }

    pub(super) fn finish(&mut self) -> std::io::Result<()> {
        self.flush()?;
        cdxj::sort_index_file(&self.path)
    }
}
