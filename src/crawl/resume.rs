//! Repairing a crawl folder before `--resume`: cut every file back to the last checkpoint,
//! then rebuild what the crawler keeps in memory.
//!
//! The checkpoint (in frontier.db, see `store.rs`) records the committed end of each WARC
//! file and the committed lengths of captures.jsonl and index.cdxj. Anything after those was
//! written by outcomes the database does not know about (their URLs are still queued), so it
//! is cut off: a torn last record, whole records not yet recorded, a file begun after the
//! checkpoint. What remains is a set of WARC files that end on record boundaries, each record
//! listed in captures.jsonl, and each captures line pointing at a record that is there.

use std::collections::BTreeMap;
use std::path::Path;

use crate::archive::writer::{open_name, sha256_of};
use crate::archive::{WarcFileInfo, WriterSettings};
use crate::manifest::{CaptureLineIn, Failure};

use super::state::CrawlState;
use super::store::Checkpoint;

pub(super) struct Recovered {
    pub(super) files: Vec<WarcFileInfo>,
    pub(super) next_serial: u32,
}

/// The serial number in `<prefix>-<timestamp>-<serial>.warc.gz`.
fn serial_of(name: &str) -> Option<u32> {
    name.strip_suffix(".warc.gz")?
        .rsplit('-')
        .next()?
        .parse()
        .ok()
}

/// Cut the WARC files back to the checkpoint; close (rename) any left open.
pub(super) fn recover_warcs(
    settings: &WriterSettings,
    checkpoint: &Checkpoint,
) -> std::io::Result<Recovered> {
    let mut found: BTreeMap<String, std::path::PathBuf> = BTreeMap::new();
    for entry in std::fs::read_dir(&settings.dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let final_name = name.strip_suffix(".open").unwrap_or(name);
        if final_name.starts_with(&settings.prefix) && final_name.ends_with(".warc.gz") {
            found.insert(final_name.to_string(), path);
        }
    }
    let mut next_serial = 0;
    let mut files = Vec::new();
    for (name, path) in found {
        next_serial = next_serial.max(serial_of(&name).map_or(0, |s| s + 1));
        let final_path = settings.dir.join(&name);
        let Some(&end) = checkpoint.warc_ends.get(&name) else {
            // No record of this file was ever committed: it holds a warcinfo at most.
            tracing::info!("removing {name}: none of its records was committed");
            std::fs::remove_file(&path)?;
            continue;
        };
        let file = std::fs::OpenOptions::new().write(true).open(&path)?;
        let len = file.metadata()?.len();
        if len < end {
            return Err(std::io::Error::other(format!(
                "{} is shorter ({len} bytes) than its committed records ({end} bytes); \
                 it was changed outside warcrow",
                path.display()
            )));
        }
        if len > end {
            tracing::info!("{name}: cutting {} uncommitted bytes", len - end);
            file.set_len(end)?;
        }
        file.sync_all()?;
        if path != final_path {
            std::fs::rename(&path, &final_path)?;
        }
        files.push(WarcFileInfo {
            name: name.clone(),
            size: end,
            sha256: sha256_of(&final_path)?,
        });
    }
    debug_assert!(
        files
            .iter()
            .all(|f| !open_name(&settings.dir.join(&f.name)).exists())
    );
    Ok(Recovered { files, next_serial })
}

/// Rebuild from captures.jsonl what lived only in memory: the failure list and robots.txt
/// rules (re-read from their records). (Originals for revisits are in frontier.db.)
pub(super) fn rebuild(state: &mut CrawlState, out: &Path) -> std::io::Result<()> {
    // Line by line: a long crawl's captures.jsonl need not fit in memory.
    let captures = std::io::BufReader::new(std::fs::File::open(out.join("captures.jsonl"))?);
    for line in std::io::BufRead::lines(captures) {
        let line = line?;
        let Ok(c) = serde_json::from_str::<CaptureLineIn>(&line) else {
            continue;
        };
        if c.retry_at.is_some() {
            continue; // not the last try of its URL
        }
        if let Some(error) = &c.error {
            state.failures.push(Failure {
                url: c.url.clone(),
                status: c.status,
                error: error.clone(),
            });
        }
        if c.kind == "robots" {
            learn_robots(state, &c, out);
        }
    }
    Ok(())
}

fn learn_robots(state: &mut CrawlState, c: &CaptureLineIn, out: &Path) {
    let Some(robots) = state.robots.as_mut() else {
        return;
    };
    let Some(host) = url::Url::parse(&c.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
    else {
        return;
    };
    let body = match (&c.warc_file, c.warc_offset) {
        (Some(file), Some(offset)) => {
            read_payload(&out.join("warc").join(file), offset).unwrap_or_default()
        }
        _ => Vec::new(),
    };
    robots.learn(&host, c.status, &body);
    if let Some(delay) = robots.crawl_delay(&host) {
        state.politeness.set_crawl_delay(&host, delay);
    }
}

/// The decoded HTTP payload of the response record at `offset`.
fn read_payload(path: &Path, offset: u64) -> Option<Vec<u8>> {
    let (head, body) = crate::archive::reader::http_response_at(path, offset)?;
    let encoding = head.headers.get("Content-Encoding");
    crate::extract::decode::decode_content(&body, encoding, 500 * 1024)
        .ok()
        .map(|d| d.bytes.into_owned())
}
