//! Reading WARC files, ours or anyone's, as an iterator of [`Record`]s with their positions.
//!
//! Owns: framing detection, record boundaries, WARC header parsing, and the byte positions an
//! index points at. Three framings are read:
//!
//! * `.warc.gz` with one gzip member per record (WARC 1.1 Annex D, the normal case):
//!   [`Record::offset`] is where the member starts in the file and [`Record::length`] is the
//!   member's compressed size, so `seek(offset)` + inflate `length` bytes gives the record.
//! * uncompressed `.warc`: `offset`/`length` are positions in the file; `length` covers the
//!   version line, headers and block but not the blank lines after it (as warcio counts).
//! * a gzip member holding several records (e.g. a whole file gzipped as one stream): the
//!   records are still read, but they cannot be reached by seeking, so their framing is
//!   [`Framing::SharedGzipMember`] and `offset`/`length` are positions in the *decompressed*
//!   data of that member (for a whole-file stream: positions in the decompressed file).
//!
//! Memory: each record holds at most [`ReaderOptions::max_block_in_memory`] bytes of its block
//! (default 16 MiB); the rest is streamed past (and hashed when a payload digest is computed),
//! and [`Record::block_complete`] says whether the whole block is held.
//!
//! Errors never panic. After garbage between gzip members the reader reports
//! [`ReadError::Garbage`] and resumes at the next gzip header; after any other error the
//! iterator ends, because the record boundary is lost.
//!
//! The `warc` crate reads records too, but it reports no member offsets and holds whole
//! blocks in memory, so the framing is done here over flate2's single-member decoder.

mod counted;
mod http;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;

use chrono::{DateTime, Utc};
use flate2::bufread::GzDecoder;
use sha1::{Digest, Sha1};

use counted::{Counted, read_line, skip_blank_lines, skip_to_gzip};
pub use http::{HttpError, HttpHead, dechunk, media_type, parse_http_head};

/// Longest header section accepted (version line + WARC headers).
const MAX_HEADER_BYTES: usize = 1 << 20;
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("I/O error at offset {offset}: {source}")]
    Io { offset: u64, source: io::Error },
    #[error("bad gzip data in the member at offset {offset}: {source}")]
    Gzip { offset: u64, source: io::Error },
    #[error("record at offset {offset} is truncated ({what})")]
    Truncated { offset: u64, what: &'static str },
    #[error("not a WARC record at offset {offset}: starts with {found:?}")]
    NotWarc { offset: u64, found: String },
    #[error("{len} bytes of non-gzip data at offset {offset}")]
    Garbage { offset: u64, len: u64 },
    #[error("record at offset {offset} has no Content-Length")]
    MissingContentLength { offset: u64 },
    #[error("record at offset {offset} has an invalid Content-Length {value:?}")]
    BadContentLength { offset: u64, value: String },
    #[error("record at offset {offset} has a header section over {MAX_HEADER_BYTES} bytes")]
    HeaderTooLong { offset: u64 },
}

/// How a record sits in its file; see the module docs for what offset/length mean in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    GzipMember,
    Uncompressed,
    SharedGzipMember { member_offset: u64 },
}

#[derive(Debug, Clone)]
pub struct ReaderOptions {
    /// Bytes of each block kept in memory; the rest is skipped.
    pub max_block_in_memory: usize,
    /// Compute `sha1:` payload digests for records that lack `WARC-Payload-Digest`
    /// (what warcio, and so cdxj-indexer, does), available as [`Record::computed_payload_digest`].
    pub compute_missing_payload_digest: bool,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            max_block_in_memory: 16 << 20,
            compute_missing_payload_digest: true,
        }
    }
}

/// Named header fields in file order; names keep their spelling, lookups ignore case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// The first value of `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

