//! From captured bytes to text: undoing `Content-Encoding` ([`decode_content`]) with a cap
//! on the decoded size, and picking the charset and decoding ([`decode_text`], in
//! `decode/charset.rs`).
//!
//! The cap is the defence against decompression bombs: decoding stops as soon as the cap is
//! reached, so a 1 KB payload that would inflate to 1 GB costs about one cap's worth of
//! work. Hitting the cap is not an error: for link extraction the prefix is still useful,
//! so the result carries a `truncated` flag instead. A stream that is cut short (a capture
//! stopped at a size limit) is treated the same way.

mod charset;

use std::borrow::Cow;
use std::io::{self, Read};

pub use charset::decode_text;

/// Why a payload could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// A `Content-Encoding` we do not implement (e.g. `compress`, `zstd`).
    #[error("unsupported content-encoding {0:?}")]
    UnknownEncoding(String),
    /// The payload is not valid for the declared coding.
    #[error("corrupt {coding} stream: {reason}")]
    Corrupt {
        coding: &'static str,
        reason: String,
    },
}

/// A decoded body: `bytes` is at most the cap passed to [`decode_content`]; `truncated` says
/// whether there was more (cap reached) or the stream was cut short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    pub bytes: Cow<'a, [u8]>,
    pub truncated: bool,
}

/// Undo `content_encoding` (the header value, e.g. `"gzip"`, `"gzip, br"`) on `payload`,
/// producing at most `max_decoded` bytes.
///
/// Codings: identity/none (borrowed, no copy), gzip/x-gzip (several members allowed, bytes
/// after the last member that are not another member are ignored, as browsers do), deflate
/// (zlib-wrapped, or raw deflate when the zlib header is absent, as browsers accept), br.
/// Stacked codings are undone last-applied first.
///
/// Errors: an unknown coding, or a stream that is invalid before yielding any byte. A
/// stream that breaks after yielding bytes and has no input left is reported as truncated
/// rather than corrupt.
pub fn decode_content<'a>(
    payload: &'a [u8],
    content_encoding: Option<&str>,
    max_decoded: usize,
) -> Result<Decoded<'a>, DecodeError> {
    let mut codings = Vec::new();
    for token in content_encoding.unwrap_or("").split(',') {
        let token = token.trim().to_ascii_lowercase();
        match token.as_str() {
            "" | "identity" | "none" => {}
            "gzip" | "x-gzip" => codings.push(Coding::Gzip),
            "deflate" => codings.push(Coding::Deflate),
            "br" => codings.push(Coding::Brotli),
            _ => return Err(DecodeError::UnknownEncoding(token)),
        }
    }
    let mut bytes = Cow::Borrowed(payload);
    let mut truncated = false;
    // An empty body under any coding is empty (204s and HEAD-like replies often carry the
    // header anyway); browsers do not call that an error.
    if payload.is_empty() {
        codings.clear();
    }
    for coding in codings.iter().rev() {
        let (out, cut) = coding.decode(&bytes, max_decoded)?;
        bytes = Cow::Owned(out);
        truncated |= cut;
    }
    if bytes.len() > max_decoded {
        truncated = true;
        bytes = match bytes {
            Cow::Borrowed(b) => Cow::Borrowed(&b[..max_decoded]),
            Cow::Owned(mut v) => {
                v.truncate(max_decoded);
                Cow::Owned(v)
            }
        };
    }
    Ok(Decoded { bytes, truncated })
}

#[derive(Debug, Clone, Copy)]
enum Coding {
    Gzip,
    Deflate,
    Brotli,
}

impl Coding {
    fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Brotli => "br",
        }
    }

    /// Decode one layer; returns the output and whether it was cut (cap or short input).
    fn decode(self, input: &[u8], cap: usize) -> Result<(Vec<u8>, bool), DecodeError> {
        let mut out = Vec::new();
        let result = match self {
            Coding::Gzip => gunzip(input, &mut out, cap),
            Coding::Deflate => {
                let mut src = Tracked::new(input);
                let r = if has_zlib_header(input) {
                    read_capped(flate2::read::ZlibDecoder::new(&mut src), &mut out, cap)
                } else {
                    read_capped(flate2::read::DeflateDecoder::new(&mut src), &mut out, cap)
                };
                r.map_err(|e| (e, src.eof))
            }
            Coding::Brotli => {
                let mut src = Tracked::new(input);
                let r = read_capped(
                    brotli_decompressor::Decompressor::new(&mut src, 16 * 1024),
                    &mut out,
                    cap,
                );
                r.map_err(|e| (e, src.eof))
            }
        };
        match result {
            Ok(capped) => Ok((out, capped)),
            // Input exhausted mid-stream after some output: a capture cut short.
            Err((_, true)) if !out.is_empty() => Ok((out, true)),
            Err((e, _)) => Err(DecodeError::Corrupt {
                coding: self.name(),
                reason: e.to_string(),
            }),
        }
    }
}

