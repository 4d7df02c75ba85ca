//! WACZ packaging: turns a finished crawl folder into one `<name>.wacz` file (WACZ 1.1.1) that
//! ReplayWeb.page and pywb open as it is.
//!
//! This module owns the WACZ layout:
//!
//! ```text
//! archive/<warc>.warc.gz      every complete WARC of DIR/warc/, STORED byte for byte
//! indexes/index.cdx.gz        ZipNum (the default): gzip blocks of sorted CDXJ lines, STORED
//! indexes/index.idx           one line per block: first key and where the block lies
//! (indexes/index.cdxj         DIR/index.cdxj as it is, only when PackageOptions ask for it)
//! pages/pages.jsonl           header line, then one line per 200 HTML capture, seeds first
//! datapackage.json            metadata plus {name, path, hash, bytes} of every file above
//! datapackage-digest.json     sha256 of datapackage.json
//! ```
//!
//! Invariants:
//! * WARCs and `index.cdx.gz` are stored, never recompressed, so replay tools can range-read a
//!   record (or an index block) straight out of the zip.
//! * Every entry's sha256 and size are computed from the bytes as they are streamed into the
//!   zip (see [`zipout`]), never by reading a file twice, and nothing is held whole in memory
//!   beyond one index block.
//! * `datapackage.json` lists every entry except itself and its digest file.
//! * The `.wacz` is written under `<file>.part` and renamed only when complete, so a `.wacz`
//!   on disk is always whole.
//! * CDXJ lines must be sorted and name WARC files that are packaged; the index is not
//!   rebuilt here (that is `warcrow index`).

mod datapackage;
mod index;
mod pages;
mod zipout;

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use chrono::{Datelike, SecondsFormat, Timelike, Utc};
use zip::ZipWriter;

use zipout::{Entries, Method};

/// Tunables of [`package_with`]; [`package`] uses the defaults.
#[derive(Debug, Clone)]
pub struct PackageOptions {
    /// An index with more lines than this is written as ZipNum (`index.cdx.gz` + `index.idx`)
    /// instead of a plain `index.cdxj`.
    pub zipnum_min_lines: usize,
    /// An index with more bytes than this is written as ZipNum too.
    pub zipnum_min_bytes: usize,
    /// CDXJ lines per gzip block of `index.cdx.gz`.
    pub zipnum_block_lines: usize,
}

impl Default for PackageOptions {
    fn default() -> Self {
        PackageOptions {
            // Always ZipNum: pywb 2.10's `wb-manager add --unpack-wacz` only loads indexes
            // named *.cdx or *.cdx.gz and silently skips a WACZ with a plain index.cdxj.
            // ReplayWeb.page reads either form.
            zipnum_min_lines: 0,
            zipnum_min_bytes: 0,
            zipnum_block_lines: 3000,
        }
    }
}

/// Why a crawl folder could not be packaged. Each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum WaczError {
    #[error("{0} is not a crawl folder (no captures.jsonl): give the folder a crawl wrote")]
    NotACrawl(PathBuf),
    #[error(
        "no index.cdxj in {dir}: make one with `warcrow index {dir}/warc/*.warc.gz -o {dir}/index.cdxj`, then package again",
        dir = .0.display()
    )]
    MissingIndex(PathBuf),
    #[error("no complete .warc.gz files in {}: nothing to package", .0.display())]
    NoWarcs(PathBuf),
    #[error(
        "{}: line {line} is out of order; the index must be sorted bytewise \
         (LC_ALL=C sort): run `warcrow index` again",
        path.display()
    )]
    IndexUnsorted { path: PathBuf, line: u64 },
    #[error(
        "{}: line {line} points at WARC file {filename:?}, which is not in warc/: the index \
         is stale or belongs to another crawl; run `warcrow index` again",
        path.display()
    )]
    IndexUnknownFile {
        path: PathBuf,
        line: u64,
        filename: String,
    },
    #[error(
        "{}: line {line} is not a CDXJ line ({reason}): run `warcrow index` again",
        path.display()
    )]
    IndexBadLine {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the WACZ {}: {source} (is the disk full?)", path.display())]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
}

impl WaczError {
    pub(crate) fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| WaczError::Io {
            action,
            path,
            source,
        }
    }
}

/// Packages `crawl_dir` as `<name>.wacz` (name = the crawl folder's name) into `crawl_dir`, or
/// to `out` (a file, or an existing folder to put `<name>.wacz` in). Returns the path written.
pub fn package(crawl_dir: &Path, out: Option<&Path>) -> Result<PathBuf, WaczError> {
    package_with(crawl_dir, out, &PackageOptions::default())
}

