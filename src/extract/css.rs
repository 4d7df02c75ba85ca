//! URLs referenced by CSS: `url(...)` tokens and `@import "..."` strings, from stylesheets,
//! `<style>` elements and `style` attributes.
//!
//! This is a hand-written scanner rather than `cssparser`: we only need the URL tokens, not
//! a parse tree, and a single forward pass over the bytes is linear by construction and
//! cannot be driven into deep nesting or backtracking by garbage input. It follows the
//! CSS Syntax tokenizer where that matters for URLs: comments and strings are skipped (a
//! `url(` inside a string is not a URL), escapes are decoded, an unescaped newline ends a
//! string, and `url(` must start an identifier.

use std::collections::HashSet;

use url::Url;

use crate::canonical::parse_link;

/// Every URL referenced by `css`, resolved against `base`, de-duplicated in first-seen
/// order. `data:` URIs, empty values and non-http(s) results are dropped.
pub fn css_urls(css: &str, base: &Url) -> Vec<Url> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for raw in raw_css_urls(css) {
        if let Some(url) = parse_link(base, &raw)
            && seen.insert(url.clone())
        {
            out.push(url);
        }
    }
    out
}

/// The URL texts in `css`, unresolved, in order, escapes decoded.
fn raw_css_urls(css: &str) -> Vec<String> {
    let b = css.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // Every branch advances `i` by at least one byte and nothing ever moves it back, so the
    // scan is linear whatever the input.
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'*') => i = skip_comment(b, i),
            q @ (b'"' | b'\'') => i = read_string(css, i + 1, q).0,
            b'\\' => i = escape_end(css, i),
            b'@' => {
                let end = ident_end(css, i + 1);
                if b[i + 1..end].eq_ignore_ascii_case(b"import") {
                    let j = skip_ws_and_comments(b, end);
                    if let Some(&q @ (b'"' | b'\'')) = b.get(j) {
                        let (next, value) = read_string(css, j + 1, q);
                        out.extend(value);
                        i = next;
                        continue;
                    }
                    // `@import url(...)` is found by the `url(` branch on the next turn.
                    i = j.max(i + 1);
                    continue;
                }
                i = end.max(i + 1);
            }
            c if is_ident_start(c) => {
                let end = ident_end(css, i);
                if b.get(end) == Some(&b'(') && b[i..end].eq_ignore_ascii_case(b"url") {
                    let (next, value) = read_url_body(css, end + 1);
                    out.extend(value);
                    i = next;
                } else {
                    i = end.max(i + 1);
                }
            }
            _ => i += 1,
        }
    }
    out
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0C')
}

fn is_newline(c: u8) -> bool {
    matches!(c, b'\n' | b'\r' | b'\x0C')
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'-' || c >= 0x80
}

fn is_ident_char(c: u8) -> bool {
    is_ident_start(c) || c.is_ascii_digit()
}

/// Index just past the comment opening at `i` (or the end, if unclosed).
fn skip_comment(b: &[u8], i: usize) -> usize {
    let body = i + 2;
    b.get(body..)
        .and_then(|rest| rest.windows(2).position(|w| w == b"*/"))
        .map_or(b.len(), |p| body + p + 2)
}

fn skip_ws_and_comments(b: &[u8], mut i: usize) -> usize {
    loop {
        match b.get(i) {
            Some(&c) if is_ws(c) => i += 1,
            Some(b'/') if b.get(i + 1) == Some(&b'*') => i = skip_comment(b, i),
            _ => return i,
        }
    }
}

/// End of the identifier starting at `i` (escapes included).
fn ident_end(css: &str, mut i: usize) -> usize {
    let b = css.as_bytes();
    while let Some(&c) = b.get(i) {
        if is_ident_char(c) {
            i += 1;
        } else if c == b'\\' && b.get(i + 1).is_some_and(|&n| !is_newline(n)) {
            i = escape_end(css, i);
        } else {
            break;
        }
    }
    i
}

