//! The JSON metadata of a crawl: `captures.jsonl` (one line per fetched URL, appended as the
//! crawl goes) and `manifest.json` (the whole crawl, written atomically at checkpoints and at
//! the end: temp file, fsync, rename).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::archive::WarcFileInfo;

/// Why a URL produced no (or an unusable) capture.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub kind: String,
    pub message: String,
}

/// One line of `captures.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureLine {
    pub url: String,
    pub status: Option<u16>,
    pub content_type: Option<String>,
    /// RFC 3339, when the request went out (the records' WARC-Date).
    pub fetched_at: String,
    pub hops: u32,
    pub via: Option<String>,
    pub kind: &'static str,
    pub warc_file: Option<String>,
    /// Offset and length of the response record's gzip member.
    pub warc_offset: Option<u64>,
    pub warc_length: Option<u64>,
    /// Offset of the request record, which sits just before the response.
    pub request_offset: Option<u64>,
    pub payload_digest: Option<String>,
    /// Payload bytes as received (content-coding kept).
    pub bytes: Option<u64>,
    pub duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_to: Option<String>,
    /// The `<title>` of an HTML page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// "response", or "revisit" when the payload repeats an earlier capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_type: Option<&'static str>,
    /// For a revisit: the URL of the capture holding the payload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revisit_of: Option<String>,
    /// Links found in the page, before scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// Why content extraction failed on this page (the capture itself is fine).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extract_error: Option<String>,
    /// Which try of the URL this was, when it was not the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Set when the URL will be tried again: when (RFC 3339). Such a line is not final.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<String>,
    /// The WARC-Record-ID of the response or revisit record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// The response's validators, for the conditional requests of a job's later runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// The fields of a captures.jsonl line that resume reads back.
#[derive(Debug, Clone, Deserialize)]
pub struct CaptureLineIn {
    pub url: String,
    pub status: Option<u16>,
    pub fetched_at: String,
    pub kind: String,
    pub warc_file: Option<String>,
    pub warc_offset: Option<u64>,
    pub warc_length: Option<u64>,
    pub payload_digest: Option<String>,
    pub bytes: Option<u64>,
    pub truncated: Option<String>,
    pub record_type: Option<String>,
    pub error: Option<ErrorInfo>,
    pub attempt: Option<u32>,
    pub retry_at: Option<String>,
    pub record_id: Option<String>,
    #[serde(default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub last_modified: Option<String>,
}

/// `captures.jsonl`: lines are held until the next checkpoint writes them (see
/// [`JournalFile`]), so the file never runs ahead of what the frontier database records.
pub struct CapturesLog {
    file: JournalFile,
}

impl CapturesLog {
    /// Open the log, cut back to `committed` bytes (what the last checkpoint recorded).
    pub fn open(path: &Path, committed: u64) -> std::io::Result<CapturesLog> {
        Ok(CapturesLog {
            file: JournalFile::open(path, committed)?,
        })
    }

    pub fn append(&mut self, line: &CaptureLine) -> std::io::Result<()> {
        let mut text = serde_json::to_vec(line)?;
        text.push(b'\n');
        self.file.append(&text);
        Ok(())
    }

    /// Write what is held; returns the file's length.
    pub fn flush(&mut self) -> std::io::Result<u64> {
        self.file.flush()
    }

    pub fn sync(&mut self) -> std::io::Result<()> {
        self.file.sync()
    }
}

/// An append-only file written in batches: appended bytes are held in memory until
/// [`JournalFile::flush`] writes them with one `write`, and the file is cut back to its last
/// committed length when reopened, so a line is never half there.
pub struct JournalFile {
    file: File,
    held: Vec<u8>,
    len: u64,
}

impl JournalFile {
    pub fn open(path: &Path, committed: u64) -> std::io::Result<JournalFile> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(path)?;
        let actual = file.metadata()?.len();
        if actual < committed {
            return Err(std::io::Error::other(format!(
                "{} is shorter ({actual} bytes) than its last checkpoint ({committed} bytes)",
                path.display()
            )));
        }
        file.set_len(committed)?;
        Ok(JournalFile {
            file,
            held: Vec::new(),
            len: committed,
        })
    }

    pub fn append(&mut self, bytes: &[u8]) {
        self.held.extend_from_slice(bytes);
    }

    pub fn flush(&mut self) -> std::io::Result<u64> {
        use std::io::Seek;
        if !self.held.is_empty() {
            self.file.seek(std::io::SeekFrom::Start(self.len))?;
            self.file.write_all(&self.held)?;
            self.len += self.held.len() as u64;
            self.held.clear();
        }
        Ok(self.len)
    }

    pub fn sync(&mut self) -> std::io::Result<()> {
        self.flush()?;
        self.file.sync_data()
    }
}

/// Counters kept while crawling.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Captures by HTTP status ("200", "404", ...).
    pub by_status: BTreeMap<String, u64>,
    /// Fetched URLs by kind (seed, outlink, requisite, redirect, comment_page).
    pub by_kind: BTreeMap<String, u64>,
    /// captured (a response was archived) / failed (no response) / truncated / http_error.
    pub by_outcome: BTreeMap<String, u64>,
    /// Discovered URLs not queued, by reason (off_scope, max_hops, excluded_by_*).
    pub rejected: BTreeMap<String, u64>,
    /// Out-of-scope outlinks by host: counted, not fetched.
    pub off_scope_hosts: BTreeMap<String, u64>,
    /// HTML pages by extraction result: article, not_article, failed.
    pub extracted: BTreeMap<String, u64>,
    /// Discovered URLs already queued or fetched.
    pub duplicates: u64,
    pub pages: u64,
    pub payload_bytes: u64,
}

impl Counts {
    pub fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
        *map.entry(key.to_string()).or_insert(0) += 1;
    }
}

/// A failed URL, listed in the manifest as well as in captures.jsonl.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub url: String,
    pub status: Option<u16>,
    pub error: ErrorInfo,
}

#[derive(Debug, Clone, Serialize)]
pub struct Software {
    pub name: &'static str,
    pub version: &'static str,
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub crawl_id: String,
    pub software: Software,
    pub seeds: Vec<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
    /// running (checkpoint), finished, limit_reached:<limit>, interrupted, failed.
    pub exit_reason: String,
    pub counts: Counts,
    pub failures: Vec<Failure>,
    pub warc_files: Vec<WarcFileInfo>,
    /// The config as used, defaults filled in.
    pub config: serde_json::Value,
}

impl Manifest {
    /// Write atomically: a reader sees the old manifest or the new one, never half of one.
    pub fn write_atomic(&self, path: &Path) -> std::io::Result<()> {
        let tmp: PathBuf = path.with_extension("json.tmp");
        {
            let mut f = BufWriter::new(File::create(&tmp)?);
            serde_json::to_writer_pretty(&mut f, self)?;
            f.write_all(b"\n")?;
            f.flush()?;
            f.get_ref().sync_all()?;
        }
        std::fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_is_replaced_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.json");
        let mut m = Manifest {
            crawl_id: "c1".into(),
            software: Software {
                name: "warcrow",
                version: "0",
            },
            seeds: vec!["http://x/".into()],
            started_at: "2026-01-01T00:00:00Z".into(),
            ended_at: None,
            exit_reason: "running".into(),
            counts: Counts::default(),
            failures: vec![],
            warc_files: vec![],
            config: serde_json::json!({}),
        };
        m.write_atomic(&path).unwrap();
        m.exit_reason = "finished".into();
        m.write_atomic(&path).unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["exit_reason"], "finished");
        assert!(!dir.path().join("manifest.json.tmp").exists());
    }
}
