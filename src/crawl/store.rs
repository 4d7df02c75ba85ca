//! The crawl's persistent state: one SQLite file, `<crawl>/frontier.db` (rusqlite, SQLite
//! bundled so no system library is needed).
//!
//! # On-disk format
//!
//! ```sql
//! urls(id INTEGER PRIMARY KEY,   -- insertion order: breadth-first order within a host
//!      key TEXT UNIQUE,          -- the seen-set key (canonical URL, trap params removed)
//!      url, host, hops, via, kind, requisite,
//!      state INTEGER,            -- 0 queued, 1 claimed, 2 done, 3 failed, 4 rejected
//!      priority INTEGER,         -- 0 goes first (redirect targets, robots.txt), then 1
//!      attempts INTEGER,         -- tries made so far
//!      reason TEXT)              -- why failed or rejected
//! index urls_queue(host, priority, id) WHERE state = 0
//! meta(k TEXT PRIMARY KEY, v TEXT)  -- crawl id, seeds, config, and the checkpoint
//! payloads(digest TEXT PRIMARY KEY, -- originals for revisits (see archive/dedup.rs):
//!          uri, date, record_id)     -- the first committed full capture of each payload
//! ```
//!
//! # Invariants
//!
//! * Every URL the crawl ever queued or rejected has exactly one row (the key is unique), so
//!   nothing is queued twice, across restarts too.
//! * `claimed` means "taken from the disk queue by the running crawler" (held in its
//!   per-host buffer or being fetched). A crawler that is killed leaves claimed rows behind;
//!   [`Store::open`] puts them back to `queued`, so they are fetched again.
//! * Changes are batched in memory and applied in one transaction by [`Store::commit`],
//!   together with the checkpoint (counters, the committed lengths of captures.jsonl and
//!   index.cdxj, and the committed end of every WARC file). So after a crash the database
//!   describes exactly the outcomes whose captures lines and WARC records are below the
//!   committed lengths; resume cuts anything written after them (see `resume.rs`).
//!
//! WAL journal with `synchronous = NORMAL`: a commit is atomic and survives the process
//! being killed; only a power cut may lose the last commits, which resume then treats as
//! never made (the files are cut back to the older checkpoint).

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::archive::dedup::CommittedOriginals;
use crate::archive::record::OriginalCapture;
use crate::scope::CaptureKind;

use super::frontier::QueuedUrl;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlState {
    Queued = 0,
    Claimed = 1,
    Done = 2,
    Failed = 3,
    Rejected = 4,
}

/// A row change waiting for the next commit.
enum Op {
    Insert {
        item: QueuedUrl,
        state: UrlState,
        priority: u8,
        reason: Option<String>,
    },
    State {
        key: String,
        state: UrlState,
        attempts: u32,
        reason: Option<String>,
    },
    /// An article waiting for comment pages (None: written, so forgotten).
    ArticlePending { key: String, json: Option<String> },
    /// A comment page's article (None: the page is done).
    ArticleWaiting { url: String, key: Option<String> },
    /// The original capture of a payload, for later revisits.
    Payload {
        digest: String,
        capture: OriginalCapture,
    },
    /// Queued rows of a host, all at once (the host was given up).
    HostState {
        host: String,
        state: UrlState,
        reason: String,
    },
}

/// What a commit records besides the URL rows: enough to cut the output files back to it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Checkpoint {
    pub counts: crate::manifest::Counts,
    pub captures_len: u64,
    pub index_len: u64,
    #[serde(default)]
    pub extracted_len: u64,
    /// Committed end of each WARC file (by final name): everything after it is uncommitted.
    pub warc_ends: std::collections::BTreeMap<String, u64>,
    /// Seconds crawled so far, over all runs (for `crawl.max_duration_secs`).
    pub elapsed_secs: f64,
}

pub struct Store {
    conn: Connection,
    ops: Vec<Op>,
}

