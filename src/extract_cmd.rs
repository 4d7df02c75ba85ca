//! `warcrow extract`: the crawl's `extracted.jsonl` lines, made offline from WARC files (ours
//! or another tool's), WACZ files (their `archive/*.warc.gz` entries) or crawl folders (their
//! `warc/*.warc.gz`). Given a job folder instead, it prints the job's comment history, or one
//! run's news ([`run_job`]; the merging is `job/history.rs`'s).
//!
//! Owns: finding the WARCs in the inputs, turning a response record into an HTTP payload
//! (de-chunked; the content-coding is undone by [`crate::extract::decode`]), resolving
//! `revisit` records to their original's payload, and grouping pages into articles with the
//! crawl's rule (the article page plus the comment pages its pages link to; see
//! `crawl/articles.rs`). Output lines are sorted by URL.
//!
//! Two passes: the first extracts every response and notes every revisit; the second, run
//! only when revisits were seen, reads the originals they name — by
//! `WARC-Refers-To-Target-URI` + `WARC-Refers-To-Date`, else by payload digest — and
//! extracts each revisit from its original's payload, so no payload is held between passes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use url::Url;

use crate::archive::reader::{ReadError, Record, WarcReader, dechunk};
use crate::archive::record::warc_date;
use crate::extract::article::Article;
use crate::extract::comments::paging::article_key;
use crate::extract::extracted::{CaptureRef, ExtractedLine, Extraction, extract, merge_line};
use crate::extract::{decode, links};
use crate::job::history::{self, HistoryError};

#[derive(Debug, thiserror::Error)]
pub enum ExtractCmdError {
    #[error("no input given: name WARC files, WACZ files or crawl folders")]
    NoInput,
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a readable WACZ (zip): {source}")]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
    #[error("{path}: cannot read WARC records: {source}")]
    Read { path: String, source: ReadError },
    #[error("{0}: no WARC files found in this folder")]
    EmptyDir(PathBuf),
    #[error("{0}: a job folder is read on its own: give it as the only input")]
    JobAmongInputs(PathBuf),
    #[error(transparent)]
    History(#[from] HistoryError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExtractCmdError + '_ {
    move |source| ExtractCmdError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One WARC to read: a file, or an entry of a WACZ.
#[derive(Debug, Clone)]
enum Source {
    File(PathBuf),
    Wacz { zip: PathBuf, entry: String },
}

impl Source {
    /// The WARC's file name, as `warc_file` names it.
    fn file_name(&self) -> String {
        let name = match self {
            Source::File(p) => p.to_string_lossy().into_owned(),
            Source::Wacz { entry, .. } => entry.clone(),
        };
        name.rsplit(['/', '\\']).next().unwrap_or(&name).to_string()
    }

    fn describe(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Wacz { zip, entry } => format!("{}!{entry}", zip.display()),
        }
    }

    /// Calls `f` on every record. A read error ends the file (the record boundary is lost)
    /// and is returned, except garbage between members, which the reader skips past.
    fn each_record(&self, mut f: impl FnMut(&Record)) -> Result<(), ExtractCmdError> {
        let run = |reader: &mut dyn Iterator<Item = Result<Record, ReadError>>,
                   f: &mut dyn FnMut(&Record)| {
            for rec in reader {
                match rec {
                    Ok(rec) => f(&rec),
                    Err(ReadError::Garbage { .. }) => continue,
                    Err(source) => {
                        return Err(ExtractCmdError::Read {
                            path: self.describe(),
                            source,
                        });
                    }
                }
            }
            Ok(())
        };
        match self {
            Source::File(p) => {
                let file = std::fs::File::open(p).map_err(io_err(p))?;
                run(&mut WarcReader::new(std::io::BufReader::new(file)), &mut f)
            }
            Source::Wacz { zip, entry } => {
                let file = std::fs::File::open(zip).map_err(io_err(zip))?;
                let zip_err = |source| ExtractCmdError::Zip {
                    path: zip.clone(),
                    source,
                };
                let mut archive = zip::ZipArchive::new(file).map_err(zip_err)?;
                // A stored entry is the WARC's bytes as they are: offsets stay the file's.
                let member = archive.by_name(entry).map_err(zip_err)?;
                run(
                    &mut WarcReader::new(std::io::BufReader::new(member)),
                    &mut f,
                )
            }
        }
    }
}

fn is_warc_name(name: &str) -> bool {
    name.ends_with(".warc.gz") || name.ends_with(".warc")
}

/// The WARCs behind the inputs, in the order given (folders and WACZs: sorted by name).
fn sources(inputs: &[PathBuf]) -> Result<Vec<Source>, ExtractCmdError> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let warc_dir = input.join("warc");
            let dir = if warc_dir.is_dir() {
                warc_dir
            } else {
                input.clone()
            };
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(io_err(&dir))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && is_warc_name(&p.to_string_lossy()))
                .collect();
            if files.is_empty() {
                return Err(ExtractCmdError::EmptyDir(input.clone()));
            }
            files.sort();
            out.extend(files.into_iter().map(Source::File));
        } else if input.extension().is_some_and(|e| e == "wacz") {
            let file = std::fs::File::open(input).map_err(io_err(input))?;
            let archive = zip::ZipArchive::new(file).map_err(|source| ExtractCmdError::Zip {
                path: input.clone(),
                source,
            })?;
            let mut entries: Vec<String> = archive
                .file_names()
                .filter_map(Result::ok)
                .filter(|n| n.starts_with("archive/") && is_warc_name(n))
                .map(|n| n.into_owned())
                .collect();
            entries.sort();
            out.extend(entries.into_iter().map(|entry| Source::Wacz {
                zip: input.clone(),
                entry,
            }));
        } else {
            out.push(Source::File(input.clone()));
        }
    }
    Ok(out)
}

