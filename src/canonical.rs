//! The crawler's one URL canonicaliser: turning raw link text into absolute URLs
//! ([`parse_link`]) and turning URLs into the normal form used as the dedup and scope key
//! ([`canonicalize`], [`canonical_key`]).
//!
//! Everything is built on the `url` crate, which already lowercases scheme and host, applies
//! IDNA to hosts, drops default ports and removes dot segments. On top of that we only do
//! the normalisations RFC 3986 §6.2.2 calls semantics-preserving: percent-encoding case and
//! decoding of unreserved characters. Query parameters are never reordered: servers may
//! give them meaning by position.

use std::borrow::Cow;

use url::Url;

/// Schemes that are never fetchable; rejected before joining so that a huge `data:` URI is
/// not parsed (and copied) just to be thrown away.
const IGNORED_PREFIXES: &[&str] = &["mailto:", "javascript:", "data:", "tel:", "about:"];

/// HTML's ASCII whitespace: what browsers strip around attribute URLs.
fn is_html_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0C' | '\r')
}

/// Resolve `raw` (an href/src value as written) against `base`.
///
/// Returns `None` for empty or fragment-only values, for `mailto:`, `javascript:`, `data:`,
/// `tel:` and `about:`, for anything that is not http/https after joining, and for text
/// the URL parser rejects. The fragment is dropped. The result is *not* canonicalised: it
/// is the URL to fetch as the page wrote it; use [`canonical_key`] to dedup.
pub fn parse_link(base: &Url, raw: &str) -> Option<Url> {
    let trimmed = raw.trim_matches(is_html_space);
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return None;
    }
    // Byte-wise prefix check: `get` avoids slicing inside a multi-byte character.
    let ignored = IGNORED_PREFIXES.iter().any(|p| {
        trimmed
            .as_bytes()
            .get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p.as_bytes()))
    });
    if ignored {
        return None;
    }
    let mut url = base.join(trimmed).ok()?;
    // Catches `java\tscript:` (the parser strips tabs) and every other scheme.
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

/// The normal form of `url`: no fragment, no empty query, percent-escapes upper-cased,
/// unreserved characters (`A-Za-z0-9-._~`) decoded in path and query, stray `%` encoded as
/// `%25`, and `/` as the path of a URL with a host and an empty path.
///
/// Idempotent: `canonicalize(&canonicalize(u)) == canonicalize(u)`.
pub fn canonicalize(url: &Url) -> Url {
    let mut out = url.clone();
    out.set_fragment(None);
    if !out.cannot_be_a_base() {
        if out.path().is_empty() && out.has_host() {
            out.set_path("/");
        }
        if let Cow::Owned(path) = normalize_percent(out.path()) {
            out.set_path(&path);
        }
    }
    match out.query() {
        Some("") => out.set_query(None),
        Some(q) => {
            if let Cow::Owned(query) = normalize_percent(q) {
                out.set_query(Some(&query));
            }
        }
        None => {}
    }
    out
}

