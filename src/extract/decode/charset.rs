//! Charset choice and decoding for text bodies (HTML, CSS): BOM, then HTTP `charset=`, then
//! an in-document declaration (`<meta>` prescan for HTML, `@charset` for CSS), then
//! detection with `chardetng`. Decoding never fails: malformed sequences become U+FFFD.

use std::borrow::Cow;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// How far into the body the `<meta>` prescan looks, as in the HTML standard.
const PRESCAN_LIMIT: usize = 1024;
/// How much the detector sees: enough to decide, bounded so huge pages stay cheap.
const DETECT_LIMIT: usize = 64 * 1024;

/// Decode `bytes` to text, returning the text and the encoding used. `content_type` is the
/// HTTP header value, if any. Valid UTF-8 that declares nothing else is borrowed, not
/// copied.
pub fn decode_text<'a>(
    bytes: &'a [u8],
    content_type: Option<&str>,
) -> (Cow<'a, str>, &'static Encoding) {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let body = bytes.get(bom_len..).unwrap_or_default();
        return (enc.decode_without_bom_handling(body).0, enc);
    }
    let enc = content_type
        .and_then(charset_param)
        .or_else(|| declared_in_document(bytes, content_type))
        .unwrap_or_else(|| detect(bytes));
    (enc.decode_without_bom_handling(bytes).0, enc)
}

/// The `charset` parameter of a Content-Type value, if it names a known encoding.
fn charset_param(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        Encoding::for_label(value.as_bytes())
    })
}

fn declared_in_document(bytes: &[u8], content_type: Option<&str>) -> Option<&'static Encoding> {
    let is_css = content_type.is_some_and(|ct| {
        let essence = ct.split(';').next().unwrap_or_default().trim();
        essence.eq_ignore_ascii_case("text/css")
    });
    let enc = if is_css {
        css_charset_rule(bytes)?
    } else {
        meta_prescan(bytes.get(..PRESCAN_LIMIT).unwrap_or(bytes))?
    };
    // A document cannot really be UTF-16 if its ASCII declaration was readable; both
    // standards say to use UTF-8 then. x-user-defined in <meta> means windows-1252.
    Some(
        if enc == encoding_rs::UTF_16BE || enc == encoding_rs::UTF_16LE {
            UTF_8
        } else if enc == encoding_rs::X_USER_DEFINED {
            WINDOWS_1252
        } else {
            enc
        },
    )
}

/// `@charset "label";` at the very start of a stylesheet (CSS Syntax §3.2).
fn css_charset_rule(bytes: &[u8]) -> Option<&'static Encoding> {
    let rest = bytes.strip_prefix(b"@charset \"")?;
    let end = rest.iter().take(64).position(|&b| b == b'"')?;
    if rest.get(end + 1) != Some(&b';') {
        return None;
    }
    Encoding::for_label(&rest[..end])
}

/// Detection for undeclared bodies. Valid UTF-8 (allowing a sequence cut at the very end,
/// as in a truncated capture) is taken as UTF-8 without asking the detector.
fn detect(bytes: &[u8]) -> &'static Encoding {
    match std::str::from_utf8(bytes) {
        Ok(_) => return UTF_8,
        Err(e) if e.error_len().is_none() => return UTF_8,
        Err(_) => {}
    }
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    let sample = bytes.get(..DETECT_LIMIT).unwrap_or(bytes);
    detector.feed(sample, true);
    detector.guess(None, Utf8Detection::Allow)
}

fn is_ws(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.get(..needle.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(needle))
}