/// A page with an article, and the comment pages it links to.
struct Page {
    article: Article,
    capture: CaptureRef,
    comment_links: Vec<String>,
}

/// A revisit waiting for its original.
struct Revisit {
    url: Url,
    date: DateTime<Utc>,
    capture: CaptureRef,
    done: bool,
}

#[derive(Default)]
struct Pass {
    pages: Vec<Page>,
    revisits: Vec<Revisit>,
    /// (original URI, original date as WARC-Date) → revisits.
    by_ref: HashMap<(String, String), Vec<usize>>,
    by_digest: HashMap<String, Vec<usize>>,
    failed: u64,
}

/// Extracts the articles in `inputs` and writes them, one JSON line each, to `out` or stdout.
/// Returns how many lines were written.
/// A job folder as the only input gives the job's history instead (see [`run_job`]).
pub fn run(inputs: &[PathBuf], out: Option<&Path>) -> Result<usize, ExtractCmdError> {
    match inputs {
        [] => return Err(ExtractCmdError::NoInput),
        [job] if history::is_job_dir(job) => return run_job(job, None, out),
        _ => {}
    }
    // Otherwise the folder would be searched for WARCs and fail with a misleading "none found".
    if let Some(job) = inputs.iter().find(|p| history::is_job_dir(p)) {
        return Err(ExtractCmdError::JobAmongInputs(job.clone()));
    }
    let sources = sources(inputs)?;
    let mut pass = Pass::default();
    for src in &sources {
        let name = src.file_name();
        src.each_record(|rec| first_pass(&mut pass, rec, &name))?;
    }
    if !pass.revisits.is_empty() {
        for src in &sources {
            src.each_record(|rec| second_pass(&mut pass, rec))?;
        }
        let missing = pass.revisits.iter().filter(|r| !r.done).count();
        if missing > 0 {
            tracing::warn!("{missing} revisit records name an original not in the inputs");
        }
    }
    if pass.failed > 0 {
        tracing::warn!("{} pages could not be extracted", pass.failed);
    }
    let lines = group(pass.pages);
    write_lines(out, &lines)
}

