//! The HTTP head of an `application/http` block, parsed on demand, the way warcio reads it
//! (lines split at LF, trailing whitespace ignored, folded lines joined, no validation of
//! the start line) so that status and headers agree with warcio-based tools.

use super::{Headers, decode_header};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpHead {
    /// The first line, e.g. `HTTP/1.1 200 OK` or `GET / HTTP/1.1`.
    pub start_line: String,
    /// The first word of the start line: the protocol of a response, the method of a request.
    pub first_word: String,
    /// The word after it: the status code of a response as written (may not be numeric).
    pub second_word: String,
    pub headers: Headers,
    /// Where the body starts in the block.
    pub body_offset: usize,
}

impl HttpHead {
    /// The response status, when the second word is a number.
    pub fn status(&self) -> Option<u16> {
        self.second_word.parse().ok()
    }

    /// The media type of `Content-Type`: parameters and surrounding blanks dropped, case kept.
    pub fn media_type(&self) -> Option<&str> {
        self.headers.get("Content-Type").map(media_type)
    }
}

/// `text/html; charset=utf-8` → `text/html`: cut at the first `;` or whitespace, as
/// cdxj-indexer does.
pub fn media_type(value: &str) -> &str {
    let v = value.trim_start();
    v.split(|c: char| c == ';' || c.is_whitespace())
        .next()
        .unwrap_or("")
        .trim()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HttpError {
    #[error("the block is empty")]
    Empty,
    #[error("the HTTP head does not end within the bytes held in memory")]
    Incomplete,
}

/// Parses the HTTP head at the start of `block`. `complete` says whether `block` is the
/// whole block: a head that runs to the end of a complete block ends there.
pub fn parse_http_head(block: &[u8], complete: bool) -> Result<HttpHead, HttpError> {
    if block.is_empty() {
        return Err(HttpError::Empty);
    }
    let mut pos = 0;
    let mut next_line = || -> Option<String> {
        if pos >= block.len() {
            return None;
        }
        let rest = &block[pos..];
        let len = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        pos += len;
        Some(decode_header(&rest[..len]).trim_end().to_owned())
    };
    let mut ended = false;
    let start_line = next_line().unwrap_or_default();
    let mut headers: Vec<(String, String)> = Vec::new();
    if start_line.is_empty() {
        ended = true;
    } else {
        while let Some(line) = next_line() {
            if line.is_empty() {
                ended = true;
                break;
            }
            if line.starts_with([' ', '\t']) {
                if let Some((_, v)) = headers.last_mut() {
                    v.push_str(&line);
                }
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((
                    name.trim_end_matches([' ', '\t']).to_owned(),
                    value.trim_start().to_owned(),
                ));
            }
        }
    }
    if !ended && !complete {
        return Err(HttpError::Incomplete);
    }
    let (first_word, rest) = start_line.split_once(' ').unwrap_or((&start_line, ""));
    let second_word = rest.trim().split(' ').next().unwrap_or("").to_owned();
    Ok(HttpHead {
        first_word: first_word.to_owned(),
        second_word,
        start_line: start_line.clone(),
        headers: Headers(headers),
        body_offset: pos,
    })
}

/// Undoes chunked transfer coding; `None` when the body is not well-formed chunks.
pub fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    loop {
        let eol = raw.windows(2).position(|w| w == b"\r\n")?;
        let line = std::str::from_utf8(raw.get(..eol)?).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        raw = raw.get(eol + 2..)?;
        if size == 0 {
            return Some(out);
        }
        // A capture cut short (size limit) keeps what it has.
        let take = size.min(raw.len());
        out.extend_from_slice(raw.get(..take)?);
        raw = raw.get(take..)?;
        if raw.is_empty() {
            return Some(out);
        }
        raw = raw.strip_prefix(b"\r\n")?;
    }
}
