//! Links of an HTML page: one walk over the parsed document ([`page_links`]) that returns
//! every URL the page navigates to ([`LinkKind::Outlink`]) or needs to render
//! ([`LinkKind::Requisite`]), plus the small HTML-specific parsers it uses (`srcset`,
//! `<meta http-equiv=refresh>`) and [`is_html`] to decide whether a body is HTML at all.
//!
//! Classification choices (archiving wants everything needed to *replay* the page):
//! frames and iframes are requisites; `<link>` is a requisite for stylesheet, icon,
//! manifest, preload, modulepreload and prefetch, skipped for preconnect/dns-prefetch (their
//! href is an origin, not a resource), and an outlink for every other rel (alternate,
//! canonical, next, prev, author, ...). Lazy-loading `data-src`/`data-srcset` on images are
//! taken too, since replay scripts will ask for them.

use std::borrow::Cow;
use std::collections::HashSet;

use scraper::{Html, Node, node::Element};
use url::Url;

use super::css::css_urls;
use super::{Link, LinkKind};
use crate::canonical::parse_link;

/// A link as found in the tree, before the base URL is known (a `<base>` may come later
/// than the links it applies to).
enum Raw<'a> {
    Url(&'a str, LinkKind),
    Srcset(&'a str),
    Css(Cow<'a, str>),
}

/// Every link in `doc`, resolved against its `<base href>` (the first one, itself resolved
/// against `page_url`) or `page_url`. Fragments are dropped and non-http(s) links skipped;
/// entries are unique by (url, kind), in document order.
pub fn page_links(doc: &Html, page_url: &Url) -> Vec<Link> {
    let mut base: Option<Url> = None;
    let mut base_seen = false;
    let mut raws: Vec<Raw<'_>> = Vec::new();

    for node in doc.tree.root().descendants() {
        let Node::Element(el) = node.value() else {
            continue;
        };
        let req = |raws: &mut Vec<_>, name: &str| {
            if let Some(v) = attr(el, name) {
                raws.push(Raw::Url(v, LinkKind::Requisite));
            }
        };
        match el.name() {
            "base" if !base_seen => {
                if let Some(href) = attr(el, "href") {
                    base_seen = true;
                    // The spec falls back to the document URL when the base is unusable.
                    base = page_url
                        .join(href.trim())
                        .ok()
                        .filter(|u| matches!(u.scheme(), "http" | "https"));
                }
            }
            "a" | "area" => {
                if let Some(v) = attr(el, "href") {
                    raws.push(Raw::Url(v, LinkKind::Outlink));
                }
            }
            "img" | "source" => {
                for name in ["src", "data-src"] {
                    req(&mut raws, name);
                }
                for name in ["srcset", "data-srcset"] {
                    raws.extend(attr(el, name).map(Raw::Srcset));
                }
            }
            "link" => {
                if let Some(kind) = attr(el, "rel").map_or(Some(LinkKind::Outlink), link_rel_kind) {
                    if let Some(v) = attr(el, "href") {
                        raws.push(Raw::Url(v, kind));
                    }
                    // `<link rel=preload as=image imagesrcset=...>`
                    raws.extend(attr(el, "imagesrcset").map(Raw::Srcset));
                }
            }
            "script" | "iframe" | "frame" | "audio" | "track" | "embed" => req(&mut raws, "src"),
            "video" => {
                req(&mut raws, "src");
                req(&mut raws, "poster");
            }
            "object" => req(&mut raws, "data"),
            "input" if attr(el, "type").is_some_and(|t| t.trim().eq_ignore_ascii_case("image")) => {
                req(&mut raws, "src");
            }
            // SVG: <image href> / <use href="sprite.svg#id"> (xlink:href has local name href).
            "image" | "use" => req(&mut raws, "href"),
            "meta" => {
                let refresh = attr(el, "http-equiv")
                    .is_some_and(|h| h.trim().eq_ignore_ascii_case("refresh"));
                if refresh && let Some(target) = attr(el, "content").and_then(extract_refresh) {
                    raws.push(Raw::Url(target, LinkKind::Outlink));
                }
            }
            "style" => {
                let mut text = String::new();
                for child in node.children() {
                    if let Node::Text(t) = child.value() {
                        text.push_str(t);
                    }
                }
                raws.push(Raw::Css(Cow::Owned(text)));
            }
            _ => {}
        }
        // Old presentational attribute on body/table/td, still seen on archived sites.
        req(&mut raws, "background");
        if let Some(style) = attr(el, "style") {
            raws.push(Raw::Css(Cow::Borrowed(style)));
        }
    }

    let base = base.as_ref().unwrap_or(page_url);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut push = |url: Url, kind| {
        if seen.insert((url.clone(), kind)) {
            out.push(Link { url, kind });
        }
    };
    for raw in raws {
        match raw {
            Raw::Url(v, kind) => {
                if let Some(url) = parse_link(base, v) {
                    push(url, kind);
                }
            }
            Raw::Srcset(v) => {
                for candidate in srcset_urls(v) {
                    if let Some(url) = parse_link(base, candidate) {
                        push(url, LinkKind::Requisite);
                    }
                }
            }
            Raw::Css(css) => {
                for url in css_urls(&css, base) {
                    push(url, LinkKind::Requisite);
                }
            }
        }
    }
    out
}

/// Attribute lookup by scanning: `Element::attr` interns the name as an atom on every
/// call, which costs more than walking the handful of attributes an element has.
fn attr<'a>(el: &'a Element, name: &str) -> Option<&'a str> {
    el.attrs().find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// The kind of a `<link>` by its rel tokens; `None` for links that name no resource.
fn link_rel_kind(rel: &str) -> Option<LinkKind> {
    let mut any = false;
    let mut hint_only = true;
    for token in rel.split_ascii_whitespace() {
        any = true;
        let t = token.to_ascii_lowercase();
        match t.as_str() {
            "stylesheet"
            | "icon"
            | "apple-touch-icon"
            | "apple-touch-icon-precomposed"
            | "mask-icon"
            | "manifest"
            | "preload"
            | "modulepreload"
            | "prefetch" => {
                return Some(LinkKind::Requisite);
            }
            "preconnect" | "dns-prefetch" => {}
            _ => hint_only = false,
        }
    }
    if any && hint_only {
        None
    } else {
        Some(LinkKind::Outlink)
    }
}

/// The candidate URLs of a `srcset` value, following the HTML standard's parser: a URL
/// runs to the next whitespace (so it may contain commas), trailing commas end a
/// candidate, and descriptors run to the next comma outside parentheses.
pub fn srcset_urls(srcset: &str) -> Vec<&str> {
    let b = srcset.as_bytes();
    let is_ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\x0C' | b'\r');
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && (is_ws(b[i]) || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            return out;
        }
        let start = i;
        while i < b.len() && !is_ws(b[i]) {
            i += 1;
        }
        let url = &srcset[start..i];
        let trimmed = url.trim_end_matches(',');
        if !trimmed.is_empty() {
            out.push(trimmed);
        }
        if trimmed.len() != url.len() {
            continue; // trailing comma: no descriptors
        }
        // Skip descriptors up to a comma that is not inside parentheses.
        let mut depth = 0usize;
        while i < b.len() {
            match b[i] {
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                b',' if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
    }
}

/// The target of a `<meta http-equiv=refresh content=...>` value (`"5; url=/next"`,
/// `"0;URL='x'"`, `"3, /next"`); `None` when it only reloads the page or is malformed.
pub fn extract_refresh(content: &str) -> Option<&str> {
    let is_ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\x0C' | '\r');
    let s = content.trim_start_matches(is_ws);
    let after_time = s.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    if after_time.len() == s.len() {
        return None; // no time: not a valid refresh
    }
    if !after_time.is_empty()
        && !after_time.starts_with([';', ','])
        && !after_time.starts_with(is_ws)
    {
        return None;
    }
    let rest = after_time.trim_start_matches(is_ws);
    let rest = rest
        .strip_prefix([';', ','])
        .unwrap_or(rest)
        .trim_start_matches(is_ws);
    let mut url = rest;
    if rest.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("url")) {
        let after = rest[3..].trim_start_matches(is_ws);
        if let Some(v) = after.strip_prefix('=') {
            url = v.trim_start_matches(is_ws);
        }
    }
    if let Some(q) = url.chars().next().filter(|&c| c == '"' || c == '\'') {
        let inner = &url[1..];
        url = inner.find(q).map_or(inner, |end| &inner[..end]);
    }
    let url = url.trim_end_matches(is_ws);
    (!url.is_empty()).then_some(url)
}

/// Whether a body is HTML: by Content-Type essence (text/html, application/xhtml+xml) when
/// there is one, else by sniffing the start of the body for the tags the MIME Sniffing
/// standard lists (`<!doctype html`, `<html`, `<head`, `<body`, `<script`, ...).
pub fn is_html(content_type: Option<&str>, body_start: &[u8]) -> bool {
    if let Some(ct) = content_type.filter(|ct| !ct.trim().is_empty()) {
        let essence = ct.split(';').next().unwrap_or_default().trim();
        return essence.eq_ignore_ascii_case("text/html")
            || essence.eq_ignore_ascii_case("application/xhtml+xml");
    }
    let body = body_start
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(body_start);
    let start = body
        .iter()
        .position(|&c| !matches!(c, b' ' | b'\t' | b'\n' | b'\x0C' | b'\r'))
        .unwrap_or(body.len());
    let body = &body[start..];
    const PATTERNS: &[&[u8]] = &[
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
        b"<!--",
    ];
    PATTERNS.iter().any(|p| {
        body.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p))
            // The tag name must end there: `<b` must not match `<bdi` or `<base`.
            && (*p == b"<!--" || body.get(p.len()).is_some_and(|&c| c == b' ' || c == b'>'))
    })
}

// The test tables are long; they live in links/tests.rs to keep this file readable.
#[cfg(test)]
mod tests;