/// Writes a job's history (`run: None`: one line per article, every comment with when it was
/// first and last seen) or what run `run` found new, to `out` or stdout. Returns how many
/// lines were written. Line shapes: `docs/extracted.md`, "Job history".
pub fn run_job(
    job_dir: &Path,
    run: Option<&str>,
    out: Option<&Path>,
) -> Result<usize, ExtractCmdError> {
    let lines = match run {
        None => history::job_history(job_dir)?,
        Some(id) => history::run_news(job_dir, id)?,
    };
    write_lines(out, &lines)
}

/// One JSON line per item; returns how many.
fn write_lines<T: serde::Serialize>(
    out: Option<&Path>,
    lines: &[T],
) -> Result<usize, ExtractCmdError> {
    let mut text = String::new();
    for line in lines {
        // Serialising plain strings and numbers cannot fail.
        text.push_str(&serde_json::to_string(line).unwrap_or_default());
        text.push('\n');
    }
    write_out(out, &text)?;
    Ok(lines.len())
}

fn write_out(out: Option<&Path>, text: &str) -> Result<(), ExtractCmdError> {
    match out {
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .map_err(io_err(Path::new("<stdout>"))),
        Some(out) => {
            let mut name = out.file_name().unwrap_or_default().to_os_string();
            name.push(".tmp");
            let tmp = out.with_file_name(name);
            std::fs::write(&tmp, text).map_err(io_err(&tmp))?;
            std::fs::rename(&tmp, out).map_err(io_err(out))
        }
    }
}

fn date_key(d: &DateTime<Utc>) -> String {
    warc_date(*d)
}

fn first_pass(pass: &mut Pass, rec: &Record, file: &str) {
    let (Some(uri), Some(date)) = (rec.target_uri(), rec.date()) else {
        return;
    };
    let Ok(url) = Url::parse(uri) else { return };
    let capture = CaptureRef {
        warc_file: file.to_string(),
        warc_offset: rec.offset,
        fetched_at: warc_date(date),
    };
    match rec.record_type() {
        Some("response") => page_from(pass, rec, url, date, capture),
        Some("revisit") => {
            let i = pass.revisits.len();
            let refers = rec.get("WARC-Refers-To-Target-URI").map(|u| {
                let u = u.trim();
                u.strip_prefix('<')
                    .and_then(|u| u.strip_suffix('>'))
                    .unwrap_or(u)
            });
            let refers_date = rec
                .get("WARC-Refers-To-Date")
                .and_then(|d| DateTime::parse_from_rfc3339(d.trim()).ok())
                .map(|d| date_key(&d.with_timezone(&Utc)));
            if let (Some(u), Some(d)) = (refers, refers_date) {
                pass.by_ref.entry((u.to_string(), d)).or_default().push(i);
            }
            if let Some(digest) = rec.get("WARC-Payload-Digest") {
                pass.by_digest
                    .entry(digest.trim().to_string())
                    .or_default()
                    .push(i);
            }
            pass.revisits.push(Revisit {
                url,
                date,
                capture,
                done: false,
            });
        }
        _ => {}
    }
}

fn second_pass(pass: &mut Pass, rec: &Record) {
    if rec.record_type() != Some("response") {
        return;
    }
    let (Some(uri), Some(date)) = (rec.target_uri(), rec.date()) else {
        return;
    };
    let mut hits: Vec<usize> = pass
        .by_ref
        .get(&(uri.to_string(), date_key(&date)))
        .cloned()
        .unwrap_or_default();
    let digest = rec
        .get("WARC-Payload-Digest")
        .map(str::trim)
        .or(rec.computed_payload_digest.as_deref());
    if let Some(more) = digest.and_then(|d| pass.by_digest.get(d)) {
        hits.extend(more);
    }
    let mut seen = HashSet::new();
    for i in hits {
        let Some(r) = pass.revisits.get_mut(i) else {
            continue;
        };
        if r.done || !seen.insert(i) {
            continue;
        }
        r.done = true;
        let (url, date, capture) = (r.url.clone(), r.date, r.capture.clone());
        page_from(pass, rec, url, date, capture);
    }
}

