//! Sitemaps (sitemaps.org): the page URLs a site lists for crawlers, and where its sitemaps are.
//!
//! * [`parse_sitemap`] reads one sitemap file: XML `<urlset>` (`<url><loc>` → page URLs),
//!   XML `<sitemapindex>` (`<sitemap><loc>` → more sitemaps), or the plain-text form (one
//!   absolute URL per line). A gzip file (magic bytes `1f 8b`, as `.xml.gz` sitemaps are
//!   served) is decompressed first.
//! * [`robots_sitemaps`] reads the `Sitemap:` lines of a robots.txt.
//!
//! Invariants: every URL returned is absolute http(s) without fragment; at most
//! [`MAX_SITEMAP_BYTES`] of decompressed text is read (the sitemaps.org limit, and the bound on
//! a gzip bomb's cost); at most `max_urls` URLs come back from one file; nothing here panics or
//! fails on bad input, it returns what it could read before the damage.

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use url::Url;

use super::decode;

/// The most bytes of (decompressed) sitemap read: sitemaps.org's limit of 50 MB
/// (52,428,800 bytes) per file. Decompression stops here, so a gzip bomb costs this much.
pub const MAX_SITEMAP_BYTES: usize = 50 * 1024 * 1024;

/// A `<loc>` longer than this is no URL anyone can fetch (sitemaps.org asks for fewer than
/// 2,048 characters); its text stops being collected here so one huge element costs nothing.
const MAX_LOC_BYTES: usize = 8 * 1024;

/// What one sitemap file lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sitemap {
    /// Pages: `<urlset><url><loc>`, or the lines of a plain-text sitemap.
    pub urls: Vec<Url>,
    /// More sitemaps: `<sitemapindex><sitemap><loc>`.
    pub sitemaps: Vec<Url>,
}

impl Sitemap {
    fn len(&self) -> usize {
        self.urls.len() + self.sitemaps.len()
    }
}

/// The URLs listed by the sitemap file `body` (fetched from `base`, against which relative
/// locations are resolved), at most `max_urls` of them in all, in document order.
///
/// Tags are matched by local name, so namespace prefixes (`<sm:loc>`) and the usual
/// `xmlns` declarations make no difference. Entities and character references in `<loc>` are
/// decoded and surrounding whitespace is trimmed. Locations that are not http(s) are skipped.
/// Malformed XML yields what was read before the error.
pub fn parse_sitemap(body: &[u8], base: &Url, max_urls: usize) -> Sitemap {
    let text = match sitemap_text(body) {
        Some(t) => t,
        None => return Sitemap::default(),
    };
    let text = text.trim_start_matches('\u{feff}');
    if text.trim_start().starts_with('<') {
        parse_xml(text, base, max_urls)
    } else {
        parse_text(text, max_urls)
    }
}

/// The sitemap as text: gunzipped if it is gzip (`None` if it is gzip but corrupt from the
/// start), cut at [`MAX_SITEMAP_BYTES`], invalid UTF-8 replaced (sitemaps must be UTF-8).
fn sitemap_text(body: &[u8]) -> Option<Cow<'_, str>> {
    let bytes: Cow<'_, [u8]> = if body.starts_with(&[0x1f, 0x8b]) {
        match decode::decode_content(body, Some("gzip"), MAX_SITEMAP_BYTES) {
            Ok(d) => d.bytes,
            Err(e) => {
                tracing::debug!(error = %e, "sitemap is not valid gzip");
                return None;
            }
        }
    } else {
        Cow::Borrowed(&body[..body.len().min(MAX_SITEMAP_BYTES)])
    };
    Some(match bytes {
        Cow::Borrowed(b) => String::from_utf8_lossy(b),
        Cow::Owned(v) => Cow::Owned(match String::from_utf8(v) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }),
    })
}

/// The elements that matter; everything else only keeps the nesting right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Url,
    Sitemap,
    Loc,
    Other,
}

impl Tag {
    /// XML names are case-sensitive, but hand-written sitemaps with `<URL><LOC>` exist and
    /// mean the same.
    fn of(local_name: &str) -> Tag {
        [
            ("url", Tag::Url),
            ("sitemap", Tag::Sitemap),
            ("loc", Tag::Loc),
        ]
        .into_iter()
        .find(|(name, _)| local_name.eq_ignore_ascii_case(name))
        .map_or(Tag::Other, |(_, tag)| tag)
    }
}