/// [`package`] with explicit [`PackageOptions`].
pub fn package_with(
    crawl_dir: &Path,
    out: Option<&Path>,
    opts: &PackageOptions,
) -> Result<PathBuf, WaczError> {
    let captures = crawl_dir.join("captures.jsonl");
    if !captures.is_file() {
        return Err(WaczError::NotACrawl(crawl_dir.to_path_buf()));
    }
    let index_path = crawl_dir.join("index.cdxj");
    if !index_path.is_file() {
        return Err(WaczError::MissingIndex(crawl_dir.to_path_buf()));
    }
    let warcs = list_warcs(&crawl_dir.join("warc"))?;
    if warcs.is_empty() {
        return Err(WaczError::NoWarcs(crawl_dir.join("warc")));
    }
    let name = crawl_name(crawl_dir)?;
    let target = match out {
        Some(p) if p.is_dir() => p.join(format!("{name}.wacz")),
        Some(p) => p.to_path_buf(),
        None => crawl_dir.join(format!("{name}.wacz")),
    };
    if target.extension().is_none_or(|e| e != "wacz") {
        tracing::warn!(path = %target.display(), "WACZ files should end in .wacz");
    }
    let mut part = target.clone().into_os_string();
    part.push(".part");
    let part = PathBuf::from(part);

    let result = write_package(crawl_dir, &name, &warcs, &index_path, &part, opts);
    if let Err(e) = result {
        // A half-written package is useless; don't leave it behind.
        let _ = std::fs::remove_file(&part);
        return Err(e);
    }
    std::fs::rename(&part, &target).map_err(WaczError::io("rename into place", &target))?;
    tracing::info!(path = %target.display(), "WACZ written");
    Ok(target)
}

/// The complete WARC files of `warc_dir`, sorted by name (`.open` files are skipped: the
/// crawl that wrote them did not finish them).
fn list_warcs(warc_dir: &Path) -> Result<Vec<PathBuf>, WaczError> {
    let mut warcs = Vec::new();
    let entries = match std::fs::read_dir(warc_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(warcs),
        Err(e) => return Err(WaczError::io("list", warc_dir)(e)),
    };
    for entry in entries {
        let path = entry.map_err(WaczError::io("list", warc_dir))?.path();
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if file_name.ends_with(".warc.gz") && path.is_file() {
            warcs.push(path);
        } else if file_name.ends_with(".open") {
            tracing::warn!(file = %path.display(), "skipping an unfinished WARC file");
        }
    }
    warcs.sort();
    Ok(warcs)
}

fn crawl_name(crawl_dir: &Path) -> Result<String, WaczError> {
    // Canonicalise so `.` or `crawls/x/` still give the folder's real name.
    let abs = crawl_dir
        .canonicalize()
        .map_err(WaczError::io("resolve", crawl_dir))?;
    Ok(abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "crawl".to_owned()))
}

fn write_package(
    crawl_dir: &Path,
    name: &str,
    warcs: &[PathBuf],
    index_path: &Path,
    part: &Path,
    opts: &PackageOptions,
) -> Result<(), WaczError> {
    let now = Utc::now();
    let file = File::create(part).map_err(WaczError::io("create", part))?;
    let zip = ZipWriter::new(BufWriter::with_capacity(256 * 1024, file));
    // Zip timestamps cannot say anything before 1980; fall back to the format's default then.
    let mtime = zip::DateTime::from_date_and_time(
        u16::try_from(now.year()).unwrap_or(1980),
        now.month() as u8,
        now.day() as u8,
        now.hour() as u8,
        now.minute() as u8,
        now.second() as u8,
    )
    .unwrap_or_default();
    let mut entries = Entries::new(zip, part, mtime);

    let mut warc_names = Vec::with_capacity(warcs.len());
    for warc in warcs {
        let base = warc
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        entries.copy_file(&format!("archive/{base}"), warc, Method::Stored)?;
        warc_names.push(base);
    }
    index::write(&mut entries, index_path, &warc_names, opts)?;
    let main_page = pages::write(&mut entries, &crawl_dir.join("captures.jsonl"))?;
    let meta = datapackage::CrawlMeta::read(&crawl_dir.join("manifest.json"), name);
    let created = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let package = datapackage::build(&meta, &created, main_page, entries.resources());
    let package_bytes = datapackage::to_bytes(&package, part)?;
    let digest = datapackage::digest_bytes(&package_bytes, part)?;
    entries.write_bytes("datapackage.json", &package_bytes, Method::Deflated, false)?;
    entries.write_bytes("datapackage-digest.json", &digest, Method::Deflated, false)?;
    entries.finish()
}
