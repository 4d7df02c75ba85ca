//! Accounting for one finished try of a URL: counters, its captures.jsonl and index.cdxj
//! lines, whether to try again (see `retry.rs`), and what it led to (links, redirect
//! target, comment pages, robots.txt rules, sitemap URLs).

use chrono::SecondsFormat;
use tokio::time::Instant;
use url::Url;

use crate::archive::cdxj;
use crate::manifest::{CaptureLine, Counts, ErrorInfo, Failure};
use crate::scope::CaptureKind;

use super::frontier::QueuedUrl;
use super::retry::{self, Verdict};
use super::state::CrawlState;
use super::store::UrlState;
use super::worker::{Captured, Outcome};

fn header_text(ex: &crate::fetch::Exchange, name: http::header::HeaderName) -> Option<String> {
    ex.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn jitter() -> f64 {
    0.75 + rand::random::<f64>() * 0.5
}

impl CrawlState {
    /// Account for one finished try.
    pub(super) fn record(&mut self, outcome: Outcome) -> std::io::Result<()> {
        match outcome {
            Outcome::Captured(c) => self.record_capture(*c),
            Outcome::Failed {
                item,
                error,
                started_at,
            } => {
                let failure = retry::Failure::Network(&error);
                let info = ErrorInfo {
                    kind: error.kind().into(),
                    message: error.to_string(),
                };
                let verdict = self.verdict(&item, Some(&failure));
                tracing::info!(url = %item.url, "fetch failed: {error}");
                Counts::bump(&mut self.counts.by_outcome, "failed");
                let retry_at = self.settle(item.clone(), &verdict, Some(&info), None);
                if retry_at.is_none() {
                    Counts::bump(&mut self.counts.by_kind, item.kind.as_str());
                    if item.kind == CaptureKind::Robots {
                        self.learn_robots(&item, None);
                    }
                    self.articles
                        .done(&item.url, None, Vec::new(), self.frontier.store())?;
                }
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
                    attempt: (item.attempts > 1).then_some(item.attempts),
                    retry_at,
                    record_id: None,
                    etag: None,
                    last_modified: None,
                })
            }
            // The records were not written: the URL stays claimed, so a resumed crawl fetches
            // it again.
            Outcome::WriteFailed { item, .. } => {
                self.frontier.put_back(item);
                Ok(())
            }
        }
    }

    fn verdict(&mut self, item: &QueuedUrl, failure: Option<&retry::Failure>) -> Verdict {
        let verdict = self
            .retry
            .verdict(item.attempts, failure, chrono::Utc::now(), jitter());
        let host = item.host().to_string();
        if failure.is_some_and(retry::RetryPolicy::is_retryable) {
            let in_a_row = self.frontier.host_failed(&host);
            if in_a_row >= 2 {
                let hold = self.retry.host_backoff(in_a_row - 1, jitter());
                self.frontier.hold_host(&host, Instant::now() + hold);
            }
            if in_a_row >= self.retry.host_give_up_after {
                let n = self.frontier.give_up_host(&host, "host_given_up");
                tracing::warn!(host, "{in_a_row} failures in a row: host given up");
                Counts::bump(&mut self.counts.by_outcome, "host_given_up");
                self.failures.push(Failure {
                    url: format!("{}://{}/", item.url.scheme(), host),
                    status: None,
                    error: ErrorInfo {
                        kind: "host_given_up".into(),
                        message: format!(
                            "{in_a_row} failures in a row; {n} queued URLs of the host not fetched"
                        ),
                    },
                });
            }
        } else {
            self.frontier.host_answered(&host);
        }
        verdict
    }

    /// Free the URL's slot: retry it later, or mark it done or failed. Returns when the next
    /// try is due (for captures.jsonl), if there is one.
    fn settle(
        &mut self,
        item: QueuedUrl,
        verdict: &Verdict,
        error: Option<&ErrorInfo>,
        status: Option<u16>,
    ) -> Option<String> {
        match verdict {
            Verdict::Retry { after, hold_host } if !self.frontier.host_given_up(item.host()) => {
                Counts::bump(&mut self.counts.by_outcome, "retry_scheduled");
                let at = Instant::now() + *after;
                if *hold_host {
                    self.frontier.hold_host(item.host(), at);
                }
                self.frontier.retry(item, at);
                let wall = chrono::Utc::now()
                    + chrono::Duration::from_std(*after).unwrap_or(chrono::Duration::zero());
                Some(wall.to_rfc3339_opts(SecondsFormat::Millis, true))
            }
            _ => {
                let (state, reason) = match (verdict, error) {
                    (Verdict::GiveUp { reason }, _) => (UrlState::Failed, Some(*reason)),
                    (_, Some(e)) if status.is_none() => (UrlState::Failed, Some(e.kind.as_str())),
                    _ => (UrlState::Done, None),
                };
                self.frontier.finished(&item, state, reason);
                if let Some(e) = error {
                    let mut e = e.clone();
                    if let Verdict::GiveUp { reason } = verdict {
                        e.message = format!(
                            "{} (given up: {reason}, {} tries)",
                            e.message, item.attempts
                        );
                    }
                    self.failures.push(Failure {
                        url: item.url.to_string(),
                        status,
                        error: e,
                    });
                }
                None
            }
        }
    }

    fn record_capture(&mut self, mut c: Captured) -> std::io::Result<()> {
        if let Some(original) = c.original.take() {
            self.frontier
                .store_mut()
                .put_payload(&c.payload_digest, original);
        }
        let ex = &c.exchange;
        let end = c.response.offset + c.response.length;
        let e = self.warc_ends.entry(c.response.file.clone()).or_insert(0);
        *e = (*e).max(end);
        let retry_after = ex
            .headers
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok());
        let failure = retry::Failure::Status {
            status: ex.status,
            retry_after,
        };
        let verdict = self.verdict(&c.item, Some(&failure));
        self.counts.pages += 1;
        self.counts.payload_bytes += ex.payload.len() as u64;
        Counts::bump(&mut self.counts.by_status, &ex.status.to_string());
        match (&c.revisit_of, ex.status) {
            (Some(_), 304) => Counts::bump(&mut self.counts.by_outcome, "revisit_not_modified"),
            (Some(_), _) => Counts::bump(&mut self.counts.by_outcome, "revisit"),
            _ => {}
        }
        let extract_error = self.count_extraction(&c.extraction);
        let error = if ex.status >= 400 {
            let reason = http::StatusCode::from_u16(ex.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            Counts::bump(&mut self.counts.by_outcome, "http_error");
            Some(ErrorInfo {
                kind: "http".into(),
                message: format!("HTTP {} {reason}", ex.status)
                    .trim_end()
                    .to_string(),
            })
        } else if let Some(msg) = &c.extract_error {
            Counts::bump(&mut self.counts.by_outcome, "extract_error");
            Some(ErrorInfo {
                kind: "extract".into(),
                message: msg.clone(),
            })
        } else {
            Counts::bump(&mut self.counts.by_outcome, "captured");
            None
        };
        if let Some(t) = ex.truncated {
            Counts::bump(
                &mut self.counts.by_outcome,
                &format!("truncated_{}", t.as_str()),
            );
        }
        let retry_at = self.settle(c.item.clone(), &verdict, error.as_ref(), Some(ex.status));
        let is_revisit = c.revisit_of.is_some();
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
            record_type: Some(if is_revisit { "revisit" } else { "response" }),
            revisit_of: c.revisit_of.as_ref().map(|o| o.uri.clone()),
            error,
            extract_error,
            attempt: (c.item.attempts > 1).then_some(c.item.attempts),
            retry_at: retry_at.clone(),
            record_id: Some(c.record_id.clone()),
            etag: header_text(ex, http::header::ETAG),
            last_modified: header_text(ex, http::header::LAST_MODIFIED),
        })?;
        // A 304's revisit is not indexed: pywb (2.10) replays a revisit whose HTTP status
        // is 3xx as that status with no body, so an indexed 304 would replay as an empty
        // page. Unindexed, replay at that time shows the capture the 304 confirmed. The
        // record stays in the WARC, listed in captures.jsonl.
        if !(is_revisit && ex.status == 304) {
            self.index.append(&cdxj::CdxjFields {
                url: ex.url.as_str(),
                warc_date: ex.started_at,
                mime: if is_revisit {
                    Some("warc/revisit")
                } else {
                    ex.content_type()
                },
                status: Some(ex.status),
                digest: &c.payload_digest,
                length: c.response.length,
                offset: c.response.offset,
                filename: &c.response.file,
            });
        }
        if retry_at.is_some() {
            // Tried again later: what this answer links to is not followed.
            return Ok(());
        }
        Counts::bump(&mut self.counts.by_kind, c.item.kind.as_str());
        match c.item.kind {
            CaptureKind::Robots => self.learn_robots(&c.item, Some(ex)),
            CaptureKind::Sitemap => self.enqueue_sitemap(&c.item, ex),
            _ => {}
        }
        if let Some(target) = &c.redirect_to {
            self.enqueue_redirect(&c.item, target);
        }
        // Comment pages first, so they are queued as such rather than as outlinks.
        let queued = self.enqueue_comment_pages(&c.item, &c.comment_pages);
        for link in &c.links {
            self.enqueue_link(&c.item, &link.url, link.kind);
        }
        self.article_done(c, queued)
    }
}