/// Decode the escape whose backslash is at `i` (the caller checked that a non-newline
/// follows). Returns the index after it and the character it stands for.
fn decode_escape(css: &str, i: usize) -> (usize, char) {
    let b = css.as_bytes();
    let mut j = i + 1;
    let mut value: u32 = 0;
    while j < b.len() && j < i + 7 && b[j].is_ascii_hexdigit() {
        value = value * 16 + char::from(b[j]).to_digit(16).unwrap_or(0);
        j += 1;
    }
    if j > i + 1 {
        // One whitespace after a hex escape belongs to it; CR LF counts as one.
        if b.get(j) == Some(&b'\r') && b.get(j + 1) == Some(&b'\n') {
            j += 2;
        } else if b.get(j).is_some_and(|&c| is_ws(c)) {
            j += 1;
        }
        let c = match value {
            0 => char::REPLACEMENT_CHARACTER,
            v => char::from_u32(v).unwrap_or(char::REPLACEMENT_CHARACTER),
        };
        return (j, c);
    }
    match css.get(j..).and_then(|rest| rest.chars().next()) {
        Some(c) => (j + c.len_utf8(), c),
        None => (b.len(), char::REPLACEMENT_CHARACTER),
    }
}

/// Index after the escape at `i`, for places that skip rather than decode.
fn escape_end(css: &str, i: usize) -> usize {
    if css.as_bytes().get(i + 1).is_some_and(|&n| !is_newline(n)) {
        decode_escape(css, i).0
    } else {
        i + 1
    }
}

/// Read a string body starting at `i` (after the opening quote). Returns the index after
/// the string and its value, or `None` for a bad string (ended by an unescaped newline).
fn read_string(css: &str, mut i: usize, quote: u8) -> (usize, Option<String>) {
    let b = css.as_bytes();
    let mut value = String::new();
    let mut run = i;
    while let Some(&c) = b.get(i) {
        if c == quote {
            value.push_str(&css[run..i]);
            return (i + 1, Some(value));
        } else if is_newline(c) {
            return (i, None);
        } else if c == b'\\' {
            value.push_str(&css[run..i]);
            match b.get(i + 1) {
                None => i += 1,
                Some(b'\r') if b.get(i + 2) == Some(&b'\n') => i += 3,
                Some(&n) if is_newline(n) => i += 2,
                Some(_) => {
                    let (next, ch) = decode_escape(css, i);
                    value.push(ch);
                    i = next;
                }
            }
            run = i;
        } else {
            i += 1;
        }
    }
    // Unclosed at end of input: CSS still yields the string.
    value.push_str(&css[run.min(b.len())..]);
    (b.len(), Some(value))
}

/// Read what follows `url(`. Returns the index after the closing `)` and the URL, if the
/// token is well formed.
fn read_url_body(css: &str, start: usize) -> (usize, Option<String>) {
    let b = css.as_bytes();
    let mut i = start;
    while b.get(i).is_some_and(|&c| is_ws(c)) {
        i += 1;
    }
    if let Some(&q @ (b'"' | b'\'')) = b.get(i) {
        let (next, value) = read_string(css, i + 1, q);
        // `url("x" junk)` is unusual; skip to the closing paren either way.
        let close = b[next..].iter().position(|&c| c == b')');
        return (close.map_or(b.len(), |p| next + p + 1), value);
    }
    let mut value = String::new();
    let mut run = i;
    while let Some(&c) = b.get(i) {
        match c {
            b')' => {
                value.push_str(&css[run..i]);
                return (i + 1, Some(value));
            }
            c if is_ws(c) => {
                value.push_str(&css[run..i]);
                let j = i + b[i..].iter().take_while(|&&c| is_ws(c)).count();
                return match b.get(j) {
                    Some(b')') => (j + 1, Some(value)),
                    None => (j, Some(value)),
                    Some(_) => (skip_bad_url(css, j), None),
                };
            }
            b'"' | b'\'' | b'(' | 0..=0x08 | 0x0B | 0x0E..=0x1F | 0x7F => {
                return (skip_bad_url(css, i), None);
            }
            b'\\' => {
                value.push_str(&css[run..i]);
                if b.get(i + 1).is_none_or(|&n| is_newline(n)) {
                    return (skip_bad_url(css, i), None);
                }
                let (next, ch) = decode_escape(css, i);
                value.push(ch);
                i = next;
                run = i;
            }
            _ => i += 1,
        }
    }
    value.push_str(&css[run.min(b.len())..]);
    (b.len(), Some(value))
}