#[derive(Debug, Clone)]
pub struct Record {
    pub offset: u64,
    pub length: u64,
    pub framing: Framing,
    /// The version line, e.g. `WARC/1.1`.
    pub version: String,
    pub headers: Headers,
    /// The first `min(Content-Length, max_block_in_memory)` bytes of the block.
    pub block: Vec<u8>,
    /// The block's full length (Content-Length).
    pub block_length: u64,
    /// `sha1:` payload digest computed while reading, when the record has none of its own.
    pub computed_payload_digest: Option<String>,
}

impl Record {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// `WARC-Type`, e.g. `response`.
    pub fn record_type(&self) -> Option<&str> {
        self.get("WARC-Type")
    }

    /// `WARC-Target-URI` without the angle brackets wget 1.19 wrote around it.
    pub fn target_uri(&self) -> Option<&str> {
        let uri = self.get("WARC-Target-URI")?.trim();
        Some(
            uri.strip_prefix('<')
                .and_then(|u| u.strip_suffix('>'))
                .unwrap_or(uri),
        )
    }

    pub fn date(&self) -> Option<DateTime<Utc>> {
        let d = self.get("WARC-Date")?;
        DateTime::parse_from_rfc3339(d.trim())
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// Whether [`Record::block`] holds the whole block.
    pub fn block_complete(&self) -> bool {
        self.block.len() as u64 == self.block_length
    }

    /// Whether the block is an HTTP message as warcio decides it: a request, response or
    /// revisit record of an http(s) URI with a non-empty block.
    pub fn has_http_block(&self) -> bool {
        let http_type = matches!(self.record_type(), Some("response" | "request" | "revisit"));
        let http_uri = self
            .target_uri()
            .is_some_and(|u| u.starts_with("http:") || u.starts_with("https:"));
        http_type && http_uri && self.block_length > 0
    }

    /// The HTTP head of the block (status, headers, where the body starts), parsed now.
    pub fn http_head(&self) -> Result<HttpHead, HttpError> {
        parse_http_head(&self.block, self.block_complete())
    }
}

/// Opens a WARC file for reading with default options.
pub fn open(path: &Path) -> io::Result<WarcReader<File>> {
    Ok(WarcReader::new(File::open(path)?))
}

enum State<R: Read> {
    Start(Counted<R>),
    Plain(Counted<R>),
    GzIdle(Counted<R>),
    GzMember {
        dec: Box<Counted<GzDecoder<Counted<R>>>>,
        member_offset: u64,
        shared: bool,
    },
    Done,
}

/// Iterator over the records of one WARC file (any framing, detected from the first bytes).
pub struct WarcReader<R: Read> {
    state: State<R>,
    opts: ReaderOptions,
}

impl<R: Read> WarcReader<R> {
    pub fn new(inner: R) -> Self {
        Self::with_options(inner, ReaderOptions::default())
    }

    pub fn with_options(inner: R, opts: ReaderOptions) -> Self {
        WarcReader {
            state: State::Start(Counted::new(inner)),
            opts,
        }
    }

