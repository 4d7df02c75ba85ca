//! What the crawl loop owns and how URLs get into the frontier: scope, traps, limits and
//! robots.txt are checked here, in one place. Only the loop touches this state, so none of it
//! needs a lock. How a finished URL is accounted for is in `record.rs`.

use std::collections::BTreeMap;

use url::Url;

use crate::archive::cdxj;
use crate::extract::LinkKind;
use crate::manifest::{CapturesLog, Counts, Failure, JournalFile};
use crate::scope::{CaptureKind, Scope};
use crate::traps::Traps;

use super::articles;
use super::frontier::{Frontier, QueuedUrl};
use super::retry::RetryPolicy;
use super::robots::RobotsPolicy;
use super::store::UrlState;

/// Limits checked as URLs are queued.
pub(super) struct QueueLimits {
    pub(super) max_url_length: usize,
    /// 0 = no limit.
    pub(super) max_per_host: u64,
    pub(super) sitemaps: bool,
}

/// What the crawl loop owns.
pub(super) struct CrawlState {
    pub(super) scope: Scope,
    pub(super) traps: Traps,
    pub(super) limits: QueueLimits,
    pub(super) frontier: Frontier,
    pub(super) captures: CapturesLog,
    pub(super) index: LiveIndex,
    /// extracted.jsonl and the articles waiting for comment pages.
    pub(super) articles: articles::ArticleLog,
    pub(super) counts: Counts,
    pub(super) failures: Vec<Failure>,
    /// None when `politeness.robots = "ignore"`.
    pub(super) robots: Option<RobotsPolicy>,
    pub(super) retry: RetryPolicy,
    /// Shared with the workers: Crawl-delays learnt from robots.txt go here.
    pub(super) politeness: std::sync::Arc<super::politeness::HostPoliteness>,
    /// The end of the last record of each WARC file whose outcome was recorded.
    pub(super) warc_ends: BTreeMap<String, u64>,
}

/// What the gate before dispatch decided (one per dispatch, so its size does not matter).
#[allow(clippy::large_enum_variant)]
pub(super) enum Gate {
    Go(QueuedUrl),
    /// Put back: its host's robots.txt is fetched first.
    Held,
    /// Not fetched (robots.txt disallows it).
    Refused,
}

