//! CDXJ index lines, the format webrecorder's `cdxj-indexer` writes and pywb/ReplayWeb.page
//! read: `<SURT key> <14-digit timestamp> <JSON>`.
//!
//! Owns: which records are indexed, the line format, and sorting index files.
//!
//! Invariants, all chosen to give lines byte-identical to `cdxj-indexer` 1.5 (default options)
//! for the same record:
//! * indexed: `response`, `revisit`, `resource` and `metadata` records, except
//!   `resource`/`metadata` records whose Content-Type is exactly `application/warc-fields`;
//!   never `request` or `warcinfo`;
//! * JSON keys in the order `url, mime, status, digest, length, offset, filename`, all values
//!   strings, a key left out when the record has no value for it; serialised like Python's
//!   `json.dumps` (`", "`/`": "` separators, non-ASCII as `\uXXXX`);
//! * `mime`: `warc/revisit` for revisits; else the media type of the HTTP Content-Type
//!   (response) or of the WARC Content-Type (resource, metadata), cut at the first `;` or
//!   blank, case kept as written;
//! * `status` only for response and revisit records with an HTTP head;
//! * `digest`: `WARC-Payload-Digest` as written, else sha1 of the payload computed by the
//!   reader (none for revisits);
//! * `offset`/`length`: the record's gzip member (see [`reader`]);
//! * the timestamp: the first 14 digits of `WARC-Date` (a zone offset is ignored, as warcio does).
//!
//! Not written: `method`/`requestBody` and the `__wb_method=` key suffix for non-GET
//! requests; cdxj-indexer adds them only with `--post-append`.

mod sort;
mod surt;

use std::io;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::reader::{self, Framing, Record};
pub use surt::surt;

/// What an index line says about one capture, as the crawler knows it when writing.
#[derive(Debug, Clone)]
pub struct CdxjFields<'a> {
    pub url: &'a str,
    pub warc_date: DateTime<Utc>,
    /// Media type of the HTTP Content-Type (parameters dropped), `warc/revisit` for a
    /// revisit; `None` when the response has no Content-Type (the key is then left out).
    pub mime: Option<&'a str>,
    pub status: Option<u16>,
    /// The record's `WARC-Payload-Digest`, as written.
    pub digest: &'a str,
    pub length: u64,
    pub offset: u64,
    /// The WARC file's base name.
    pub filename: &'a str,
}

/// One CDXJ line (no newline) for a record the crawler has just written.
pub fn cdxj_line(f: &CdxjFields) -> String {
    let status = f.status.map(|s| s.to_string());
    let fields = [
        ("mime", f.mime.map(media_type)),
        ("status", status.as_deref()),
        ("digest", Some(f.digest)),
    ];
    build_line(
        &surt(f.url),
        &f.warc_date.format("%Y%m%d%H%M%S").to_string(),
        Some(f.url),
        &fields,
        f.length,
        f.offset,
        f.filename,
    )
}

/// The CDXJ line for a record read from any WARC file, or `None` for records that are not
/// indexed (see the module docs) or cannot be reached by offset (a shared gzip member).
pub fn entry_from_record(rec: &Record, filename: &str) -> Option<String> {
    if matches!(rec.framing, Framing::SharedGzipMember { .. }) {
        return None;
    }
    let kind = rec.record_type()?;
    let warc_type = rec.get("Content-Type");
    match kind {
        "response" | "revisit" => {}
        "resource" | "metadata" if warc_type != Some("application/warc-fields") => {}
        _ => return None,
    }
    // warcio percent-encodes spaces in target URIs before anything else sees them.
    let url = rec.target_uri().map(|u| u.replace(' ', "%20"));
    let head = if rec.has_http_block() {
        rec.http_head().ok()
    } else {
        None
    };
    let mime = match kind {
        "revisit" => Some("warc/revisit"),
        "response" => head.as_ref().and_then(|h| h.headers.get("Content-Type")),
        _ => warc_type,
    }
    .map(media_type);
    let status = head.as_ref().map(|h| h.second_word.as_str());
    let digest = rec
        .get("WARC-Payload-Digest")
        .or(rec.computed_payload_digest.as_deref());
    let ts = timestamp(rec.get("WARC-Date").unwrap_or(""));
    let key = surt(url.as_deref().unwrap_or(""));
    let fields = [("mime", mime), ("status", status), ("digest", digest)];
    Some(build_line(
        &key,
        &ts,
        url.as_deref(),
        &fields,
        rec.length,
        rec.offset,
        filename,
    ))
}

/// `text/html; charset=utf-8` → `text/html`, as cdxj-indexer cuts it.
fn media_type(value: &str) -> &str {
    reader::media_type(value)
}

/// The first 14 digits of a WARC-Date, padded with zeros if it has fewer.
fn timestamp(date: &str) -> String {
    let mut ts: String = date.chars().filter(char::is_ascii_digit).take(14).collect();
    while ts.len() < 14 {
        ts.push('0');
    }
    ts
}

fn build_line(
    key: &str,
    ts: &str,
    url: Option<&str>,
    middle: &[(&str, Option<&str>)],
    length: u64,
    offset: u64,
    filename: &str,
) -> String {
    let (length, offset) = (length.to_string(), offset.to_string());
    let mut json = String::from("{");
    let all = std::iter::once(("url", url))
        .chain(middle.iter().copied())
        .chain([
            ("length", Some(length.as_str())),
            ("offset", Some(offset.as_str())),
            ("filename", Some(filename)),
        ]);
    for (name, value) in all {
        let Some(value) = value else { continue };
        if json.len() > 1 {
            json.push_str(", ");
        }
        push_json_string(&mut json, name);
        json.push_str(": ");
        push_json_string(&mut json, value);
    }
    json.push('}');
    format!("{key} {ts} {json}")
}

/// A JSON string as Python's `json.dumps` writes it (ASCII only). serde_json cannot escape
/// non-ASCII, and lines must match cdxj-indexer's byte for byte.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// Sorts lines bytewise (the order of `LC_ALL=C sort`), dropping exact duplicates as
/// cdxj-indexer does.
pub fn sort_lines(lines: &mut Vec<String>) {
    lines.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    lines.dedup();
}

/// Sort an index file in place, bytewise, duplicates dropped, in bounded memory (see
/// [`sort`]).
pub fn sort_index_file(path: &Path) -> io::Result<()> {
    sort::sort_lines_file(path, sort::RUN_BYTES)
}

#[cfg(test)]
mod tests;