    fn step(&mut self) -> Option<Result<Record, ReadError>> {
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Done => return None,
                State::Start(mut src) => {
                    let offset = src.pos();
                    match src.peek(GZIP_MAGIC.len()) {
                        Ok(head) if head.starts_with(&GZIP_MAGIC) => {
                            self.state = State::GzIdle(src)
                        }
                        Ok(_) => self.state = State::Plain(src),
                        Err(source) => return Some(Err(ReadError::Io { offset, source })),
                    }
                }
                State::Plain(mut src) => {
                    return match read_record(&mut src, &self.opts) {
                        Ok(Some(mut rec)) => {
                            rec.framing = Framing::Uncompressed;
                            self.state = State::Plain(src);
                            Some(Ok(rec))
                        }
                        Ok(None) => None,
                        Err(e) => Some(Err(e)),
                    };
                }
                State::GzIdle(mut src) => {
                    let offset = src.pos();
                    match src.peek(GZIP_MAGIC.len()) {
                        Err(source) => return Some(Err(ReadError::Io { offset, source })),
                        Ok([]) => return None,
                        Ok(head) if head.starts_with(&GZIP_MAGIC) => {
                            self.state = State::GzMember {
                                dec: Box::new(Counted::new(GzDecoder::new(src))),
                                member_offset: offset,
                                shared: false,
                            };
                        }
                        Ok(_) => {
                            return match skip_to_gzip(&mut src) {
                                Ok(()) => {
                                    let len = src.pos() - offset;
                                    self.state = State::GzIdle(src);
                                    Some(Err(ReadError::Garbage { offset, len }))
                                }
                                Err(source) => Some(Err(ReadError::Io { offset, source })),
                            };
                        }
                    }
                }
                State::GzMember {
                    mut dec,
                    member_offset,
                    mut shared,
                } => {
                    let gz_err = |e: ReadError| match e {
                        // Inflate errors surface as I/O errors of the decoder.
                        ReadError::Io { source, .. } => ReadError::Gzip {
                            offset: member_offset,
                            source,
                        },
                        other => other,
                    };
                    let rec = match read_record(&mut dec, &self.opts) {
                        Ok(rec) => rec,
                        Err(e) => return Some(Err(gz_err(e))),
                    };
                    // Blank lines after the block belong to the member; what follows them
                    // decides whether this member holds more records.
                    let at_end = match skip_blank_lines(&mut dec).and_then(|()| dec.peek(1)) {
                        Ok(rest) => rest.is_empty(),
                        Err(source) => {
                            return Some(Err(ReadError::Gzip {
                                offset: member_offset,
                                source,
                            }));
                        }
                    };
                    shared |= !at_end;
                    let Some(mut rec) = rec else {
                        // An empty member: nothing to report, go on with the next one.
                        self.state = State::GzIdle(dec.into_inner().into_inner());
                        continue;
                    };
                    if shared {
                        rec.framing = Framing::SharedGzipMember { member_offset };
                    } else {
                        rec.framing = Framing::GzipMember;
                    }
                    if at_end {
                        let src = dec.into_inner().into_inner();
                        if !shared {
                            rec.offset = member_offset;
                            rec.length = src.pos() - member_offset;
                        }
                        self.state = State::GzIdle(src);
                    } else {
                        self.state = State::GzMember {
                            dec,
                            member_offset,
                            shared,
                        };
                    }
                    return Some(Ok(rec));
                }
            }
        }
    }
}

impl<R: Read> Iterator for WarcReader<R> {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.step();
        if let Some(Err(e)) = &item {
            tracing::debug!("WARC read error: {e}");
        }
        item
    }
}

