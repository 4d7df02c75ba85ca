//! `JOBDIR/dedup.db`: what earlier runs of a job captured, so a later run is incremental.
//!
//! ```sql
//! urls(url TEXT PRIMARY KEY,        -- as captured
//!      etag TEXT, last_modified TEXT, -- the validators of its latest 2xx answer
//!      digest TEXT NOT NULL,          -- the payload digest of that answer
//!      orig_uri, orig_date, orig_record_id,   -- the record holding that payload
//!      orig_warc_path, orig_offset)           -- and where it is, relative to JOBDIR
//! payloads(digest TEXT PRIMARY KEY,  -- first capture of each payload in the job
//!      uri, date, record_id, warc_path, offset)
//! runs(run TEXT PRIMARY KEY)         -- runs already added
//! ```
//!
//! A run reads it ([`JobIndex::prior`]) to send `If-None-Match` / `If-Modified-Since` and to
//! write a 304 as a `server-not-modified` revisit, or a 200 whose payload an earlier run
//! stored as an `identical-payload-digest` revisit, both pointing at the earlier record.
//!
//! Entries are added only after a run has ended ([`ingest_run`]), from the lines of its
//! captures.jsonl, which list only records that were committed to its WARC files (see
//! `crawl/store.rs`): a run that failed or was killed adds what it did write, and never an
//! entry pointing at a record that is not there. One transaction per run.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use crate::archive::record::{OriginalCapture, warc_date};
use crate::manifest::CaptureLineIn;

pub const DB_NAME: &str = "dedup.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    digest TEXT NOT NULL,
    orig_uri TEXT NOT NULL,
    orig_date TEXT NOT NULL,
    orig_record_id TEXT NOT NULL,
    orig_warc_path TEXT NOT NULL,
    orig_offset INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS payloads (
    digest TEXT PRIMARY KEY,
    uri TEXT NOT NULL,
    date TEXT NOT NULL,
    record_id TEXT NOT NULL,
    warc_path TEXT NOT NULL,
    offset INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (run TEXT PRIMARY KEY);
";

#[derive(Debug, thiserror::Error)]
pub enum DedupError {
    #[error("job dedup index {path}: {source}")]
    Db {
        path: String,
        source: rusqlite::Error,
    },
    #[error("cannot read the run's captures {path}: {source}")]
    Captures {
        path: String,
        source: std::io::Error,
    },
}

/// What earlier runs know of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorUrl {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The payload digest of its latest 2xx answer, and the record that holds that payload.
    pub digest: String,
    pub original: OriginalCapture,
    /// The original record's file, and the offset of its gzip member there.
    pub warc_path: std::path::PathBuf,
    pub offset: u64,
}

/// Read access for a running crawl (shared by its workers).
pub struct JobIndex {
    conn: Mutex<Connection>,
    job_dir: std::path::PathBuf,
}