/// The dedup key of `url`: its canonical serialisation.
pub fn canonical_key(url: &Url) -> String {
    canonicalize(url).as_str().to_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Normalise percent-escapes in an already-serialised (hence ASCII) URL component.
///
/// A `%` not followed by two hex digits becomes `%25`: left alone, decoding a neighbour
/// could turn it into a different, valid escape (`%%414` would become `%A4`), and two
/// distinct URLs would share a key.
fn normalize_percent(s: &str) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    if !bytes.contains(&b'%') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'%' {
            // Copy the run up to the next '%' in one go (the run is valid UTF-8: it starts
            // and ends at ASCII boundaries of a str).
            let end = bytes[i..]
                .iter()
                .position(|&c| c == b'%')
                .map_or(bytes.len(), |p| i + p);
            out.push_str(&s[i..end]);
            i = end;
            continue;
        }
        let hi = bytes.get(i + 1).copied().and_then(hex_val);
        let lo = bytes.get(i + 2).copied().and_then(hex_val);
        match (hi, lo) {
            (Some(h), Some(l)) => {
                let v = h * 16 + l;
                if is_unreserved(v) {
                    out.push(char::from(v));
                    changed = true;
                } else {
                    const HEX: &[u8; 16] = b"0123456789ABCDEF";
                    let (a, c) = (HEX[usize::from(h)], HEX[usize::from(l)]);
                    changed |= a != bytes[i + 1] || c != bytes[i + 2];
                    out.push('%');
                    out.push(char::from(a));
                    out.push(char::from(c));
                }
                i += 3;
            }
            _ => {
                out.push_str("%25");
                changed = true;
                i += 1;
            }
        }
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn base() -> Url {
        Url::parse("https://example.com/dir/page.html?x=1#top").unwrap()
    }

    #[test]
    fn parse_link_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("other.html", Some("https://example.com/dir/other.html")),
            (
                "  \n other.html\t ",
                Some("https://example.com/dir/other.html"),
            ),
            ("/a b", Some("https://example.com/a%20b")),
            ("../up#frag", Some("https://example.com/up")),
            ("?q=1", Some("https://example.com/dir/page.html?q=1")),
            (
                "//cdn.example.net/x.js",
                Some("https://cdn.example.net/x.js"),
            ),
            ("HTTP://EXAMPLE.org:80/", Some("http://example.org/")),
            ("http://bücher.de/", Some("http://xn--bcher-kva.de/")),
            ("/p%zz", Some("https://example.com/p%zz")),
            ("/a\n/b", Some("https://example.com/a/b")),
            ("", None),
            ("   ", None),
            ("#", None),
            ("#section", None),
            ("mailto:a@b.c", None),
            ("MAILTO:a@b.c", None),
            ("javascript:void(0)", None),
            (" JavaScript:alert(1)", None),
            ("java\tscript:alert(1)", None),
            ("data:image/png;base64,AAAA", None),
            ("tel:+123", None),
            ("about:blank", None),
            ("ftp://example.com/f", None),
            ("file:///etc/passwd", None),
            ("http://", None),
            ("http://[::1", None),
            ("é", Some("https://example.com/dir/%C3%A9")),
        ];
        for (raw, want) in cases {
            let got = parse_link(&base(), raw).map(|u| u.to_string());
            assert_eq!(got.as_deref(), *want, "raw {raw:?}");
        }
    }

    #[test]
    fn canonicalize_table() {
        let cases: &[(&str, &str)] = &[
            ("https://Example.COM", "https://example.com/"),
            ("https://example.com:443/a", "https://example.com/a"),
            ("http://example.com/a?", "http://example.com/a"),
            ("http://example.com/a?#f", "http://example.com/a"),
            ("http://example.com/a#f", "http://example.com/a"),
            ("http://example.com/%7euser/", "http://example.com/~user/"),
            ("http://example.com/%41%2f%2F", "http://example.com/A%2F%2F"),
            ("http://example.com/%c3%a9", "http://example.com/%C3%A9"),
            ("http://example.com/a/./b/../c", "http://example.com/a/c"),
            ("http://example.com/?b=2&a=1", "http://example.com/?b=2&a=1"),
            (
                "http://example.com/?q=%7e%26%3d",
                "http://example.com/?q=~%26%3D",
            ),
            ("http://example.com/?q=a+b", "http://example.com/?q=a+b"),
            ("http://example.com/%zz", "http://example.com/%25zz"),
            ("http://example.com/%%414", "http://example.com/%25A4"),
            ("http://example.com/100%", "http://example.com/100%25"),
            ("foo://host", "foo://host/"),
            ("mailto:a@b.c?", "mailto:a@b.c"),
        ];
        for (input, want) in cases {
            let url = Url::parse(input).unwrap();
            assert_eq!(canonical_key(&url), *want, "input {input}");
            let again = canonicalize(&canonicalize(&url));
            assert_eq!(again.as_str(), *want, "idempotent {input}");
        }
    }

    #[test]
    fn distinct_urls_keep_distinct_keys() {
        let a = Url::parse("http://example.com/%%414").unwrap();
        let b = Url::parse("http://example.com/%A4").unwrap();
        assert_ne!(canonical_key(&a), canonical_key(&b));
    }

    /// Bases with a query, an IPv6 host and port, an IDNA host and path parameters, so that
    /// relative, scheme-relative and query-only strings resolve in different places.
    const BASES: &[&str] = &[
        "https://example.com/dir/page.html?x=1#top",
        "http://[::1]:8080/",
        "https://xn--bcher-kva.de/a/b/c;p=1/",
        "http://example.org",
    ];

    /// Arbitrary text, and text made of the characters URLs are made of.
    fn link_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "(https?://)?[a-zA-Z0-9.:@%/?#&=;_~\\-\\[\\]]{0,60}",
            // Dot segments, escaped dots and slashes, broken escapes.
            "(//|/|\\.\\./|\\./)?([a-zA-Z0-9%]{0,3}(%[0-9a-fA-F]{0,2}|%2[eEfF]|\\.)?[./]){0,8}(\\?[%a-z0-9=&.]{0,12})?",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parsed_links_canonicalize_idempotently(base in 0..BASES.len(), raw in link_text()) {
            let base = Url::parse(BASES[base]).unwrap();
            if let Some(u) = parse_link(&base, &raw) {
                prop_assert!(matches!(u.scheme(), "http" | "https"));
                prop_assert!(u.fragment().is_none());
                let once = canonicalize(&u);
                let twice = canonicalize(&once);
                prop_assert_eq!(twice.as_str(), once.as_str());
                prop_assert_eq!(canonical_key(&once), canonical_key(&u));
                // The key is a URL that parses back to itself (resumed crawls store keys).
                let reparsed = Url::parse(&canonical_key(&u));
                prop_assert!(reparsed.is_ok());
                if let Ok(r) = reparsed {
                    prop_assert_eq!(canonical_key(&r), canonical_key(&u));
                }
            }
        }

        #[test]
        fn parse_link_never_panics(raw in any::<String>()) {
            if let Some(u) = parse_link(&base(), &raw) {
                prop_assert!(u.fragment().is_none());
                prop_assert!(matches!(u.scheme(), "http" | "https"));
            }
        }

        #[test]
        fn canonicalize_is_idempotent_on_arbitrary_links(raw in any::<String>()) {
            if let Some(u) = parse_link(&base(), &raw) {
                let once = canonicalize(&u);
                let twice = canonicalize(&once);
                prop_assert_eq!(twice.as_str(), once.as_str());
            }
        }

        #[test]
        fn canonicalize_is_idempotent_on_url_shaped_input(
            scheme in "(http|https|HTTP)",
            host in "[a-zA-Z0-9.-]{1,12}",
            port in proptest::option::of(0u16..),
            path in "(/[a-zA-Z0-9%._~!$&'()*+,;=:@ -]{0,8}){0,4}",
            query in proptest::option::of("[a-zA-Z0-9%._~&=+/?-]{0,16}"),
            frag in proptest::option::of("[a-z0-9%]{0,4}"),
        ) {
            let mut s = format!("{scheme}://{host}");
            if let Some(p) = port { s.push_str(&format!(":{p}")); }
            s.push_str(&path);
            if let Some(q) = query { s.push('?'); s.push_str(&q); }
            if let Some(f) = frag { s.push('#'); s.push_str(&f); }
            if let Ok(u) = Url::parse(&s) {
                let once = canonicalize(&u);
                let twice = canonicalize(&once);
                prop_assert_eq!(twice.as_str(), once.as_str());
                prop_assert!(once.fragment().is_none());
                prop_assert_ne!(once.query(), Some(""));
            }
        }
    }
}