/// RFC 1950 header: compression method 8 and a header checksum that divides by 31.
fn has_zlib_header(b: &[u8]) -> bool {
    match b {
        [cmf, flg, ..] => cmf & 0x0F == 8 && ((u16::from(*cmf) << 8) | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

/// Gzip members one after another until the input ends or what follows is not a member.
/// On error, returns whether the input was exhausted (truncation) alongside the error.
fn gunzip(input: &[u8], out: &mut Vec<u8>, cap: usize) -> Result<bool, (io::Error, bool)> {
    let mut rest = input;
    loop {
        // `bufread` leaves `rest` positioned exactly after the member it decoded.
        let mut member = flate2::bufread::GzDecoder::new(rest);
        let result = read_capped(&mut member, out, cap);
        rest = member.into_inner();
        match result {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(e) => return Err((e, rest.is_empty())),
        }
        if !rest.starts_with(&[0x1f, 0x8b]) {
            return Ok(false);
        }
    }
}

/// Append at most `cap - out.len()` bytes from `r`; `Ok(true)` when more was available.
/// On error, what was read so far stays in `out` (`read_to_end` guarantees it).
fn read_capped(r: impl Read, out: &mut Vec<u8>, cap: usize) -> io::Result<bool> {
    let room = cap.saturating_sub(out.len());
    // One byte past the room tells "exactly full" from "more to come".
    let limit = u64::try_from(room).unwrap_or(u64::MAX).saturating_add(1);
    r.take(limit).read_to_end(out)?;
    if out.len() > cap {
        out.truncate(cap);
        return Ok(true);
    }
    Ok(false)
}

/// A slice reader that remembers whether its reader asked past the end, which is how a
/// stream cut short is told from a corrupt one.
struct Tracked<'a> {
    rest: &'a [u8],
    eof: bool,
}

impl<'a> Tracked<'a> {
    fn new(rest: &'a [u8]) -> Self {
        Tracked { rest, eof: false }
    }
}

impl Read for Tracked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.rest.is_empty() && !buf.is_empty() {
            self.eof = true;
        }
        self.rest.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const TEXT: &[u8] = b"<html><a href='/x'>hello hello hello hello</a></html>";

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn raw_deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// A fixed brotli stream for "hello\n" (from brotli-decompressor's own test).
    const BROTLI_HELLO: &[u8] = b"\x8f\x02\x80\x68\x65\x6c\x6c\x6f\x0a\x03";

    fn ok(payload: &[u8], coding: Option<&str>, cap: usize) -> (Vec<u8>, bool) {
        let d = decode_content(payload, coding, cap).unwrap();
        (d.bytes.into_owned(), d.truncated)
    }

    #[test]
    fn identity_borrows() {
        for coding in [
            None,
            Some(""),
            Some("identity"),
            Some(" Identity "),
            Some("none"),
        ] {
            let d = decode_content(TEXT, coding, 1 << 20).unwrap();
            assert!(matches!(d.bytes, Cow::Borrowed(_)), "{coding:?}");
            assert!(!d.truncated);
        }
        let d = decode_content(TEXT, None, 5).unwrap();
        assert_eq!((&*d.bytes, d.truncated), (&TEXT[..5], true));
        assert!(matches!(d.bytes, Cow::Borrowed(_)));
    }

    #[test]
    fn codings_table() {
        let mut two_members = gzip(b"first ");
        two_members.extend(gzip(b"second"));
        let mut trailing_junk = gzip(TEXT);
        trailing_junk.extend(b"\0\0junk");
        let cases: Vec<(Vec<u8>, &str, Vec<u8>)> = vec![
            (gzip(TEXT), "gzip", TEXT.to_vec()),
            (gzip(TEXT), "X-GZIP", TEXT.to_vec()),
            (two_members, "gzip", b"first second".to_vec()),
            (trailing_junk, "gzip", TEXT.to_vec()),
            (gzip(b""), "gzip", Vec::new()),
            (zlib(TEXT), "deflate", TEXT.to_vec()),
            (raw_deflate(TEXT), "deflate", TEXT.to_vec()),
            (BROTLI_HELLO.to_vec(), "br", b"hello\n".to_vec()),
            (gzip(&zlib(TEXT)), "deflate, gzip", TEXT.to_vec()),
            (gzip(&gzip(TEXT)), "gzip,gzip", TEXT.to_vec()),
            (
                gzip(BROTLI_HELLO),
                "br, identity, gzip",
                b"hello\n".to_vec(),
            ),
        ];
        for (payload, coding, want) in cases {
            assert_eq!(
                ok(&payload, Some(coding), 1 << 20),
                (want, false),
                "{coding}"
            );
        }
    }

    #[test]
    fn empty_payload_is_empty_under_any_coding() {
        for coding in ["gzip", "deflate", "br", "gzip, br"] {
            assert_eq!(ok(b"", Some(coding), 100), (Vec::new(), false), "{coding}");
        }
    }

    #[test]
    fn unknown_coding_is_named() {
        let err = decode_content(TEXT, Some("gzip, zstd"), 100).unwrap_err();
        assert_eq!(err, DecodeError::UnknownEncoding("zstd".into()));
        assert!(err.to_string().contains("zstd"));
    }

    #[test]
    fn corrupt_streams_are_errors() {
        for (payload, coding) in [
            (&b"not gzip at all"[..], "gzip"),
            (b"\x1f\x8b\x08\0\0\0\0\0\0\x03garbage-garbage", "gzip"),
            (b"\xff\xff\xff\xff", "deflate"),
            (b"\x78\x9c\xff\xff\xff", "deflate"),
            (b"\xff\xff\xff\xff\xff\xff", "br"),
        ] {
            let r = decode_content(payload, Some(coding), 1 << 20);
            assert!(
                matches!(r, Err(DecodeError::Corrupt { .. })),
                "{coding} {payload:?}: {r:?}"
            );
        }
    }

    #[test]
    fn truncated_streams_yield_a_flagged_prefix() {
        let long: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        for (compressed, coding) in [(gzip(&long), "gzip"), (zlib(&long), "deflate")] {
            let cut = &compressed[..compressed.len() / 2];
            let (bytes, truncated) = ok(cut, Some(coding), usize::MAX);
            assert!(truncated, "{coding}");
            assert!(!bytes.is_empty() && long.starts_with(&bytes), "{coding}");
        }
        // Cut inside the 8-byte trailer: all data is there, still flagged.
        let g = gzip(TEXT);
        let (bytes, truncated) = ok(&g[..g.len() - 3], Some("gzip"), usize::MAX);
        assert_eq!((bytes.as_slice(), truncated), (TEXT, true));
    }

    #[test]
    fn cap_exactly_full_is_not_truncated() {
        assert_eq!(
            ok(&gzip(TEXT), Some("gzip"), TEXT.len()),
            (TEXT.to_vec(), false)
        );
        let (bytes, truncated) = ok(&gzip(TEXT), Some("gzip"), 10);
        assert_eq!((bytes.as_slice(), truncated), (&TEXT[..10], true));
    }

    #[test]
    fn gzip_bomb_stops_at_cap() {
        // 64 MiB of zeros in one gzip member (~64 KB compressed): the cap must stop it early.
        let zeros = vec![0u8; 1 << 20];
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..64 {
            e.write_all(&zeros).unwrap();
        }
        let bomb = e.finish().unwrap();
        assert!(bomb.len() < 2 << 20, "bomb is {} bytes", bomb.len());
        let (bytes, truncated) = ok(&bomb, Some("gzip"), 4 << 20);
        assert_eq!((bytes.len(), truncated), (4 << 20, true));

        // The same zeros as 64 members: the cap spans members.
        let member = gzip(&zeros);
        let many: Vec<u8> = std::iter::repeat_n(&member[..], 64)
            .flatten()
            .copied()
            .collect();
        let (bytes, truncated) = ok(&many, Some("gzip"), 3 << 20);
        assert_eq!((bytes.len(), truncated), (3 << 20, true));
    }
}
