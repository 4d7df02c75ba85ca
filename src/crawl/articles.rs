//! Articles during a crawl: queueing of comment pages, and `extracted.jsonl`, where each article's pages are merged
//! into one line.
//!
//! An article whose page links to comment pages is held until every one of them is done
//! (captured, failed or refused), then written; one without comment pages is written at
//! once. Only articles with comment pages outstanding are in memory. What is still held when
//! the crawl ends (stopped early, or a comment page was never fetched) is written then, with
//! the comments that did arrive.
//!
//! A page is part of an article when it is the article page itself (its URL is its
//! [`article_key`]) or a comment page queued from one of its pages. Other variants of an
//! article URL (`?replytocom=N` reply forms, a comment page reached by some other link) show
//! comments the article's own pages already show and are left out, so they can neither
//! stand in for the article page nor give an article a second line. The same rule is
//! applied offline by `warcrow extract`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use url::Url;

use crate::extract::article::Article;
use crate::extract::comments::paging::article_key;
use crate::extract::extracted::{CaptureRef, merge_line};
pub use crate::extract::extracted::{Extraction, extract};
use crate::manifest::Counts;
use crate::scope::CaptureKind;

use super::CrawlState;
use super::frontier::QueuedUrl;

/// Articles waiting for comment pages, and the `extracted.jsonl` writer.
pub(super) struct ArticleLog {
    out: BufWriter<File>,
    /// By article key: the pages extracted so far and how many comment pages are outstanding.
    pending: HashMap<String, Pending>,
    /// Queued comment page URL → its article key.
    waiting: HashMap<String, String>,
}

#[derive(Default)]
struct Pending {
    pages: Vec<(Article, CaptureRef)>,
    outstanding: usize,
}

impl ArticleLog {
    pub(super) fn create(path: &Path) -> std::io::Result<ArticleLog> {
        // Written afresh: a resumed crawl rebuilds it from its WARCs at the end.
        let file = File::create(path)?;
        Ok(ArticleLog {
            out: BufWriter::with_capacity(64 * 1024, file),
            pending: HashMap::new(),
            waiting: HashMap::new(),
        })
    }

    /// A queued comment page redirected: its target stands in for it.
    pub(super) fn redirected(&mut self, from: &Url, to: &Url) {
        if let Some(key) = self.waiting.remove(from.as_str()) {
            self.waiting.insert(to.to_string(), key);
        }
    }

    /// Whether `url` is an article page or a comment page one of them asked for.
    pub(super) fn follows(&self, url: &Url) -> bool {
        self.waiting.contains_key(url.as_str()) || article_key(url) == *url
    }

    /// `url` is done (captured, failed or refused); `page` is its article if it had one,
    /// `queued` the comment pages it led to that were queued now.
    pub(super) fn done(
        &mut self,
        url: &Url,
        page: Option<(Article, CaptureRef)>,
        queued: Vec<Url>,
    ) -> std::io::Result<()> {
        let waited = self.waiting.remove(url.as_str());
        let page = page.filter(|_| waited.is_some() || article_key(url) == *url);
        if waited.is_none() && page.is_none() {
            return Ok(());
        }
        let key = waited
            .clone()
            .unwrap_or_else(|| article_key(url).to_string());
        let entry = self.pending.entry(key.clone()).or_default();
        if waited.is_some() {
            entry.outstanding = entry.outstanding.saturating_sub(1);
        }
        entry.pages.extend(page);
        for q in queued {
            if self.waiting.insert(q.to_string(), key.clone()).is_none() {
                entry.outstanding += 1;
            }
        }
        if entry.outstanding == 0
            && let Some(p) = self.pending.remove(&key)
        {
            self.write(p)?;
        }
        Ok(())
    }

    fn write(&mut self, p: Pending) -> std::io::Result<()> {
        if let Some(line) = merge_line(p.pages) {
            serde_json::to_writer(&mut self.out, &line)?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    pub(super) fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// The crawl ended: write what is still held, in key order for stable output.
    pub(super) fn finish(&mut self) -> std::io::Result<()> {
        let mut held: Vec<(String, Pending)> = self.pending.drain().collect();
        held.sort_by(|a, b| a.0.cmp(&b.0));
        self.waiting.clear();
        for (_, p) in held {
            self.write(p)?;
        }
        self.flush()?;
        self.out.get_ref().sync_data()
    }
}

impl CrawlState {
    /// Queues a page's comment pages at the page's own hop count, so `max_hops` does not cut
    /// an article's comments short; scope and exclude rules still decide. Returns those
    /// queued now.
    pub(super) fn enqueue_comment_pages(&mut self, from: &QueuedUrl, pages: &[Url]) -> Vec<Url> {
        let mut queued = Vec::new();
        if !self.articles.follows(&from.url) {
            return queued;
        }
        for url in pages {
            let item = QueuedUrl::new(
                crate::canonical::canonicalize(url),
                from.hops,
                Some(from.url.clone()),
                CaptureKind::CommentPage,
            );
            let url = item.url.clone();
            if self.offer(item, false) {
                queued.push(url);
            }
        }
        queued
    }

    /// Hands a captured page's article (if any) to the log.
    pub(super) fn article_done(
        &mut self,
        c: super::worker::Captured,
        queued: Vec<Url>,
    ) -> std::io::Result<()> {
        let page = match c.extraction {
            Extraction::Article(article) => Some((
                *article,
                CaptureRef {
                    warc_file: c.response.file,
                    warc_offset: c.response.offset,
                    fetched_at: crate::archive::record::warc_date(c.exchange.started_at),
                },
            )),
            _ => None,
        };
        self.articles.done(&c.item.url, page, queued)
    }

    /// Counts a page's extraction; returns its error for captures.jsonl.
    pub(super) fn count_extraction(&mut self, e: &Extraction) -> Option<String> {
        if !matches!(e, Extraction::Skipped) {
            Counts::bump(&mut self.counts.extracted, e.as_str());
        }
        match e {
            Extraction::Failed(msg) => Some(msg.clone()),
            _ => None,
        }
    }
}