#[derive(Debug, thiserror::Error)]
#[error("frontier database: {0}")]
pub struct StoreError(#[from] rusqlite::Error);

impl From<StoreError> for std::io::Error {
    fn from(e: StoreError) -> Self {
        std::io::Error::other(e)
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS urls (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    host TEXT NOT NULL,
    hops INTEGER NOT NULL,
    via TEXT,
    kind TEXT NOT NULL,
    requisite INTEGER NOT NULL,
    state INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS urls_queue ON urls(host, priority, id) WHERE state = 0;
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles_pending (key TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles_waiting (url TEXT PRIMARY KEY, key TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payloads (
    digest TEXT PRIMARY KEY,
    uri TEXT NOT NULL,
    date TEXT NOT NULL,
    record_id TEXT NOT NULL
) WITHOUT ROWID;
";

/// Rows whose queue state the crawler needs at start: everything but their URL text.
pub struct KnownKey {
    pub key: String,
    pub host: String,
    pub state: UrlState,
}

impl Store {
    fn connect(path: &Path) -> Result<Connection, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(conn)
    }

    /// A new, empty store.
    pub fn create(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            conn: Self::connect(path)?,
            ops: Vec::new(),
        })
    }

    /// An existing store; URLs claimed by a crawler that died go back to the queue.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Self::connect(path)?;
        conn.execute("UPDATE urls SET state = 0 WHERE state = 1", [])?;
        // A robots.txt not fetched yet is asked for again when its host comes up.
        conn.execute("DELETE FROM urls WHERE kind = 'robots' AND state = 0", [])?;
        Ok(Store {
            conn,
            ops: Vec::new(),
        })
    }

    pub fn set_meta(&self, k: &str, v: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta(k, v) VALUES (?1, ?2) ON CONFLICT(k) DO UPDATE SET v = ?2",
            params![k, v],
        )?;
        Ok(())
    }

    pub fn meta(&self, k: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT v FROM meta WHERE k = ?1", [k], |r| r.get(0))
            .optional()?)
    }

    pub fn insert(&mut self, item: &QueuedUrl, state: UrlState, front: bool) {
        self.ops.push(Op::Insert {
            item: item.clone(),
            state,
            priority: if front { 0 } else { 1 },
            reason: None,
        });
    }

    pub fn insert_rejected(&mut self, item: &QueuedUrl, reason: &str) {
        self.ops.push(Op::Insert {
            item: item.clone(),
            state: UrlState::Rejected,
            priority: 1,
            reason: Some(reason.to_string()),
        });
    }

    pub fn set_state(&mut self, item: &QueuedUrl, state: UrlState, reason: Option<&str>) {
        self.ops.push(Op::State {
            key: item.key.clone(),
            state,
            attempts: item.attempts,
            reason: reason.map(str::to_owned),
        });
    }

    /// Every queued row of `host` becomes `state` (a host given up).
    pub fn set_host_queued(&mut self, host: &str, state: UrlState, reason: &str) {
        self.ops.push(Op::HostState {
            host: host.to_string(),
            state,
            reason: reason.to_string(),
        });
    }

    pub fn put_article_pending(&mut self, key: &str, json: Option<String>) {
        self.ops.push(Op::ArticlePending {
            key: key.to_string(),
            json,
        });
    }

    pub fn put_article_waiting(&mut self, url: &str, key: Option<String>) {
        self.ops.push(Op::ArticleWaiting {
            url: url.to_string(),
            key,
        });
    }

    pub fn article_pending(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT state FROM articles_pending WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    pub fn article_waiting(&self, url: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT key FROM articles_waiting WHERE url = ?1")?
            .query_row([url], |r| r.get(0))
            .optional()?)
    }

    pub fn all_articles_pending(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, state FROM articles_pending")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// `capture` holds the payload `digest` in full: later captures of it may be revisits.
    pub fn put_payload(&mut self, digest: &str, capture: OriginalCapture) {
        self.ops.push(Op::Payload {
            digest: digest.to_string(),
            capture,
        });
    }

    /// Every committed payload digest (to rebuild the in-memory filter on resume).
    pub fn for_each_payload(&self, mut f: impl FnMut(&str)) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare("SELECT digest FROM payloads")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            f(r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?);
        }
        Ok(())
    }

    /// Changes waiting for the next commit.
    pub fn pending(&self) -> usize {
        self.ops.len()
    }

    /// Apply every pending change and the checkpoint in one transaction. Returns the payload
    /// digests it committed.
    pub fn commit(&mut self, checkpoint: &Checkpoint) -> Result<Vec<String>, StoreError> {
        let mut payloads = Vec::new();
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO urls(key, url, host, hops, via, kind, requisite, state, \
                 priority, attempts, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE urls SET state = ?2, attempts = ?3, reason = ?4 WHERE key = ?1",
            )?;
            let mut host_update = tx.prepare_cached(
                "UPDATE urls SET state = ?2, reason = ?3 WHERE host = ?1 AND state IN (0, 1)",
            )?;
            for op in self.ops.drain(..) {
                match op {
                    Op::Insert {
                        item,
                        state,
                        priority,
                        reason,
                    } => {
                        insert.execute(params![
                            item.key,
                            item.url.as_str(),
                            item.host(),
                            item.hops,
                            item.via.as_ref().map(|v| v.as_str()),
                            item.kind.as_str(),
                            item.requisite,
                            state as u8,
                            priority,
                            item.attempts,
                            reason,
                        ])?;
                    }
                    Op::State {
                        key,
                        state,
                        attempts,
                        reason,
                    } => {
                        update.execute(params![key, state as u8, attempts, reason])?;
                    }
                    Op::HostState {
                        host,
                        state,
                        reason,
                    } => {
                        host_update.execute(params![host, state as u8, reason])?;
                    }
                    Op::Payload { digest, capture } => {
                        tx.prepare_cached(
                            "INSERT OR IGNORE INTO payloads(digest, uri, date, record_id) \
                             VALUES (?1, ?2, ?3, ?4)",
                        )?
                        .execute(params![
                            digest,
                            capture.uri,
                            capture.date,
                            capture.record_id
                        ])?;
                        payloads.push(digest);
                    }
                    Op::ArticlePending {
                        key,
                        json: Some(json),
                    } => {
                        tx.prepare_cached(
                            "INSERT INTO articles_pending(key, state) VALUES (?1, ?2) \
                             ON CONFLICT(key) DO UPDATE SET state = ?2",
                        )?
                        .execute(params![key, json])?;
                    }
                    Op::ArticlePending { key, json: None } => {
                        tx.prepare_cached("DELETE FROM articles_pending WHERE key = ?1")?
                            .execute([key])?;
                    }
                    Op::ArticleWaiting {
                        url,
                        key: Some(key),
                    } => {
                        tx.prepare_cached(
                            "INSERT INTO articles_waiting(url, key) VALUES (?1, ?2) \
                             ON CONFLICT(url) DO UPDATE SET key = ?2",
                        )?
                        .execute(params![url, key])?;
                    }
                    Op::ArticleWaiting { url, key: None } => {
                        tx.prepare_cached("DELETE FROM articles_waiting WHERE url = ?1")?
                            .execute([url])?;
                    }
                }
            }
            let json = serde_json::to_string(checkpoint).unwrap_or_default();
            tx.execute(
                "INSERT INTO meta(k, v) VALUES ('checkpoint', ?1) \
                 ON CONFLICT(k) DO UPDATE SET v = ?1",
                [json],
            )?;
        }
        tx.commit()?;
        Ok(payloads)
    }

    pub fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        Ok(self
            .meta("checkpoint")?
            .and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// Take up to `limit` queued URLs of `host` in queue order and mark them claimed.
    /// Pending changes must have been committed first (the caller checks [`Store::pending`]).
    pub fn claim(&mut self, host: &str, limit: usize) -> Result<Vec<QueuedUrl>, StoreError> {
        let tx = self.conn.transaction()?;
        let mut items = Vec::new();
        {
            let mut select = tx.prepare_cached(
                "SELECT key, url, hops, via, kind, requisite, attempts FROM urls \
                 WHERE host = ?1 AND state = 0 ORDER BY priority, id LIMIT ?2",
            )?;
            let rows = select.query_map(params![host, limit as i64], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, bool>(5)?,
                    r.get::<_, u32>(6)?,
                ))
            })?;
            for row in rows {
                let (key, url, hops, via, kind, requisite, attempts) = row?;
                // Rows are written by this module from parsed URLs; one that does not parse
                // back is skipped (and stays queued) rather than stopping the crawl.
                let Ok(url) = url::Url::parse(&url) else {
                    continue;
                };
                items.push(QueuedUrl {
                    key,
                    url,
                    hops,
                    via: via.and_then(|v| url::Url::parse(&v).ok()),
                    kind: CaptureKind::parse(&kind).unwrap_or(CaptureKind::Outlink),
                    requisite,
                    attempts,
                });
            }
            let mut mark = tx.prepare_cached("UPDATE urls SET state = 1 WHERE key = ?1")?;
            for item in &items {
                mark.execute([&item.key])?;
            }
        }
        tx.commit()?;
        Ok(items)
    }

    /// Every key with its host and state, to rebuild the in-memory seen set and queue counts.
    pub fn for_each_key(&self, mut f: impl FnMut(KnownKey)) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare("SELECT key, host, state FROM urls")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let state = match r.get::<_, u8>(2)? {
                0 => UrlState::Queued,
                1 => UrlState::Claimed,
                2 => UrlState::Done,
                3 => UrlState::Failed,
                _ => UrlState::Rejected,
            };
            f(KnownKey {
                key: r.get(0)?,
                host: r.get(1)?,
                state,
            });
        }
        Ok(())
    }
}