fn parse_xml(text: &str, base: &Url, max_urls: usize) -> Sitemap {
    let mut reader = Reader::from_str(text);
    // Real sitemaps have mismatched end tags; nesting is tracked loosely below instead.
    reader.config_mut().check_end_names = false;
    let mut out = Sitemap::default();
    // Open elements. Only a `loc` whose parent is `url` or `sitemap` counts: an image
    // sitemap's `<image:image><image:loc>` names a picture, not a page.
    let mut open: Vec<Tag> = Vec::new();
    // The text of the `<loc>` being read.
    let mut loc: Option<String> = None;
    while out.len() < max_urls {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let tag = Tag::of(e.local_name().as_ref());
                if tag == Tag::Loc {
                    loc = Some(String::new());
                }
                open.push(tag);
            }
            Ok(Event::End(_)) => {
                if open.pop() == Some(Tag::Loc)
                    && let Some(raw) = loc.take()
                {
                    let list = match open.last() {
                        Some(Tag::Url) => &mut out.urls,
                        Some(Tag::Sitemap) => &mut out.sitemaps,
                        _ => continue,
                    };
                    if let Some(url) = resolve(base, &raw) {
                        list.push(url);
                    }
                }
            }
            Ok(Event::Text(t)) => append(&mut loc, &t.xml10_content()),
            Ok(Event::CData(t)) => append(&mut loc, &t.xml10_content()),
            Ok(Event::GeneralRef(r)) if loc.is_some() => {
                let decoded: Cow<'_, str> = match r.resolve_char_ref() {
                    Ok(Some(c)) => Cow::Owned(c.to_string()),
                    Ok(None) => match quick_xml::escape::resolve_predefined_entity(&r) {
                        Some(s) => Cow::Borrowed(s),
                        // An unknown named entity stays as written, as browsers leave it.
                        None => Cow::Owned(format!("&{};", &*r)),
                    },
                    // A reference to no valid character: nothing a URL could hold.
                    Err(_) => Cow::Borrowed(""),
                };
                append(&mut loc, &decoded);
            }
            Ok(Event::Eof) => break,
            Err(e) => {
                tracing::debug!(url = %base, error = %e, "malformed sitemap; keeping what was read");
                break;
            }
            Ok(_) => {}
        }
    }
    out
}

/// Adds `s` to the `<loc>` text being collected, up to [`MAX_LOC_BYTES`] (+1, so that an
/// over-long one is recognised and dropped by [`resolve`]).
fn append(loc: &mut Option<String>, s: &str) {
    if let Some(l) = loc
        && l.len() <= MAX_LOC_BYTES
    {
        l.push_str(s);
    }
}

/// A `<loc>` as an absolute http(s) URL without fragment, resolved against the sitemap's URL.
fn resolve(base: &Url, raw: &str) -> Option<Url> {
    if raw.len() > MAX_LOC_BYTES {
        return None;
    }
    crate::canonical::parse_link(base, raw.trim())
}

/// The plain-text form: one URL per line. Only absolute http(s) URLs count, so an HTML error
/// page or other text served as a sitemap yields nothing rather than relative garbage.
fn parse_text(text: &str, max_urls: usize) -> Sitemap {
    let urls = text
        .lines()
        .filter_map(|line| absolute_http(line.trim()))
        .take(max_urls)
        .collect();
    Sitemap {
        urls,
        sitemaps: Vec::new(),
    }
}

fn absolute_http(s: &str) -> Option<Url> {
    if s.is_empty() || s.len() > MAX_LOC_BYTES {
        return None;
    }
    let mut url = Url::parse(s).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

/// The sitemaps a robots.txt names on its `Sitemap:` lines (the key in any case), resolved
/// against `base` (the robots.txt URL), http(s) only, each once, in order. Comments (`#` to
/// the end of the line) are ignored.
pub fn robots_sitemaps(robots_body: &[u8], base: &Url) -> Vec<Url> {
    let text = String::from_utf8_lossy(robots_body);
    let mut out: Vec<Url> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for line in text.trim_start_matches('\u{feff}').lines() {
        let line = line.split('#').next().unwrap_or("");
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("sitemap") {
            continue;
        }
        if let Some(url) = resolve(base, value.trim())
            && seen.insert(url.as_str().to_owned())
        {
            out.push(url);
        }
    }
    out
}

#[cfg(test)]
mod tests;
