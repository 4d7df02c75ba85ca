//! Reader edge cases: framings, offsets, and a table of broken inputs that must give errors,
//! never panics.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;

use super::*;

fn record(kind: &str, uri: &str, block: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "WARC/1.1\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\n\
         WARC-Date: 2026-01-02T03:04:05Z\r\nContent-Length: {}\r\n\r\n",
        block.len()
    )
    .into_bytes();
    r.extend_from_slice(block);
    r.extend_from_slice(b"\r\n\r\n");
    r
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const HTTP: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>hi</p>";

fn all(bytes: &[u8]) -> Vec<Result<Record, ReadError>> {
    WarcReader::new(bytes).collect()
}

#[test]
fn gzip_members_report_member_offsets() {
    let a = gz(&record("response", "http://a.example/", HTTP));
    let b = gz(&record("resource", "http://b.example/", b"plain"));
    let file = [a.clone(), b.clone()].concat();
    let recs: Vec<Record> = all(&file).into_iter().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 2);
    assert_eq!((recs[0].offset, recs[0].length), (0, a.len() as u64));
    assert_eq!(
        (recs[1].offset, recs[1].length),
        (a.len() as u64, b.len() as u64)
    );
    assert_eq!(recs[0].framing, Framing::GzipMember);
    assert_eq!(recs[1].block, b"plain");
    let head = recs[0].http_head().unwrap();
    assert_eq!(head.status(), Some(200));
    assert_eq!(head.media_type(), Some("text/html"));
    assert_eq!(&recs[0].block[head.body_offset..], b"<p>hi</p>");
    // Seeking to the offset and inflating one member gives the record back.
    let mut text = String::new();
    flate2::read::GzDecoder::new(&file[recs[1].offset as usize..])
        .read_to_string(&mut text)
        .unwrap();
    assert!(text.contains("http://b.example/"));
}

#[test]
fn uncompressed_offsets_exclude_trailing_blank_lines() {
    let a = record("response", "http://a.example/", HTTP);
    let b = record("metadata", "http://a.example/", b"x: y\r\n");
    let file = [a.clone(), b.clone()].concat();
    let recs: Vec<Record> = all(&file).into_iter().map(Result::unwrap).collect();
    assert_eq!(recs[0].framing, Framing::Uncompressed);
    assert_eq!((recs[0].offset, recs[0].length), (0, a.len() as u64 - 4));
    assert_eq!(recs[1].offset, a.len() as u64);
}

#[test]
fn whole_file_gzip_is_read_with_decompressed_offsets() {
    let a = record("response", "http://a.example/", HTTP);
    let b = record("resource", "http://b.example/", b"plain");
    let file = gz(&[a.clone(), b.clone()].concat());
    let recs: Vec<Record> = all(&file).into_iter().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 2);
    for r in &recs {
        assert_eq!(r.framing, Framing::SharedGzipMember { member_offset: 0 });
    }
    assert_eq!(recs[1].offset, a.len() as u64);
    assert_eq!(recs[1].length, b.len() as u64 - 4);
}

#[test]
fn angle_brackets_headers_and_case() {
    let rec = b"WARC/1.0\r\nwarc-type: response\r\nWARC-Target-URI: <http://w.example/>\r\n\
                X-Folded: a\r\n  b\r\nContent-Length: 0\r\n\r\n\r\n\r\n";
    let r = all(rec).pop().unwrap().unwrap();
    assert_eq!(r.target_uri(), Some("http://w.example/"));
    assert_eq!(r.record_type(), Some("response"));
    assert_eq!(r.headers.0[0].0, "warc-type");
    assert_eq!(r.get("x-folded"), Some("a b"));
}

#[test]
fn blocks_are_capped_and_still_digested() {
    let body = vec![b'x'; 10_000];
    let block = [HTTP, &body].concat();
    let opts = ReaderOptions {
        max_block_in_memory: 100,
        compute_missing_payload_digest: true,
    };
    let file = gz(&record("response", "http://a.example/", &block));
    let r = WarcReader::with_options(&file[..], opts)
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(r.block.len(), 100);
    assert!(!r.block_complete());
    assert_eq!(r.block_length, block.len() as u64);
    let payload = [&b"<p>hi</p>"[..], &body].concat();
    assert_eq!(
        r.computed_payload_digest.as_deref(),
        Some(crate::archive::digest::sha1_digest(&[&payload]).as_str())
    );
}

