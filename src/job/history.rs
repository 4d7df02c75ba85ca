//! A job's comment history: the `extracted.jsonl` of every run merged, so each article has
//! every comment ever seen with when it was first and last seen, and each run can be told
//! apart by what it found new. Runs are found and read by `history/runs.rs`.
//!
//! Invariants:
//! - Runs are taken in run order (see `runs.rs`); a comment's `first_seen` / `last_seen` are
//!   the `fetched_at` of the article capture of the first / last run whose line showed it.
//! - Comments are matched across runs by the platform's id; comments without one (the
//!   extractor's positional `n1`, `n2`… ids, which shift when a comment is added above) by
//!   author + published + text, then by author + text (a relative date such as "3 hours ago"
//!   resolves to a different `published` in each run).
//! - Ids in history lines are stable across runs: the platform's id, or `h` + 16 hex digits
//!   of the SHA-256 of the comment's author, published and text when first seen (`-2`, `-3`…
//!   for identical comments in one thread). `parent` names these ids too.
//! - A comment missing from a later run's line stays, in its place in the thread, its
//!   `last_seen` telling when it was last there. An article missing from a run is not
//!   changed by it: it was not refetched, so absence says nothing about its comments.
//! - Article metadata, text and capture are the latest run's.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use crate::extract::article::Article;
use crate::extract::comments::Comment;
use crate::extract::extracted::{CaptureRef, ExtractedLine};

#[cfg(test)]
mod fixture;
mod runs;
#[cfg(test)]
mod tests;

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("{0}: not a job folder (it has no runs/ and no runs.jsonl)")]
    NotAJob(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{job}: no run {crawl_id} in this job")]
    UnknownRun { job: PathBuf, crawl_id: String },
}

/// Whether `path` is a job folder (it holds `runs/` or `runs.jsonl`) rather than a crawl folder.
pub fn is_job_dir(path: &Path) -> bool {
    path.join(runs::RUNS_INDEX).is_file() || path.join(runs::RUNS_DIR).is_dir()
}

/// A comment as the job has seen it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryComment {
    /// Its latest content; `id` and `parent` are history ids (see the module doc).
    #[serde(flatten)]
    pub comment: Comment,
    /// `fetched_at` of the first run's capture that showed it.
    pub first_seen: String,
    /// `fetched_at` of the last run's capture that showed it: earlier than the article's
    /// `last_seen` when it has since disappeared.
    pub last_seen: String,
}

/// One article of a job: an `extracted.jsonl` line (same keys, the latest run's values)
/// whose comments carry when they were seen, plus when and in which runs the article was.
/// The fields are spelt out rather than flattened from [`Article`] because `comments` has
/// another type here; [`ArticleState::to_line`] destructures `Article` without `..`, so a
/// field added there fails to compile until it is added here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryLine {
    pub url: String,
    pub canonical_url: Option<String>,
    pub title: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
    pub language: Option<String>,
    pub tags: Vec<String>,
    pub text: String,
    pub word_count: usize,
    /// In thread order, comments gone from later runs kept in their place.
    pub comments: Vec<HistoryComment>,
    /// The latest capture of the article page; its WARC is in the crawl folder of the last
    /// run in `runs`.
    #[serde(flatten)]
    pub capture: CaptureRef,
    pub comment_pages: Vec<String>,
    /// `fetched_at` of the first run's capture of the article.
    pub first_seen: String,
    /// `fetched_at` of the last run's capture of the article.
    pub last_seen: String,
    /// Crawl ids of the runs the article appeared in, in run order.
    pub runs: Vec<String>,
}