/// Header text as warcio decodes it: UTF-8, or ISO-8859-1 when that fails.
pub(crate) fn decode_header(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Reads one record from `src`: offset/length are positions in `src`'s stream.
fn read_record<R: Read>(
    src: &mut Counted<R>,
    opts: &ReaderOptions,
) -> Result<Option<Record>, ReadError> {
    let io_err = |offset: u64| move |source| ReadError::Io { offset, source };
    skip_blank_lines(src).map_err(io_err(src.pos()))?;
    let offset = src.pos();
    let too_long = |e: io::Error| {
        if e.kind() == io::ErrorKind::InvalidData {
            ReadError::HeaderTooLong { offset }
        } else {
            ReadError::Io { offset, source: e }
        }
    };
    let Some(first) = read_line(src, MAX_HEADER_BYTES).map_err(too_long)? else {
        return Ok(None);
    };
    if !first.starts_with(b"WARC/") {
        let found = decode_header(&first[..first.len().min(40)]);
        return Err(ReadError::NotWarc { offset, found });
    }
    let version = decode_header(&first);
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut total = first.len();
    loop {
        let Some(line) = read_line(src, MAX_HEADER_BYTES).map_err(too_long)? else {
            return Err(ReadError::Truncated {
                offset,
                what: "header section",
            });
        };
        total += line.len() + 2;
        if total > MAX_HEADER_BYTES {
            return Err(ReadError::HeaderTooLong { offset });
        }
        if line.is_empty() {
            break;
        }
        let text = decode_header(&line);
        if text.starts_with([' ', '\t']) {
            // A continuation line (obsolete folding) extends the previous value.
            if let Some((_, v)) = headers.last_mut() {
                v.push(' ');
                v.push_str(text.trim());
            }
        } else if let Some((name, value)) = text.split_once(':') {
            headers.push((name.trim_end().to_owned(), value.trim().to_owned()));
        }
    }
    let headers = Headers(headers);
    let block_length = match headers.get("Content-Length") {
        None => return Err(ReadError::MissingContentLength { offset }),
        Some(v) => v.parse::<u64>().map_err(|_| ReadError::BadContentLength {
            offset,
            value: v.to_owned(),
        })?,
    };
    let mut rec = Record {
        offset,
        length: 0,
        framing: Framing::Uncompressed,
        version,
        headers,
        block: Vec::new(),
        block_length,
        computed_payload_digest: None,
    };
    read_block(src, &mut rec, opts)?;
    rec.length = src.pos() - offset;
    Ok(Some(rec))
}

/// Reads the block: the first `max_block_in_memory` bytes into `rec.block`, the rest skipped,
/// hashing the payload on the way when the record needs a computed digest.
fn read_block<R: Read>(
    src: &mut Counted<R>,
    rec: &mut Record,
    opts: &ReaderOptions,
) -> Result<(), ReadError> {
    let offset = rec.offset;
    let truncated = ReadError::Truncated {
        offset,
        what: "block shorter than Content-Length",
    };
    let held = rec.block_length.min(opts.max_block_in_memory as u64) as usize;
    rec.block.reserve_exact(held);
    (&mut *src)
        .take(held as u64)
        .read_to_end(&mut rec.block)
        .map_err(|source| ReadError::Io { offset, source })?;
    if rec.block.len() < held {
        return Err(truncated);
    }
    let mut hasher = payload_start(rec, opts).map(|start| {
        let mut h = Sha1::new();
        h.update(&rec.block[start..]);
        h
    });
    let mut left = rec.block_length - held as u64;
    while left > 0 {
        let buf = src
            .fill_buf()
            .map_err(|source| ReadError::Io { offset, source })?;
        if buf.is_empty() {
            return Err(truncated);
        }
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if let Some(h) = hasher.as_mut() {
            h.update(&buf[..n]);
        }
        src.consume(n);
        left -= n as u64;
    }
    rec.computed_payload_digest = hasher.map(|h| {
        format!(
            "sha1:{}",
            data_encoding::BASE32.encode(&Digest::finalize(h))
        )
    });
    Ok(())
}

/// Where the payload starts in the block, when a digest must be computed for it (warcio
/// computes none for warcinfo and revisit records). `None` also when the HTTP head does not
/// fit in the held bytes.
fn payload_start(rec: &Record, opts: &ReaderOptions) -> Option<usize> {
    if !opts.compute_missing_payload_digest
        || rec.get("WARC-Payload-Digest").is_some()
        || matches!(rec.record_type(), Some("warcinfo" | "revisit"))
    {
        return None;
    }
    if rec.has_http_block() {
        rec.http_head().ok().map(|h| h.body_offset)
    } else {
        Some(0)
    }
}

/// The HTTP response in the record whose gzip member (or uncompressed record) starts at
/// `offset` of `path`: its head and its payload (chunked transfer coding undone, content
/// coding kept). For reading back an earlier capture (resume, incremental job runs).
pub fn http_response_at(path: &Path, offset: u64) -> Option<(HttpHead, Vec<u8>)> {
    use std::io::{Seek, SeekFrom};
    let mut file = File::open(path).ok()?;
    file.seek(SeekFrom::Start(offset)).ok()?;
    let rec = WarcReader::new(file).next()?.ok()?;
    let head = rec.http_head().ok()?;
    let raw = rec.block.get(head.body_offset..)?;
    let chunked = head
        .headers
        .get("Transfer-Encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    let body = match chunked.then(|| dechunk(raw)).flatten() {
        Some(b) => b,
        None => raw.to_vec(),
    };
    Some((head, body))
}