/// Committed originals read back for revisits, on a connection of their own (the workers
/// look them up while the crawl loop writes; WAL lets both go on at once).
pub struct PayloadReader {
    conn: std::sync::Mutex<Connection>,
}

impl PayloadReader {
    pub fn open(path: &Path) -> Result<PayloadReader, StoreError> {
        // Read-write though it only reads: the last connection to close checkpoints the WAL
        // into frontier.db and removes it, and this one may well be the last.
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Lookups are rare (only digests known to be committed): a small page cache will do.
        conn.pragma_update(None, "cache_size", -256)?;
        Ok(PayloadReader {
            conn: std::sync::Mutex::new(conn),
        })
    }
}

impl CommittedOriginals for PayloadReader {
    fn original(&self, digest: &str) -> Option<OriginalCapture> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        payload_original(&conn, digest).unwrap_or_else(|e| {
            // Storing the payload in full again loses nothing.
            tracing::warn!("looking up the original of {digest}: {e}");
            None
        })
    }
}

/// The original of `digest` in a `payloads(digest, uri, date, record_id)` table: the crawl's
/// (frontier.db) or a job's (dedup.db).
pub(crate) fn payload_original(
    conn: &Connection,
    digest: &str,
) -> rusqlite::Result<Option<OriginalCapture>> {
    conn.prepare_cached("SELECT uri, date, record_id FROM payloads WHERE digest = ?1")?
        .query_row([digest], |r| {
            Ok(OriginalCapture {
                uri: r.get(0)?,
                date: r.get(1)?,
                record_id: r.get(2)?,
            })
        })
        .optional()
}

#[cfg(test)]
mod tests;