/// Every article of the job's runs, merged: its latest metadata, and every comment ever seen
/// (matched across runs by comment id, else by author+published+text hash), each with
/// `first_seen` (the fetched_at of the first run's capture that showed it) and `last_seen`,
/// and the article's `first_seen` / `last_seen` / `runs` (crawl ids where it appeared).
/// Sorted by URL.
pub fn job_history(job_dir: &Path) -> Result<Vec<HistoryLine>, HistoryError> {
    let (history, _) = History::build(job_dir, None)?;
    Ok(history
        .articles
        .values()
        .map(|a| a.to_line(|_| true))
        .collect())
}

/// For one run: only what is new in it compared with all earlier runs — articles not seen
/// before (whole), and for known articles only the comments not seen before (article line
/// with just the new comments). Same line shape as extracted.jsonl plus `first_seen`.
/// Articles whose comments are all known give no line. Sorted by URL.
pub fn run_news(job_dir: &Path, crawl_id: &str) -> Result<Vec<HistoryLine>, HistoryError> {
    let (history, run) = History::build(job_dir, Some(crawl_id))?;
    Ok(history
        .articles
        .values()
        .filter(|a| a.last_run == run)
        .filter_map(|a| {
            let line = a.to_line(|c| c.first_run == run);
            // A new article is news even without comments; a known one only with new ones.
            (a.first_run == run || !line.comments.is_empty()).then_some(line)
        })
        .collect())
}

/// URLs of articles found by earlier runs whose `published` date is within `days` of now
/// (articles without a date: use the first_seen date), newest first — the seeds of a
/// "recent_articles" group (the job runner calls this to refetch growing comment threads).
/// A job that cannot be read gives no URLs (and a warning): the group then has nothing to do.
pub fn recent_articles(job_dir: &Path, days: u32) -> Vec<Url> {
    recent_articles_at(job_dir, days, Utc::now())
}

fn recent_articles_at(job_dir: &Path, days: u32, now: DateTime<Utc>) -> Vec<Url> {
    let history = match History::build(job_dir, None) {
        Ok((h, _)) => h,
        Err(e) => {
            tracing::warn!("no recent articles: {e}");
            return Vec::new();
        }
    };
    // `days` comes from config: a span past chrono's range means "no limit", not a panic.
    let cutoff = TimeDelta::try_days(days.into()).and_then(|d| now.checked_sub_signed(d));
    let mut found: Vec<(DateTime<Utc>, Url)> = history
        .articles
        .values()
        .filter_map(|a| {
            let date = a
                .meta
                .published
                .as_deref()
                .and_then(parse_utc)
                .or_else(|| parse_utc(&a.first_seen))?;
            if cutoff.is_some_and(|c| date < c) {
                return None;
            }
            Some((date, Url::parse(&a.meta.url).ok()?))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.as_str().cmp(b.1.as_str())));
    found.into_iter().map(|(_, u)| u).collect()
}