/// Extracts the page in `rec`'s HTTP response as captured at `url` and `date`.
fn page_from(pass: &mut Pass, rec: &Record, url: Url, date: DateTime<Utc>, capture: CaptureRef) {
    let Ok(head) = rec.http_head() else { return };
    if !head.status().is_some_and(|s| (200..300).contains(&s)) {
        return;
    }
    let raw = rec.block.get(head.body_offset..).unwrap_or_default();
    let chunked = head
        .headers
        .get("Transfer-Encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    let body = match chunked.then(|| dechunk(raw)).flatten() {
        Some(b) => std::borrow::Cow::Owned(b),
        None => std::borrow::Cow::Borrowed(raw),
    };
    let content_type = head.headers.get("Content-Type");
    if body.is_empty() || !links::is_html(content_type, &body[..body.len().min(512)]) {
        return;
    }
    let encoding = head.headers.get("Content-Encoding");
    let decoded = match decode::decode_content(&body, encoding, crate::extract::article::MAX_BODY) {
        Ok(d) => d,
        Err(e) => {
            tracing::info!(%url, "cannot decode body: {e}");
            pass.failed += 1;
            return;
        }
    };
    let (text, _) = decode::decode_text(&decoded.bytes, content_type);
    let doc = scraper::Html::parse_document(&text);
    match extract(&doc, &url, date) {
        (Extraction::Article(article), links) => pass.pages.push(Page {
            article: *article,
            capture,
            comment_links: links.iter().map(Url::to_string).collect(),
        }),
        (Extraction::Failed(e), _) => {
            tracing::info!(%url, "extraction failed: {e}");
            pass.failed += 1;
        }
        _ => {}
    }
}

/// Groups pages into articles with the crawl's rule: the article page (URL = its article
/// key) and, transitively, the comment pages linked from included pages. The first capture
/// of each URL counts. Articles whose article page is not in the inputs are left out.
fn group(pages: Vec<Page>) -> Vec<ExtractedLine> {
    let mut by_key: BTreeMap<String, Vec<Page>> = BTreeMap::new();
    for page in pages {
        let Ok(url) = Url::parse(&page.article.url) else {
            continue;
        };
        by_key
            .entry(article_key(&url).to_string())
            .or_default()
            .push(page);
    }
    let mut lines = Vec::new();
    for (key, pages) in by_key {
        let mut first: HashMap<String, Page> = HashMap::new();
        for p in pages {
            first.entry(p.article.url.clone()).or_insert(p);
        }
        let mut included: Vec<Page> = Vec::new();
        let mut todo = vec![key];
        while let Some(u) = todo.pop() {
            if let Some(p) = first.remove(&u) {
                todo.extend(p.comment_links.iter().cloned());
                included.push(p);
            }
        }
        let parts = included
            .into_iter()
            .map(|p| (p.article, p.capture))
            .collect();
        lines.extend(merge_line(parts));
    }
    lines.sort_by(|a, b| a.article.url.cmp(&b.article.url));
    lines
}

#[cfg(test)]
mod tests {
    use crate::archive::reader::dechunk;

    #[test]
    fn dechunks_well_formed_and_cut_bodies() {
        assert_eq!(
            dechunk(b"5\r\nhello\r\n6;x=1\r\n world\r\n0\r\n\r\n").unwrap(),
            b"hello world"
        );
        assert_eq!(dechunk(b"5\r\nhel").unwrap(), b"hel");
        assert!(dechunk(b"<html>").is_none());
    }
}
