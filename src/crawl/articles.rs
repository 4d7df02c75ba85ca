//! Articles during a crawl: queueing of comment pages, and `extracted.jsonl`, where each article's pages are merged
//! into one line.
//!
//! An article whose page links to comment pages is held until every one of them is done
//! (captured, failed or refused), then written; one without comment pages is written at
//! once. Held articles live in frontier.db (tables `articles_pending` and `articles_waiting`,
//! written with each commit; only those changed since the last commit are in memory), so
//! memory does not grow with them and a resumed crawl still has them. What is still held
//! when the crawl ends (a comment page was never fetched) is written then, with the comments
//! that did arrive. extracted.jsonl is cut back to the last commit on resume, like
//! captures.jsonl.
//!
//! A page is part of an article when it is the article page itself (its URL is its
//! [`article_key`]) or a comment page queued from one of its pages. Other variants of an
//! article URL (`?replytocom=N` reply forms, a comment page reached by some other link) show
//! comments the article's own pages already show and are left out, so they can neither
//! stand in for the article page nor give an article a second line. The same rule is
//! applied offline by `warcrow extract`.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::extract::article::Article;
use crate::extract::comments::paging::article_key;
use crate::extract::extracted::{CaptureRef, merge_line};
pub use crate::extract::extracted::{Extraction, extract};
use crate::manifest::{Counts, JournalFile};
use crate::scope::CaptureKind;

use super::CrawlState;
use super::frontier::QueuedUrl;
use super::store::{Store, StoreError};

/// Articles waiting for comment pages, and the `extracted.jsonl` writer.
pub(super) struct ArticleLog {
    out: JournalFile,
    /// By article key, changed since the last commit (None: written, so removed).
    pending: HashMap<String, Option<Pending>>,
    /// Queued comment page URL → its article key, changed since the last commit.
    waiting: HashMap<String, Option<String>>,
}

#[derive(Default, Serialize, Deserialize)]
struct Pending {
    pages: Vec<(Article, CaptureRef)>,
    outstanding: usize,
}

impl ArticleLog {
    /// Open extracted.jsonl, cut back to `committed` bytes.
    pub(super) fn open(path: &Path, committed: u64) -> std::io::Result<ArticleLog> {
        Ok(ArticleLog {
            out: JournalFile::open(path, committed)?,
            pending: HashMap::new(),
            waiting: HashMap::new(),
        })
    }

    fn waiting_key(&self, url: &str, store: &Store) -> Result<Option<String>, StoreError> {
        match self.waiting.get(url) {
            Some(k) => Ok(k.clone()),
            None => store.article_waiting(url),
        }
    }

    fn take_pending(&mut self, key: &str, store: &Store) -> Result<Pending, StoreError> {
        Ok(match self.pending.remove(key) {
            Some(p) => p.unwrap_or_default(),
            None => store
                .article_pending(key)?
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_default(),
        })
    }

    /// A queued comment page redirected: its target stands in for it.
    pub(super) fn redirected(
        &mut self,
        from: &Url,
        to: &Url,
        store: &Store,
    ) -> std::io::Result<()> {
        if let Some(key) = self.waiting_key(from.as_str(), store)? {
            self.waiting.insert(from.to_string(), None);
            self.waiting.insert(to.to_string(), Some(key));
        }
        Ok(())
    }

    /// Whether `url` is an article page or a comment page one of them asked for.
    pub(super) fn follows(&self, url: &Url, store: &Store) -> std::io::Result<bool> {
        Ok(article_key(url) == *url || self.waiting_key(url.as_str(), store)?.is_some())
    }

    /// `url` is done (captured, failed or refused); `page` is its article if it had one,
    /// `queued` the comment pages it led to that were queued now.
    pub(super) fn done(
        &mut self,
        url: &Url,
        page: Option<(Article, CaptureRef)>,
        queued: Vec<Url>,
        store: &Store,
    ) -> std::io::Result<()> {
        let waited = self.waiting_key(url.as_str(), store)?;
        if waited.is_some() {
            self.waiting.insert(url.to_string(), None);
        }
        let page = page.filter(|_| waited.is_some() || article_key(url) == *url);
        if waited.is_none() && page.is_none() {
            return Ok(());
        }
        let key = waited
            .clone()
            .unwrap_or_else(|| article_key(url).to_string());
        let mut entry = self.take_pending(&key, store)?;
        if waited.is_some() {
            entry.outstanding = entry.outstanding.saturating_sub(1);
        }
        entry.pages.extend(page);
        for q in queued {
            if self.waiting_key(q.as_str(), store)?.is_none() {
                self.waiting.insert(q.to_string(), Some(key.clone()));
                entry.outstanding += 1;
            }
        }
        if entry.outstanding == 0 {
            self.pending.insert(key, None);
            self.write(entry)?;
        } else {
            self.pending.insert(key, Some(entry));
        }
        Ok(())
    }

    fn write(&mut self, p: Pending) -> std::io::Result<()> {
        if let Some(line) = merge_line(p.pages) {
            let mut text = serde_json::to_vec(&line)?;
            text.push(b'\n');
            self.out.append(&text);
        }
        Ok(())
    }

    /// Hand what changed to the store (committed with the next checkpoint) and write the
    /// finished lines; returns extracted.jsonl's length.
    pub(super) fn flush(&mut self, store: &mut Store) -> std::io::Result<u64> {
        for (key, p) in self.pending.drain() {
            let json = p.and_then(|p| serde_json::to_string(&p).ok());
            store.put_article_pending(&key, json);
        }
        for (url, key) in self.waiting.drain() {
            store.put_article_waiting(&url, key);
        }
        self.out.flush()
    }

    /// The crawl ended: write what is still held, in key order for stable output.
    pub(super) fn finish(&mut self, store: &mut Store) -> std::io::Result<()> {
        let mut held: Vec<(String, Pending)> = store
            .all_articles_pending()?
            .into_iter()
            .filter(|(k, _)| !self.pending.contains_key(k))
            .filter_map(|(k, json)| Some((k, serde_json::from_str(&json).ok()?)))
            .collect();
        held.extend(self.pending.drain().filter_map(|(k, p)| Some((k, p?))));
        held.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, p) in held {
            store.put_article_pending(&key, None);
            self.write(p)?;
        }
        self.waiting.clear();
        self.out.sync()
    }
}

impl CrawlState {
    /// Queues a page's comment pages at the page's own hop count, so `max_hops` does not cut
    /// an article's comments short; scope and exclude rules still decide. Returns those
    /// queued now.
    pub(super) fn enqueue_comment_pages(&mut self, from: &QueuedUrl, pages: &[Url]) -> Vec<Url> {
        let mut queued = Vec::new();
        match self.articles.follows(&from.url, self.frontier.store()) {
            Ok(true) => {}
            Ok(false) => return queued,
            Err(e) => {
                tracing::warn!("frontier database: {e}");
                return queued;
            }
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
        self.articles
            .done(&c.item.url, page, queued, self.frontier.store())
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
