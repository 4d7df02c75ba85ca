//! `indexes/` of the WACZ, from the crawl's sorted `index.cdxj`.
//!
//! Small indexes go in as `indexes/index.cdxj`. Large ones go in as ZipNum, the form replay
//! tools load a block at a time: `indexes/index.cdx.gz` is a run of gzip members of
//! [`PackageOptions::zipnum_block_lines`] CDXJ lines each (stored, so a block can be
//! range-read), and `indexes/index.idx` has a `!meta` line and then one line per block:
//! `<urlkey> <timestamp> {"offset", "length", "digest", "filename"}` naming the block's first
//! key and where its member lies in `index.cdx.gz`.
//!
//! Every line is checked on the way through: sorted bytewise, and its `filename` naming a
//! packaged WARC (a path with folders is cut to the base name, as WACZ names files relative
//! to `archive/`). The decision between the two forms is made while reading, holding at most
//! the threshold's worth of lines, so the index is read once.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::zipout::{Entries, Method, ZIP64_FROM, sha256_of};
use super::{PackageOptions, WaczError};

const CDX_GZ: &str = "index.cdx.gz";

/// Writes `indexes/…` for `index_path`, whose lines must name files in `warc_names`.
pub fn write(
    entries: &mut Entries,
    index_path: &Path,
    warc_names: &[String],
    opts: &PackageOptions,
) -> Result<(), WaczError> {
    let file = File::open(index_path).map_err(WaczError::io("open", index_path))?;
    let size = file
        .metadata()
        .map_err(WaczError::io("read", index_path))?
        .len();
    let mut lines = CheckedLines {
        reader: BufReader::with_capacity(256 * 1024, file),
        path: index_path.to_path_buf(),
        names: warc_names.iter().map(String::as_str).collect(),
        prev: Vec::new(),
        line_no: 0,
    };

    let mut head = Vec::new();
    let mut head_bytes = 0;
    let mut overflow = None;
    while let Some(line) = lines.next_line()? {
        if head.len() >= opts.zipnum_min_lines || head_bytes + line.len() > opts.zipnum_min_bytes {
            overflow = Some(line);
            break;
        }
        head_bytes += line.len();
        head.push(line);
    }
    if head.is_empty() && overflow.is_none() {
        tracing::warn!(path = %index_path.display(), "index.cdxj is empty: nothing will replay");
    }
    let Some(overflow) = overflow else {
        let text: String = head.concat();
        return entries.write_bytes(
            "indexes/index.cdxj",
            text.as_bytes(),
            Method::Deflated,
            true,
        );
    };

    let mut idx = format!(
        "!meta 0 {}\n",
        serde_json::json!({"format": "cdxj-gzip-1.0", "filename": CDX_GZ})
    );
    let block_lines = opts.zipnum_block_lines.max(1);
    let out_path = entries.zip_path().to_path_buf();
    entries.entry(
        &format!("indexes/{CDX_GZ}"),
        Method::Stored,
        size >= ZIP64_FROM,
        |w| {
            let mut offset = 0u64;
            let mut block = Vec::with_capacity(block_lines);
            let mut pending = head.into_iter().chain(std::iter::once(overflow));
            loop {
                let line = match pending.next() {
                    Some(l) => Some(l),
                    None => lines.next_line()?,
                };
                let done = line.is_none();
                if let Some(l) = line {
                    block.push(l);
                }
                if block.len() >= block_lines || (done && !block.is_empty()) {
                    let member = gzip_block(&block)
                        .map_err(WaczError::io("compress an index block into", &out_path))?;
                    w.write_all(&member)
                        .map_err(WaczError::io("write to", &out_path))?;
                    idx.push_str(&idx_line(&block[0], offset, &member));
                    offset += member.len() as u64;
                    block.clear();
                }
                if done {
                    return Ok(());
                }
            }
        },
    )?;
    entries.write_bytes("indexes/index.idx", idx.as_bytes(), Method::Deflated, true)
}

/// One gzip member holding `block`'s lines.
fn gzip_block(block: &[String]) -> std::io::Result<Vec<u8>> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    for line in block {
        gz.write_all(line.as_bytes())?;
    }
    gz.finish()
}

/// The `index.idx` line for a block whose first line is `first`.
fn idx_line(first: &str, offset: u64, member: &[u8]) -> String {
    let info = serde_json::json!({
        "offset": offset,
        "length": member.len(),
        "digest": sha256_of(member),
        "filename": CDX_GZ,
    });
    format!("{} {info}\n", key_of(first))
}

/// `<urlkey> <timestamp>`: the first two fields of a CDXJ line.
fn key_of(line: &str) -> &str {
    let mut spaces = line.match_indices(' ').map(|(i, _)| i);
    match (spaces.next(), spaces.next()) {
        (Some(_), Some(end)) => &line[..end],
        _ => line.trim_end(),
    }
}

/// The index's lines, each checked (sorted, known WARC) and ending in `\n`.
struct CheckedLines<'a> {
    reader: BufReader<File>,
    path: PathBuf,
    names: HashSet<&'a str>,
    /// The previous line as read, to check the order.
    prev: Vec<u8>,
    line_no: u64,
}

impl CheckedLines<'_> {
    fn next_line(&mut self) -> Result<Option<String>, WaczError> {
        let mut raw = Vec::new();
        loop {
            raw.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut raw)
                .map_err(WaczError::io("read", &self.path))?;
            if n == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            while raw.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                raw.pop();
            }
            // Blank lines and `!` header lines carry no captures; the ZipNum form has its own.
            if !raw.is_empty() && raw[0] != b'!' {
                break;
            }
        }
        if raw < self.prev {
            return Err(WaczError::IndexUnsorted {
                path: self.path.clone(),
                line: self.line_no,
            });
        }
        let line = self.check(&raw)?;
        self.prev = raw;
        Ok(Some(line))
    }

    fn bad(&self, reason: &str) -> WaczError {
        WaczError::IndexBadLine {
            path: self.path.clone(),
            line: self.line_no,
            reason: reason.to_owned(),
        }
    }

    /// The line to package: as read, or with `filename` cut to a WARC base name.
    fn check(&self, raw: &[u8]) -> Result<String, WaczError> {
        let text = std::str::from_utf8(raw).map_err(|_| self.bad("not UTF-8"))?;
        let mut fields = text.splitn(3, ' ');
        let (Some(key), Some(ts), Some(json)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(self.bad("expected `<urlkey> <timestamp> <json>`"));
        };
        let mut obj: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(json).map_err(|e| self.bad(&format!("JSON: {e}")))?;
        let Some(filename) = obj.get("filename").and_then(|f| f.as_str()) else {
            return Err(self.bad("no \"filename\" field"));
        };
        if self.names.contains(filename) {
            return Ok(format!("{text}\n"));
        }
        let base = filename.rsplit('/').next().unwrap_or(filename);
        if !self.names.contains(base) {
            return Err(WaczError::IndexUnknownFile {
                path: self.path.clone(),
                line: self.line_no,
                filename: filename.to_owned(),
            });
        }
        let base = base.to_owned();
        obj.insert("filename".into(), serde_json::Value::String(base));
        let json = serde_json::Value::Object(obj);
        Ok(format!("{key} {ts} {json}\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_urlkey_and_timestamp() {
        assert_eq!(
            key_of("org,example)/ 20240101000000 {\"url\": \"x\"}\n"),
            "org,example)/ 20240101000000"
        );
        assert_eq!(key_of("odd\n"), "odd");
    }
}