/// Consume the remnants of a bad url token: up to and including `)`, escapes skipped.
fn skip_bad_url(css: &str, mut i: usize) -> usize {
    let b = css.as_bytes();
    while let Some(&c) = b.get(i) {
        match c {
            b')' => return i + 1,
            b'\\' => i = escape_end(css, i),
            _ => i += 1,
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn base() -> Url {
        Url::parse("https://example.com/css/site.css").unwrap()
    }

    fn urls(css: &str) -> Vec<String> {
        css_urls(css, &base())
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            (
                "a{background:url(a.png)}",
                &["https://example.com/css/a.png"],
            ),
            (
                "a{background:URL( 'b.png' )}",
                &["https://example.com/css/b.png"],
            ),
            (
                "a{background:url(\"/c.png\")}",
                &["https://example.com/c.png"],
            ),
            ("a{b:url(  d.png  )}", &["https://example.com/css/d.png"]),
            (
                "a{b:url(\n\"e.png\"\n)}",
                &["https://example.com/css/e.png"],
            ),
            (
                r"a{b:url(f\(1\).png)}",
                &["https://example.com/css/f(1).png"],
            ),
            (
                r"a{b:url('g\'q.png')}",
                &["https://example.com/css/g'q.png"],
            ),
            (r"a{b:url(\68 .png)}", &["https://example.com/css/h.png"]),
            ("@import \"i.css\";", &["https://example.com/css/i.css"]),
            (
                "@IMPORT 'j.css' screen;",
                &["https://example.com/css/j.css"],
            ),
            ("@import url(k.css);", &["https://example.com/css/k.css"]),
            (
                "@import /* c */ 'l.css';",
                &["https://example.com/css/l.css"],
            ),
            (
                "/* url(no.png) */ a{b:url(m.png)}",
                &["https://example.com/css/m.png"],
            ),
            ("a{content:\"url(no.png)\"}", &[]),
            ("a{b:url(data:image/png;base64,AAAA)}", &[]),
            ("a{b:url()} a{b:url('')} a{b:url(#x)}", &[]),
            (
                "a{b:url(n.png)} c{d:url(n.png#frag)}",
                &["https://example.com/css/n.png"],
            ),
            ("a{b:myurl(o.png)}", &[]),
            ("a{b:url(p q.png)}", &[]),
            (
                "a{b:url(p\"q.png)} r{s:url(ok.png)}",
                &["https://example.com/css/ok.png"],
            ),
            (
                "a{b:url(//cdn.example.net/f.woff2)}",
                &["https://cdn.example.net/f.woff2"],
            ),
            (
                "@font-face{src:url(a.woff2) format('woff2'),url(a.woff) format('woff')}",
                &[
                    "https://example.com/css/a.woff2",
                    "https://example.com/css/a.woff",
                ],
            ),
            (
                "a{b:url(unclosed.png",
                &["https://example.com/css/unclosed.png"],
            ),
            (
                "a{b:url('unclosed.png",
                &["https://example.com/css/unclosed.png"],
            ),
            ("/* unclosed comment url(x.png)", &[]),
            ("a{b:url('bad\nstring.png')}", &[]),
            ("a{b:url(javascript:alert(1))}", &[]),
            ("\\@import 'no.css'", &[]),
        ];
        for (css, want) in cases {
            assert_eq!(urls(css), *want, "css {css:?}");
        }
    }

    #[test]
    fn garbage_does_not_panic() {
        for css in [
            "",
            "url(",
            "url('",
            "@",
            "@import",
            "@import '",
            "\\",
            "url(\\",
            "'\\",
            "/*",
            "/",
            "url(\\\n)",
            "é\\é url(é) @importé",
            "url(\\110000)",
            "\u{0}url(\u{0})",
        ] {
            let _ = urls(css);
        }
    }

    #[test]
    fn large_input_is_linear() {
        // Pathological shapes for a backtracking scanner: many openers, nothing closed.
        let css = "url(".repeat(50_000) + &"/*".repeat(50_000) + &"'".repeat(50_000);
        // No timing assertion (shared machines): a quadratic scanner would make this test
        // visibly slow rather than flaky.
        let _ = urls(&css);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_css_never_panics(css in any::<String>()) {
            for u in css_urls(&css, &base()) {
                prop_assert!(u.fragment().is_none());
            }
        }

        #[test]
        fn css_shaped_input_never_panics(
            css in r#"([a-z{}:;()'" \\/*@\n-]|url\(|@import|/\*|\*/){0,40}"#
        ) {
            let _ = css_urls(&css, &base());
        }
    }
}
