//! `pages/pages.jsonl`: the header line the WACZ spec requires, then one line per captured
//! HTML page (status 200, `text/html` or `application/xhtml+xml`) from `captures.jsonl`,
//! seeds first so the list opens where the crawl started.
//!
//! `captures.jsonl` is streamed twice (seeds, then the rest) rather than held in memory: a
//! crawl may have millions of lines. A line that does not parse (the last one of a crawl that
//! was killed, say) is skipped with a warning.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::WaczError;
use super::zipout::{Entries, Method};

const HEADER: &str = r#"{"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}"#;

/// The first page listed: `mainPageUrl` / `mainPageDate` of `datapackage.json`.
#[derive(Debug, Clone)]
pub struct MainPage {
    pub url: String,
    pub ts: String,
}

/// The fields of a `captures.jsonl` line that pages need.
#[derive(Debug, Deserialize)]
struct Capture {
    url: String,
    status: Option<u16>,
    content_type: Option<String>,
    fetched_at: String,
    kind: Option<String>,
    warc_file: Option<String>,
    /// Set by crawls that extract it; the URL stands in when absent.
    title: Option<String>,
}

#[derive(Debug, Serialize)]
struct Page<'a> {
    id: String,
    url: &'a str,
    ts: &'a str,
    title: &'a str,
}

/// Writes `pages/pages.jsonl`; returns the first page, if there is one.
pub fn write(entries: &mut Entries, captures: &Path) -> Result<Option<MainPage>, WaczError> {
    let mut main = None;
    let mut count = 0u64;
    entries.entry("pages/pages.jsonl", Method::Deflated, false, |w| {
        let werr = WaczError::io("write pages of", captures);
        let mut out = Vec::with_capacity(512);
        w.write_all(HEADER.as_bytes())
            .and_then(|_| w.write_all(b"\n"))
            .map_err(werr)?;
        for seeds in [true, false] {
            for_each_page(captures, seeds, |cap, ts| {
                let page = Page {
                    id: page_id(&cap.url, &ts),
                    url: &cap.url,
                    ts: &ts,
                    title: cap
                        .title
                        .as_deref()
                        .filter(|t| !t.trim().is_empty())
                        .unwrap_or(&cap.url),
                };
                out.clear();
                // Serialising plain strings into a Vec cannot fail.
                if serde_json::to_writer(&mut out, &page).is_ok() {
                    out.push(b'\n');
                    w.write_all(&out)
                        .map_err(WaczError::io("write pages of", captures))?;
                    count += 1;
                }
                if main.is_none() {
                    main = Some(MainPage {
                        url: cap.url.clone(),
                        ts: ts.clone(),
                    });
                }
                Ok(())
            })?;
        }
        Ok(())
    })?;
    if count == 0 {
        tracing::warn!("no HTML page with status 200 was captured: pages.jsonl lists none");
    }
    tracing::debug!(pages = count, "pages.jsonl written");
    Ok(main)
}

/// Calls `f` with every HTML page capture that is (`seeds`) or is not a seed, and its `ts`.
fn for_each_page<F>(captures: &Path, seeds: bool, mut f: F) -> Result<(), WaczError>
where
    F: FnMut(Capture, String) -> Result<(), WaczError>,
{
    let file = File::open(captures).map_err(WaczError::io("open", captures))?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut line = String::new();
    let mut line_no = 0u64;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(WaczError::io("read", captures))?;
        if n == 0 {
            return Ok(());
        }
        line_no += 1;
        if line.trim().is_empty() {
            continue;
        }
        let cap: Capture = match serde_json::from_str(&line) {
            Ok(c) => c,
            Err(e) => {
                // Warn once per file, in the first pass only.
                if seeds {
                    tracing::warn!(line = line_no, error = %e, "skipping a bad captures.jsonl line");
                }
                continue;
            }
        };
        if (cap.kind.as_deref() == Some("seed")) != seeds || !is_html_page(&cap) {
            continue;
        }
        let Some(ts) = rfc3339(&cap.fetched_at) else {
            if seeds {
                tracing::warn!(line = line_no, "skipping a capture with a bad fetched_at");
            }
            continue;
        };
        f(cap, ts)?;
    }
}

fn is_html_page(cap: &Capture) -> bool {
    let mime = cap
        .content_type
        .as_deref()
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    cap.status == Some(200)
        && cap.warc_file.is_some()
        && matches!(
            mime.as_deref(),
            Some("text/html") | Some("application/xhtml+xml")
        )
}

/// `fetched_at` in UTC with a `Z`, microseconds kept (one spelling whatever offset it had).
fn rfc3339(fetched_at: &str) -> Option<String> {
    let t = DateTime::parse_from_rfc3339(fetched_at).ok()?;
    Some(
        t.with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::Micros, true),
    )
}

/// A stable id: the same capture gets the same id in every package.
fn page_id(url: &str, ts: &str) -> String {
    let digest = Sha256::new()
        .chain_update(ts.as_bytes())
        .chain_update(b" ")
        .chain_update(url.as_bytes())
        .finalize();
    data_encoding::HEXLOWER.encode(&digest[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(status: u16, ct: &str) -> Capture {
        Capture {
            url: "http://a/".into(),
            status: Some(status),
            content_type: Some(ct.into()),
            fetched_at: "2024-01-01T00:00:00.000001Z".into(),
            kind: None,
            warc_file: Some("x.warc.gz".into()),
            title: None,
        }
    }

    #[test]
    fn html_pages_only() {
        assert!(is_html_page(&cap(200, "text/html; charset=utf-8")));
        assert!(is_html_page(&cap(200, "Application/XHTML+xml")));
        assert!(!is_html_page(&cap(404, "text/html")));
        assert!(!is_html_page(&cap(200, "text/css")));
    }

    #[test]
    fn timestamps_normalised_to_utc() {
        assert_eq!(
            rfc3339("2024-01-01T01:00:00.5+01:00").as_deref(),
            Some("2024-01-01T00:00:00.500000Z")
        );
        assert_eq!(rfc3339("yesterday"), None);
    }
}