fn parse_utc(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// A comment and when it was seen; `first_run` is the run's index in run order.
struct Tracked {
    comment: Comment,
    first_seen: String,
    last_seen: String,
    first_run: usize,
}

/// One article across the runs read so far.
struct ArticleState {
    /// The latest line's article, without its comments.
    meta: Article,
    capture: CaptureRef,
    comment_pages: Vec<String>,
    /// In history order.
    comments: Vec<Tracked>,
    first_seen: String,
    last_seen: String,
    runs: Vec<String>,
    first_run: usize,
    last_run: usize,
}

#[derive(Default)]
struct History {
    /// By article URL: sorted, so lines come out in URL order like `warcrow extract`'s.
    articles: BTreeMap<String, ArticleState>,
}

impl History {
    /// The history of the runs up to and including `last` (all runs when `None`), and the
    /// index of the last run read.
    fn build(job_dir: &Path, last: Option<&str>) -> Result<(History, usize), HistoryError> {
        let mut all = runs::list_runs(job_dir)?;
        if let Some(id) = last {
            let Some(pos) = all.iter().position(|r| r.crawl_id == id) else {
                return Err(HistoryError::UnknownRun {
                    job: job_dir.to_path_buf(),
                    crawl_id: id.to_string(),
                });
            };
            all.truncate(pos + 1);
        }
        let mut history = History::default();
        for (i, run) in all.iter().enumerate() {
            for line in runs::read_extracted(run)? {
                history.add(i, &run.crawl_id, line);
            }
        }
        Ok((history, all.len().saturating_sub(1)))
    }

    fn add(&mut self, run: usize, crawl_id: &str, mut line: ExtractedLine) {
        let comments = std::mem::take(&mut line.article.comments);
        let at = line.capture.fetched_at.clone();
        let state = self
            .articles
            .entry(line.article.url.clone())
            .or_insert_with(|| ArticleState {
                meta: Article::default(),
                capture: line.capture.clone(),
                comment_pages: Vec::new(),
                comments: Vec::new(),
                first_seen: at.clone(),
                last_seen: at.clone(),
                runs: Vec::new(),
                first_run: run,
                last_run: run,
            });
        state.observe_comments(comments, run, &at);
        state.meta = line.article;
        state.capture = line.capture;
        state.comment_pages = line.comment_pages;
        state.last_seen = at;
        state.last_run = run;
        if state.runs.last().map(String::as_str) != Some(crawl_id) {
            state.runs.push(crawl_id.to_string());
        }
    }
}

/// The extractor's stand-in id for a comment the page gave none (`n1`, `n2`…): positional,
/// so it means nothing across runs.
fn is_generated_id(id: &str) -> bool {
    id.strip_prefix('n')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

type ExactKey = (Option<String>, Option<String>, String);
type LooseKey = (Option<String>, String);

fn exact_key(c: &Comment) -> ExactKey {
    (c.author.clone(), c.published.clone(), c.text.clone())
}

fn loose_key(c: &Comment) -> LooseKey {
    (c.author.clone(), c.text.clone())
}

fn content_id(c: &Comment) -> String {
    let mut h = Sha256::new();
    for part in [c.author.as_deref(), c.published.as_deref(), Some(&c.text)] {
        h.update(part.unwrap_or_default().as_bytes());
        // Separators keep ("ab", "c") and ("a", "bc") apart.
        h.update([0u8]);
    }
    let digest = h.finalize();
    format!("h{}", data_encoding::HEXLOWER.encode(&digest[..8]))
}

/// Takes the first index in `map[key]` not yet matched.
fn take_first<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, VecDeque<usize>>,
    key: &K,
    taken: &[bool],
) -> Option<usize> {
    let queue = map.get_mut(key)?;
    while let Some(i) = queue.pop_front() {
        if !taken.get(i).copied().unwrap_or(true) {
            return Some(i);
        }
    }
    None
}

impl ArticleState {
    /// Merges one run's comments (in its thread order) into the history.
    fn observe_comments(&mut self, incoming: Vec<Comment>, run: usize, at: &str) {
        let old_len = self.comments.len();
        let mut taken = vec![false; old_len];
        let mut by_id: HashMap<String, usize> = HashMap::new();
        let mut exact: HashMap<ExactKey, VecDeque<usize>> = HashMap::new();
        let mut loose: HashMap<LooseKey, VecDeque<usize>> = HashMap::new();
        for (i, t) in self.comments.iter().enumerate() {
            by_id.insert(t.comment.id.clone(), i);
            exact.entry(exact_key(&t.comment)).or_default().push_back(i);
            loose.entry(loose_key(&t.comment)).or_default().push_back(i);
        }
        // Exact matches for everything first, so a loose match cannot take a comment that
        // another one in this run matches exactly.
        let mut matched: Vec<Option<usize>> = Vec::with_capacity(incoming.len());
        for c in &incoming {
            let m = if is_generated_id(&c.id) {
                take_first(&mut exact, &exact_key(c), &taken)
            } else {
                by_id.get(&c.id).copied().filter(|&i| !taken[i])
            };
            if let Some(i) = m {
                taken[i] = true;
            }
            matched.push(m);
        }
        for (c, m) in incoming.iter().zip(matched.iter_mut()) {
            if m.is_none() && is_generated_id(&c.id) {
                *m = take_first(&mut loose, &loose_key(c), &taken);
                if let Some(i) = *m {
                    taken[i] = true;
                }
            }
        }

        // This run's ids → history ids, so `parent` can be rewritten.
        let mut used: HashSet<String> =
            self.comments.iter().map(|t| t.comment.id.clone()).collect();
        let mut local: HashMap<String, String> = HashMap::new();
        for (c, m) in incoming.iter().zip(&matched) {
            let id = match m.and_then(|i| self.comments.get(i)) {
                Some(t) => t.comment.id.clone(),
                None if !is_generated_id(&c.id) => c.id.clone(),
                None => {
                    let base = content_id(c);
                    let mut id = base.clone();
                    let mut n = 1;
                    while used.contains(&id) {
                        n += 1;
                        id = format!("{base}-{n}");
                    }
                    id
                }
            };
            used.insert(id.clone());
            local.insert(c.id.clone(), id);
        }

        let mut present: Vec<usize> = Vec::with_capacity(incoming.len());
        for (mut c, m) in incoming.into_iter().zip(matched) {
            if let Some(id) = local.get(&c.id) {
                c.id = id.clone();
            }
            // A parent on no captured page keeps the id the page gave it.
            c.parent = c.parent.map(|p| local.get(&p).cloned().unwrap_or(p));
            match m.and_then(|i| self.comments.get_mut(i).map(|t| (i, t))) {
                Some((i, t)) => {
                    t.comment = c;
                    t.last_seen = at.to_string();
                    present.push(i);
                }
                None => {
                    present.push(self.comments.len());
                    self.comments.push(Tracked {
                        comment: c,
                        first_seen: at.to_string(),
                        last_seen: at.to_string(),
                        first_run: run,
                    });
                }
            }
        }
        self.reorder(&present, &taken);
    }

    /// Puts the comments in this run's order, each comment gone from it right after the
    /// comment it followed before (the nearest earlier one still present), so a deleted
    /// reply stays under its thread.
    fn reorder(&mut self, present: &[usize], taken: &[bool]) {
        let mut after: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
        let mut anchor = None;
        for (i, &still) in taken.iter().enumerate() {
            if still {
                anchor = Some(i);
            } else {
                after.entry(anchor).or_default().push(i);
            }
        }
        let mut order: Vec<usize> = after.remove(&None).unwrap_or_default();
        for &i in present {
            order.push(i);
            order.extend(after.remove(&Some(i)).unwrap_or_default());
        }
        let mut slots: Vec<Option<Tracked>> = std::mem::take(&mut self.comments)
            .into_iter()
            .map(Some)
            .collect();
        self.comments = order
            .into_iter()
            .filter_map(|i| slots.get_mut(i).and_then(Option::take))
            .collect();
    }

    /// The article's line with the comments `keep` selects.
    fn to_line(&self, keep: impl Fn(&Tracked) -> bool) -> HistoryLine {
        let Article {
            url,
            canonical_url,
            title,
            authors,
            published,
            modified,
            language,
            tags,
            text,
            word_count,
            comments: _,
        } = self.meta.clone();
        HistoryLine {
            url,
            canonical_url,
            title,
            authors,
            published,
            modified,
            language,
            tags,
            text,
            word_count,
            comments: self
                .comments
                .iter()
                .filter(|t| keep(t))
                .map(|t| HistoryComment {
                    comment: t.comment.clone(),
                    first_seen: t.first_seen.clone(),
                    last_seen: t.last_seen.clone(),
                })
                .collect(),
            capture: self.capture.clone(),
            comment_pages: self.comment_pages.clone(),
            first_seen: self.first_seen.clone(),
            last_seen: self.last_seen.clone(),
            runs: self.runs.clone(),
        }
    }
}