fn open(job_dir: &Path) -> Result<Connection, DedupError> {
    let path = job_dir.join(DB_NAME);
    let err = |source| DedupError::Db {
        path: path.display().to_string(),
        source,
    };
    let conn = Connection::open(&path).map_err(err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(err)?;
    conn.execute_batch(SCHEMA).map_err(err)?;
    Ok(conn)
}

impl JobIndex {
    pub fn open(job_dir: &Path) -> Result<JobIndex, DedupError> {
        Ok(JobIndex {
            conn: Mutex::new(open(job_dir)?),
            job_dir: job_dir.to_path_buf(),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A poisoned lock means a worker panicked while querying; the connection is fine.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The latest earlier capture of `url`, if any. (Errors count as "none": an incremental
    /// run that cannot ask simply fetches in full.)
    pub fn prior(&self, url: &str) -> Option<PriorUrl> {
        let conn = self.conn();
        let row = conn
            .prepare_cached(
                "SELECT etag, last_modified, digest, orig_uri, orig_date, orig_record_id, \
                 orig_warc_path, orig_offset FROM urls WHERE url = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([url], |r| {
                    Ok(PriorUrl {
                        etag: r.get(0)?,
                        last_modified: r.get(1)?,
                        digest: r.get(2)?,
                        original: OriginalCapture {
                            uri: r.get(3)?,
                            date: r.get(4)?,
                            record_id: r.get(5)?,
                        },
                        warc_path: self.job_dir.join(r.get::<_, String>(6)?),
                        offset: r.get(7)?,
                    })
                })
                .optional()
            });
        row.unwrap_or_else(|e| {
            tracing::warn!("job dedup index: {e}");
            None
        })
    }

    /// The earlier capture holding this payload, if any.
    pub fn payload(&self, digest: &str) -> Option<OriginalCapture> {
        crate::crawl::payload_original(&self.conn(), digest).unwrap_or_else(|e| {
            tracing::warn!("job dedup index: {e}");
            None
        })
    }
}

/// What one run added to the index.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ingested {
    pub urls: usize,
    pub payloads: usize,
}

/// Add a finished (or failed, or killed) run's committed captures to the job's index.
/// `run_dir` is the run's crawl folder inside `job_dir`. Adding a run twice adds nothing.
pub fn ingest_run(job_dir: &Path, run_dir: &Path, run: &str) -> Result<Ingested, DedupError> {
    let mut conn = open(job_dir)?;
    let path = job_dir.join(DB_NAME).display().to_string();
    let err = |source| DedupError::Db {
        path: path.clone(),
        source,
    };
    // A run that never started has no captures.jsonl: nothing to add. Any other read error
    // must not mark the run as added, or its captures would never be.
    let captures_path = run_dir.join("captures.jsonl");
    let read_err = |source| DedupError::Captures {
        path: captures_path.display().to_string(),
        source,
    };
    let captures = match std::fs::File::open(&captures_path) {
        Ok(f) => Some(std::io::BufReader::new(f)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(read_err(e)),
    };
    let rel = run_dir
        .strip_prefix(job_dir)
        .unwrap_or(run_dir)
        .join("warc");
    let tx = conn.transaction().map_err(err)?;
    let mut added = Ingested::default();
    let fresh = tx
        .execute("INSERT OR IGNORE INTO runs(run) VALUES (?1)", [run])
        .map_err(err)?;
    if let (1, Some(captures)) = (fresh, captures) {
        for line in std::io::BufRead::lines(captures) {
            let line = line.map_err(read_err)?;
            let Ok(c) = serde_json::from_str::<CaptureLineIn>(&line) else {
                continue;
            };
            added = add_line(&tx, &c, &rel, added).map_err(err)?;
        }
    }
    tx.commit().map_err(err)?;
    Ok(added)
}

fn add_line(
    tx: &rusqlite::Transaction,
    c: &CaptureLineIn,
    rel: &Path,
    mut added: Ingested,
) -> Result<Ingested, rusqlite::Error> {
    let (Some(status), Some(digest), Some(record_id), Some(file), Some(offset)) = (
        c.status,
        &c.payload_digest,
        &c.record_id,
        &c.warc_file,
        c.warc_offset,
    ) else {
        return Ok(added);
    };
    if c.retry_at.is_some() || c.truncated.is_some() {
        return Ok(added);
    }
    let Ok(date) = chrono::DateTime::parse_from_rfc3339(&c.fetched_at) else {
        return Ok(added);
    };
    let date = warc_date(date.with_timezone(&chrono::Utc));
    let revisit = c.record_type.as_deref() == Some("revisit");
    let original = match (status, revisit) {
        (200..=299, false) => {
            let n = tx.execute(
                "INSERT OR IGNORE INTO payloads(digest, uri, date, record_id, warc_path, offset) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    digest,
                    c.url,
                    date,
                    record_id,
                    rel.join(file).to_string_lossy(),
                    offset
                ],
            )?;
            added.payloads += n;
            Some((
                digest.clone(),
                c.url.clone(),
                date,
                record_id.clone(),
                rel.join(file).to_string_lossy().into_owned(),
                offset,
            ))
        }
        // A revisit of a payload: the record holding it is the payload's first capture.
        (200..=299, true) => tx
            .query_row(
                "SELECT uri, date, record_id, warc_path, offset FROM payloads WHERE digest = ?1",
                [digest],
                |r| {
                    Ok((
                        digest.clone(),
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                    ))
                },
            )
            .optional()?,
        // Not modified: the URL's payload is still the one on record; new validators only.
        (304, _) => {
            added.urls += tx.execute(
                "UPDATE urls SET etag = coalesce(?2, etag), \
                 last_modified = coalesce(?3, last_modified) WHERE url = ?1",
                params![c.url, c.etag, c.last_modified],
            )?;
            None
        }
        _ => None,
    };
    if let Some((digest, uri, date, record_id, warc_path, offset)) = original {
        added.urls += tx.execute(
            "INSERT INTO urls(url, etag, last_modified, digest, orig_uri, orig_date, \
             orig_record_id, orig_warc_path, orig_offset) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
             ?8, ?9) ON CONFLICT(url) DO UPDATE SET etag = ?2, last_modified = ?3, \
             digest = ?4, orig_uri = ?5, orig_date = ?6, orig_record_id = ?7, \
             orig_warc_path = ?8, orig_offset = ?9",
            params![
                c.url,
                c.etag,
                c.last_modified,
                digest,
                uri,
                date,
                record_id,
                warc_path,
                offset
            ],
        )?;
    }
    Ok(added)
}