impl CrawlState {
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
        let mut item = QueuedUrl::new(
            url.clone(),
            from.hops,
            Some(from.url.clone()),
            CaptureKind::Redirect,
        );
        item.requisite = from.requisite;
        if self.offer(item, true)
            && let Err(e) = self
                .articles
                .redirected(&from.url, &url, self.frontier.store())
        {
            tracing::warn!("frontier database: {e}");
        }
    }

    pub(super) fn enqueue_link(&mut self, from: &QueuedUrl, url: &Url, kind: LinkKind) {
        let (hops, capture_kind) = match kind {
            LinkKind::Outlink => (from.hops + 1, CaptureKind::Outlink),
            LinkKind::Requisite => (from.hops, CaptureKind::Requisite),
        };
        let item = QueuedUrl::unkeyed(
            crate::canonical::canonicalize(url),
            hops,
            Some(from.url.clone()),
            capture_kind,
        );
        self.offer(item, false);
    }

    /// Queues `item` if it is new and scope, traps and limits allow; returns whether it was
    /// queued.
    pub(super) fn offer(&mut self, mut item: QueuedUrl, front: bool) -> bool {
        let (key, differs) = self.traps.seen_key(&item.url);
        item.key = key;
        if self.frontier.is_seen(&item.key) {
            match differs {
                // Another spelling of a page already queued: say which rule merged them.
                Some(reason) => {
                    self.count_rejection(&item, reason);
                }
                None => self.counts.duplicates += 1,
            }
            return false;
        }
        if let Err(rejection) = self.scope.check(&item.url, item.hops, item.requisite) {
            if self.count_rejection(&item, &rejection.reason())
                && rejection == crate::scope::Rejection::OffScope
            {
                Counts::bump(
                    &mut self.counts.off_scope_hosts,
                    item.url.host_str().unwrap_or(""),
                );
            }
            return false;
        }
        let refusal = if item.url.as_str().len() > self.limits.max_url_length {
            Some("url_too_long")
        } else if let Err(trap) = self.traps.check(&item.url) {
            Some(trap)
        } else if self.frontier.host_given_up(item.host()) {
            Some("host_given_up")
        } else if self.limits.max_per_host > 0
            && self.frontier.host_total(item.host()) >= self.limits.max_per_host
        {
            Some("max_per_host")
        } else {
            None
        };
        if let Some(reason) = refusal {
            self.count_rejection(&item, reason);
            return false;
        }
        self.queue(item, front)
    }

    /// Queue a URL that scope has accepted (or a seed), behind its host's robots.txt.
    pub(super) fn queue(&mut self, item: QueuedUrl, front: bool) -> bool {
        if let Some(robots) = self.robots.as_ref()
            && let Err(reason) = robots.allowed(&item.url)
        {
            self.count_rejection(&item, reason);
            return false;
        }
        self.frontier.add(item, front)
    }

    /// A URL handed out by the frontier: may it be fetched now? Its host's robots.txt is
    /// fetched first if it has not been, and rules learnt after it was queued apply.
    pub(super) fn gate(&mut self, item: QueuedUrl) -> Gate {
        let Some(robots) = self.robots.as_mut() else {
            return Gate::Go(item);
        };
        if item.kind == CaptureKind::Robots {
            return Gate::Go(item);
        }
        if let Some(robots_url) = robots.needs_fetch(&item.url) {
            let host = item.host().to_string();
            let robots_item = QueuedUrl::new(robots_url, item.hops, None, CaptureKind::Robots);
            self.frontier.put_back(item);
            if self.frontier.add_urgent(robots_item) {
                self.frontier.block(&host);
            } else {
                // Already fetched in an earlier run whose answer was not kept: go without.
                tracing::warn!(host, "robots.txt already fetched; no rules for this host");
                robots.learn(&host, Some(404), b"");
            }
            return Gate::Held;
        }
        match robots.allowed(&item.url) {
            Ok(()) => Gate::Go(item),
            Err(reason) => {
                self.frontier
                    .finished(&item, UrlState::Rejected, Some(reason));
                if self.frontier.reject(&item, reason) {
                    Counts::bump(&mut self.counts.rejected, reason);
                }
                Gate::Refused
            }
        }
    }

    /// Count a rejected URL once, however often it is linked; true the first time.
    pub(super) fn count_rejection(&mut self, item: &QueuedUrl, reason: &str) -> bool {
        if self.frontier.reject(item, reason) {
            Counts::bump(&mut self.counts.rejected, reason);
            return true;
        }
        false
    }

    /// A robots.txt fetch ended for good (`None`: no response at all): learn its rules,
    /// queue its sitemaps if asked to, release the host's queue.
    pub(super) fn learn_robots(&mut self, item: &QueuedUrl, ex: Option<&crate::fetch::Exchange>) {
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
                if let Some(delay) = robots.crawl_delay(&host) {
                    self.politeness.set_crawl_delay(&host, delay);
                }
                if self.limits.sitemaps && (200..300).contains(&ex.status) {
                    for url in crate::extract::sitemap::robots_sitemaps(&body, &ex.url) {
                        let sitemap =
                            QueuedUrl::new(url, 0, Some(ex.url.clone()), CaptureKind::Sitemap);
                        self.offer(sitemap, false);
                    }
                }
            }
            None => robots.learn(&host, None, b""),
        }
        self.frontier.unblock(&host);
    }

    /// A sitemap's URLs become extra seeds (scope still applies); nested sitemaps are queued.
    pub(super) fn enqueue_sitemap(&mut self, from: &QueuedUrl, ex: &crate::fetch::Exchange) {
        if !(200..300).contains(&ex.status) {
            return;
        }
        let encoding = ex
            .headers
            .get(http::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok());
        let Ok(body) = crate::extract::decode::decode_content(&ex.payload, encoding, 50 << 20)
        else {
            return;
        };
        let found = crate::extract::sitemap::parse_sitemap(&body.bytes, &ex.url, 50_000);
        for url in found.sitemaps {
            let item = QueuedUrl::new(url, 0, Some(from.url.clone()), CaptureKind::Sitemap);
            self.offer(item, false);
        }
        for url in found.urls {
            let item = QueuedUrl::new(url, 0, Some(from.url.clone()), CaptureKind::Seed);
            self.offer(item, false);
        }
    }
}

/// `index.cdxj`, appended as records are written (held until each checkpoint, like
/// captures.jsonl) and sorted bytewise when the crawl ends, so replay tools can use the crawl
/// without an indexing step.
pub(super) struct LiveIndex {
    pub(super) path: std::path::PathBuf,
    pub(super) out: JournalFile,
}

impl LiveIndex {
    pub(super) fn open(path: &std::path::Path, committed: u64) -> std::io::Result<LiveIndex> {
        Ok(LiveIndex {
            path: path.to_path_buf(),
            out: JournalFile::open(path, committed)?,
        })
    }

    pub(super) fn append(&mut self, fields: &cdxj::CdxjFields) {
        let mut line = cdxj::cdxj_line(fields).into_bytes();
        line.push(b'\n');
        self.out.append(&line);
    }

    pub(super) fn flush(&mut self) -> std::io::Result<u64> {
        self.out.flush()
    }

    pub(super) fn finish(&mut self) -> std::io::Result<()> {
        self.out.sync()?;
        cdxj::sort_index_file(&self.path)
    }
}