#[test]
fn non_utf8_headers_decode_as_latin1() {
    let mut rec = b"WARC/1.1\r\nWARC-Type: resource\r\nX-Name: caf\xe9\r\n".to_vec();
    rec.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    let r = all(&rec).pop().unwrap().unwrap();
    assert_eq!(r.get("X-Name"), Some("café"));
}

#[test]
fn garbage_between_members_is_reported_and_skipped() {
    let a = gz(&record("resource", "http://a.example/", b"1"));
    let b = gz(&record("resource", "http://b.example/", b"2"));
    let file = [a.clone(), b"JUNK\x1fJUNK".to_vec(), b.clone()].concat();
    let items = all(&file);
    assert_eq!(items.len(), 3);
    assert!(
        matches!(items[1], Err(ReadError::Garbage { offset, len: 9 }) if offset == a.len() as u64)
    );
    assert_eq!(items[2].as_ref().unwrap().offset, a.len() as u64 + 9);
}

/// Broken inputs and the error each gives.
#[test]
fn broken_inputs_give_errors() {
    let good = record("response", "http://a.example/", HTTP);
    let member = gz(&good);
    let no_length = b"WARC/1.1\r\nWARC-Type: resource\r\n\r\nabc".to_vec();
    let bad_length = b"WARC/1.1\r\nContent-Length: 12x\r\n\r\nabc".to_vec();
    type Case = (&'static str, Vec<u8>, fn(&ReadError) -> bool);
    let cases: Vec<Case> = vec![
        (
            "truncated member",
            member[..member.len() / 2].to_vec(),
            |e| matches!(e, ReadError::Gzip { .. } | ReadError::Truncated { .. }),
        ),
        (
            "member without trailer",
            member[..member.len() - 8].to_vec(),
            |e| matches!(e, ReadError::Gzip { .. } | ReadError::Truncated { .. }),
        ),
        (
            "truncated plain block",
            good[..good.len() - 10].to_vec(),
            |e| matches!(e, ReadError::Truncated { .. }),
        ),
        ("truncated headers", good[..30].to_vec(), |e| {
            matches!(e, ReadError::Truncated { .. })
        }),
        ("missing Content-Length", no_length.clone(), |e| {
            matches!(e, ReadError::MissingContentLength { .. })
        }),
        ("missing Content-Length, gzip", gz(&no_length), |e| {
            matches!(e, ReadError::MissingContentLength { .. })
        }),
        ("bad Content-Length", bad_length, |e| {
            matches!(e, ReadError::BadContentLength { .. })
        }),
        ("not a WARC", b"<html>hello</html>".to_vec(), |e| {
            matches!(e, ReadError::NotWarc { .. })
        }),
        ("gzip of not a WARC", gz(b"hello"), |e| {
            matches!(e, ReadError::NotWarc { .. })
        }),
        (
            "corrupt deflate data",
            {
                let mut m = member.clone();
                for b in &mut m[12..40] {
                    *b ^= 0x55;
                }
                m
            },
            |e| {
                matches!(
                    e,
                    ReadError::Gzip { .. }
                        | ReadError::NotWarc { .. }
                        | ReadError::Truncated { .. }
                )
            },
        ),
    ];
    for (name, input, ok) in cases {
        let items = all(&input);
        let err = items.iter().find_map(|i| i.as_ref().err());
        assert!(err.is_some_and(ok), "{name}: {items:?}");
    }
}

#[test]
fn empty_input_has_no_records() {
    assert!(all(b"").is_empty());
    assert!(all(b"\r\n\r\n").is_empty());
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
        for item in WarcReader::new(&data[..]).take(50) {
            let _ = item.map(|r| (r.http_head(), r.target_uri().map(str::to_owned)));
        }
    }

    #[test]
    fn mangled_records_never_panic(cut in 0usize..400, flip in 0usize..400, byte in any::<u8>()) {
        let mut file = gz(&record("response", "http://a.example/", HTTP));
        file.extend(record("response", "http://b.example/", HTTP));
        if flip < file.len() { file[flip] = byte; }
        file.truncate(cut.min(file.len()));
        for item in WarcReader::new(&file[..]).take(50) {
            let _ = item.map(|r| r.http_head());
        }
    }
}