/// The HTML standard's prescan, simplified to what matters here: comments and other
/// markup are skipped, attribute values are read with quoting so a `>` inside one does not
/// end a tag, and the first `<meta>` that declares a known charset wins.
fn meta_prescan(b: &[u8]) -> Option<&'static Encoding> {
    let mut pos = 0;
    while pos < b.len() {
        let rest = &b[pos..];
        if rest.starts_with(b"<!--") {
            // The `-->` may share the opener's dashes: `<!-->` is a whole comment.
            pos += 2 + find(&rest[2..], b"-->").map_or(rest.len(), |p| p + 3);
        } else if starts_with_ci(rest, b"<meta")
            && rest.get(5).is_some_and(|&c| is_ws(c) || c == b'/')
        {
            let (enc, next) = meta_element(b, pos + 5);
            if enc.is_some() {
                return enc;
            }
            pos = next;
        } else if rest.len() > 2
            && rest[0] == b'<'
            && (rest[1].is_ascii_alphabetic() || (rest[1] == b'/' && rest[2].is_ascii_alphabetic()))
        {
            pos += rest
                .iter()
                .position(|&c| is_ws(c) || c == b'>')
                .unwrap_or(rest.len());
            while let Some((_, _, next)) = attribute(b, pos) {
                pos = next;
            }
        } else if rest.starts_with(b"<!") || rest.starts_with(b"</") || rest.starts_with(b"<?") {
            pos += rest.iter().position(|&c| c == b'>').unwrap_or(rest.len());
        } else {
            pos += 1;
        }
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Read a `<meta>`'s attributes from `pos`; returns the charset it declares, if any, and
/// where the prescan resumes.
fn meta_element(b: &[u8], mut pos: usize) -> (Option<&'static Encoding>, usize) {
    let mut got_pragma = false;
    let mut need_pragma = None;
    let mut charset = None;
    let mut seen: Vec<Vec<u8>> = Vec::new();
    while let Some((name, value, next)) = attribute(b, pos) {
        pos = next;
        if seen.contains(&name) {
            continue; // the first occurrence of an attribute wins
        }
        match name.as_slice() {
            b"http-equiv" => got_pragma = value == b"content-type",
            b"content" if charset.is_none() => {
                if let Some(enc) = charset_from_content(&value) {
                    charset = Some(enc);
                    need_pragma = Some(true);
                }
            }
            b"charset" => {
                charset = Encoding::for_label(&value);
                need_pragma = Some(false);
            }
            _ => {}
        }
        seen.push(name);
    }
    let enc = match need_pragma {
        Some(true) if !got_pragma => None,
        Some(_) => charset,
        None => None,
    };
    (enc, pos)
}

/// One attribute at `pos` (name and value lower-cased, as the prescan compares them), and
/// the position after it; `None` at `>` or the end.
fn attribute(b: &[u8], mut pos: usize) -> Option<(Vec<u8>, Vec<u8>, usize)> {
    while b.get(pos).is_some_and(|&c| is_ws(c) || c == b'/') {
        pos += 1;
    }
    if b.get(pos).is_none_or(|&c| c == b'>') {
        return None;
    }
    let mut name = Vec::new();
    while let Some(&c) = b.get(pos) {
        if (c == b'=' && !name.is_empty()) || is_ws(c) || c == b'/' || c == b'>' {
            break;
        }
        name.push(c.to_ascii_lowercase());
        pos += 1;
    }
    while b.get(pos).is_some_and(|&c| is_ws(c)) {
        pos += 1;
    }
    if b.get(pos) != Some(&b'=') {
        return Some((name, Vec::new(), pos));
    }
    pos += 1;
    while b.get(pos).is_some_and(|&c| is_ws(c)) {
        pos += 1;
    }
    let mut value = Vec::new();
    match b.get(pos) {
        Some(&q @ (b'"' | b'\'')) => {
            pos += 1;
            while let Some(&c) = b.get(pos) {
                pos += 1;
                if c == q {
                    break;
                }
                value.push(c.to_ascii_lowercase());
            }
        }
        _ => {
            while let Some(&c) = b.get(pos) {
                if is_ws(c) || c == b'>' {
                    break;
                }
                value.push(c.to_ascii_lowercase());
                pos += 1;
            }
        }
    }
    Some((name, value, pos))
}

/// `text/html; charset=shift_jis` → Shift_JIS (the standard's "extracting a character
/// encoding from a meta element").
fn charset_from_content(v: &[u8]) -> Option<&'static Encoding> {
    let mut pos = 0;
    loop {
        pos += find(v.get(pos..)?, b"charset")? + 7;
        while v.get(pos).is_some_and(|&c| is_ws(c)) {
            pos += 1;
        }
        if v.get(pos) != Some(&b'=') {
            continue;
        }
        pos += 1;
        while v.get(pos).is_some_and(|&c| is_ws(c)) {
            pos += 1;
        }
        let rest = v.get(pos..)?;
        let label = match rest.first() {
            Some(&q @ (b'"' | b'\'')) => {
                let end = rest[1..].iter().position(|&c| c == q)?;
                &rest[1..1 + end]
            }
            _ => {
                let end = rest
                    .iter()
                    .position(|&c| is_ws(c) || c == b';')
                    .unwrap_or(rest.len());
                &rest[..end]
            }
        };
        return Encoding::for_label(label);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{SHIFT_JIS, UTF_16LE, WINDOWS_1251};

    #[test]
    fn utf8_fast_path_borrows() {
        let (text, enc) = decode_text("<p>héllo</p>".as_bytes(), None);
        assert!(matches!(text, Cow::Borrowed("<p>héllo</p>")));
        assert_eq!(enc, UTF_8);
        let (text, _) = decode_text("plain".as_bytes(), Some("text/html; charset=UTF-8"));
        assert!(matches!(text, Cow::Borrowed(_)));
    }

    #[test]
    fn precedence_table() {
        let latin = b"<meta charset=windows-1251><p>caf\xe9</p>";
        let cases: &[(&[u8], Option<&str>, &'static Encoding, &str)] = &[
            // BOM beats header and meta.
            (
                b"\xef\xbb\xbfcaf\xc3\xa9",
                Some("text/html; charset=latin1"),
                UTF_8,
                "café",
            ),
            (b"\xff\xfea\0", None, UTF_16LE, "a"),
            // Header beats meta.
            (
                latin,
                Some("text/html; charset=\"ISO-8859-1\""),
                WINDOWS_1252,
                "café",
            ),
            (
                latin,
                Some("text/html;Charset = 'windows-1251' "),
                WINDOWS_1251,
                "caf",
            ),
            // Meta when the header has no (known) charset.
            (latin, Some("text/html"), WINDOWS_1251, "<p>caf"),
            (
                latin,
                Some("text/html; charset=bogus"),
                WINDOWS_1251,
                "<p>caf",
            ),
            (
                b"<META HTTP-EQUIV='Content-Type' CONTENT='text/html; charset=windows-1252'>\xe9",
                None,
                WINDOWS_1252,
                "é",
            ),
            (
                b"<meta content='text/html; charset=windows-1252'>\xe9",
                None,
                UTF_8,
                "\u{fffd}",
            ),
            (
                b"<!-- <meta charset=windows-1251> --><meta charset=utf-16>\xe9",
                None,
                UTF_8,
                "",
            ),
            (
                b"<meta charset=x-user-defined>\xe9",
                None,
                WINDOWS_1252,
                "é",
            ),
            (
                b"<div title='<meta charset=windows-1251>'></div>",
                None,
                UTF_8,
                "",
            ),
            (
                b"@charset \"windows-1251\";a{}\xe9",
                Some("text/css"),
                WINDOWS_1251,
                "",
            ),
            (b"@charset \"windows-1251\";a{}", None, UTF_8, "@charset"),
        ];
        for (bytes, ct, want_enc, want_text) in cases {
            let (text, enc) = decode_text(bytes, *ct);
            assert_eq!(enc, *want_enc, "{bytes:?}");
            assert!(text.contains(want_text), "{bytes:?} gave {text:?}");
        }
    }

    #[test]
    fn windows_1252_declared_in_meta() {
        let page =
            b"<!doctype html><html><head><meta charset=\"windows-1252\"><title>Caf\xe9</title>\
            </head><body>\x93quoted\x94 \x80 5</body></html>";
        let (text, enc) = decode_text(page, Some("text/html"));
        assert_eq!(enc, WINDOWS_1252);
        assert!(text.contains("Café") && text.contains("\u{201c}quoted\u{201d} € 5"));
    }

    #[test]
    fn shift_jis_without_declaration_is_detected() {
        let source = "<html><body><p>日本語のテキストです。これはシフトJISで書かれたページで、\
            宣言がありません。文字コードを推測する必要があります。</p></body></html>";
        let (bytes, _, _) = SHIFT_JIS.encode(source);
        let (text, enc) = decode_text(&bytes, None);
        assert_eq!(enc, SHIFT_JIS);
        assert_eq!(text, source);
    }

    #[test]
    fn malformed_input_is_replaced_not_rejected() {
        let (text, enc) = decode_text(b"ok \xff\xfe\xfd bad", Some("text/html; charset=utf-8"));
        assert_eq!(enc, UTF_8);
        assert!(text.contains('\u{fffd}'));
        // A UTF-8 sequence cut at the end (truncated capture) still counts as UTF-8.
        let (text, enc) = decode_text("café".as_bytes().split_last().unwrap().1, None);
        assert_eq!((enc, text.as_ref()), (UTF_8, "caf\u{fffd}"));
    }

    #[test]
    fn prescan_garbage_does_not_panic() {
        for b in [
            &b"<meta"[..],
            b"<meta ",
            b"<meta charset",
            b"<meta charset=",
            b"<meta content='",
            b"<!--",
            b"<!",
            b"</",
            b"<a",
            b"<a b='",
            b"<meta content=\"charset=\"",
            b"<meta content='charset=\"x'>",
            b"<meta/charset=utf-8",
        ] {
            let _ = decode_text(b, None);
        }
    }
}
