//! Reader comments of an article page: the [`Comment`] record, the ordered list of
//! platform rules that find them, and the DOM helpers those rules share.
//!
//! Each platform lives in its own file under `comments/` as one small match/extract unit
//! ([`Rule`]). Rules run in [`RULES`] order; the first that *recognises* the page's comment
//! section wins, even when that section holds no comments ("Comments are closed"), so that a
//! later, looser rule cannot mistake a sidebar widget for the thread. Pagination across
//! comment pages (links, article key, merging) is in [`paging`].

mod blogger;
mod disqus;
mod drupal;
mod forum;
mod generic;
mod list;
pub mod paging;
mod schema;
mod wordpress;

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};
use serde::{Deserialize, Serialize};
use url::Url;

use super::dates::normalize_date;

pub use forum::{opening_post, replies_only};

/// What kind of entry a comment list item is; WordPress lists pings among comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CommentKind {
    #[default]
    Comment,
    Pingback,
    Trackback,
}

/// One reader comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// The platform's id without its markup prefix (`comment-42` → `42`); generated as
    /// `n1`, `n2`… when the page has none.
    pub id: String,
    pub author: Option<String>,
    pub author_url: Option<String>,
    /// ISO 8601; relative dates are resolved against the capture time.
    pub published: Option<String>,
    /// The comment's own words, paragraphs separated by blank lines.
    pub text: String,
    /// Id of the comment this one replies to.
    pub parent: Option<String>,
    #[serde(default)]
    pub kind: CommentKind,
}

/// What every rule needs besides the document.
pub struct Ctx<'a> {
    pub url: &'a Url,
    pub captured_at: DateTime<Utc>,
}

/// A platform rule: `extract` returns `None` when the page is not of its platform, and
/// `Some` (possibly empty) when it recognised the comment section.
pub struct Rule {
    pub name: &'static str,
    pub extract: fn(&Html, &Ctx<'_>) -> Option<Vec<Comment>>,
}

/// Named platforms first (their markup is unambiguous and carries threading), then
/// schema.org microdata / JSON-LD, then the generic fallback.
pub const RULES: &[Rule] = &[
    Rule {
        name: "wordpress",
        extract: wordpress::extract,
    },
    Rule {
        name: "disqus",
        extract: disqus::extract,
    },
    Rule {
        name: "drupal",
        extract: drupal::extract,
    },
    Rule {
        name: "blogger",
        extract: blogger::extract,
    },
    Rule {
        name: "forum",
        extract: forum::extract,
    },
    Rule {
        name: "schema",
        extract: schema::extract,
    },
    Rule {
        name: "generic",
        extract: generic::extract,
    },
];

/// How far up the tree any "is this inside X" question looks: real pages nest a few dozen
/// levels, and a cap keeps malformed, absurdly deep pages from costing depth × nodes.
pub const MAX_DEPTH: usize = 256;

/// A page never yields more comments than this (work cap for huge threads).
pub const MAX_COMMENTS: usize = 5000;

/// Comments of `doc` and the name of the rule that found them.
pub fn extract_comments_with_rule(doc: &Html, ctx: &Ctx<'_>) -> (Vec<Comment>, &'static str) {
    for rule in RULES {
        if let Some(mut found) = (rule.extract)(doc, ctx) {
            found.truncate(MAX_COMMENTS);
            found.retain(|c| !c.text.is_empty() || c.kind != CommentKind::Comment);
            return (found, rule.name);
        }
    }
    (Vec::new(), "none")
}

/// Comments of `doc`, in thread order (parents before replies).
pub fn extract_comments(doc: &Html, url: &Url, captured_at: DateTime<Utc>) -> Vec<Comment> {
    extract_comments_with_rule(doc, &Ctx { url, captured_at }).0
}

// ---- DOM helpers shared by the rules and the article extractor ----

/// A selector written in this crate's source (never input), parsed once per thread: the
/// rules use a few dozen, on every page, and parsing them each time showed in profiles.
/// (Cloning a `Selector` only bumps reference counts.)
pub(crate) fn sel(css: &str) -> Selector {
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<String, Selector>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    CACHE.with(|cache| {
        if let Some(s) = cache.borrow().get(css) {
            return s.clone();
        }
        let s = Selector::parse(css).unwrap_or_else(|_| panic!("bad built-in selector {css}"));
        cache.borrow_mut().insert(css.to_string(), s.clone());
        s
    })
}

/// The first match of the first alternative of `css` (comma-separated, in priority order)
/// that matches at all.
pub(crate) fn first<'a>(el: ElementRef<'a>, css: &str) -> Option<ElementRef<'a>> {
    css.split(',')
        .find_map(|alt| el.select(&sel(alt.trim())).next())
}

pub(crate) fn doc_all<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    doc.select(&sel(css)).collect()
}

/// Whitespace-collapsed text of `el`.
pub(crate) fn text(el: ElementRef<'_>) -> String {
    collapse(&el.text().collect::<String>())
}

pub(crate) fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether any class or the id of `el` matches `re` (checked per token).
pub(crate) fn marked(el: ElementRef<'_>, re: &Regex) -> bool {
    let v = el.value();
    v.classes().any(|c| re.is_match(c)) || v.id().is_some_and(|i| re.is_match(i))
}

/// Elements whose text is never prose: scripts, forms, controls, embedded media.
fn never_text(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "svg"
            | "button"
            | "form"
            | "input"
            | "select"
            | "textarea"
            | "iframe"
            | "video"
            | "audio"
            | "object"
            | "img"
            | "head"
    )
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "li"
            | "ul"
            | "ol"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "blockquote"
            | "pre"
            | "br"
            | "section"
            | "article"
            | "table"
            | "tr"
            | "dl"
            | "dt"
            | "dd"
            | "figure"
            | "header"
            | "footer"
            | "main"
            | "hr"
            | "aside"
            | "nav"
    )
}

/// Node budget of one paragraph walk: huge pages cost a bounded amount of work.
const WALK_BUDGET: usize = 500_000;

/// Paragraphs of `root`: text between block boundaries, whitespace collapsed, skipping
/// subtrees for which `skip` is true (never `root` itself).
pub(crate) fn paragraphs(
    root: ElementRef<'_>,
    skip: &dyn Fn(ElementRef<'_>) -> bool,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut budget = WALK_BUDGET;
    walk(root, skip, &mut out, &mut cur, &mut budget);
    flush(&mut out, &mut cur);
    out
}

fn flush(out: &mut Vec<String>, cur: &mut String) {
    let p = collapse(cur);
    if !p.is_empty() {
        out.push(p);
    }
    cur.clear();
}

fn walk(
    el: ElementRef<'_>,
    skip: &dyn Fn(ElementRef<'_>) -> bool,
    out: &mut Vec<String>,
    cur: &mut String,
    budget: &mut usize,
) {
    for child in el.children() {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        match child.value() {
            Node::Text(t) => cur.push_str(t),
            Node::Element(e) => {
                let Some(child_el) = ElementRef::wrap(child) else {
                    continue;
                };
                let name = e.name();
                if never_text(name) || skip(child_el) {
                    // A skipped element still separates the words around it.
                    cur.push(' ');
                    continue;
                }
                let block = is_block(name);
                if block {
                    flush(out, cur);
                }
                walk(child_el, skip, out, cur, budget);
                if block {
                    flush(out, cur);
                } else {
                    cur.push_str(if name == "td" || name == "th" {
                        " "
                    } else {
                        ""
                    });
                }
            }
            _ => {}
        }
    }
}

/// Class/id tokens of comment "chrome": who and when, reply links, votes, badges, avatars.
pub(crate) static CHROME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(.*[-_])?(author|meta|commentmetadata|reply|says|badge|badges|avatar|vcard|actions|vote|votes|votes-count|permalink|edit-link|footer|header|signature|flag|share|report|like|likes|links|byline|username|user-info|postprofile|profile|date|time|timestamp|menu|toolbar)([-_].*)?$",
    )
    .unwrap_or_else(|e| panic!("built-in regex: {e}"))
});

/// Text of a comment element without its chrome and without nested reply lists
/// (`nested` selects those containers).
pub(crate) fn comment_text(el: ElementRef<'_>, nested: &Selector) -> String {
    let skip = |e: ElementRef<'_>| nested.matches(&e) || marked(e, &CHROME);
    paragraphs(el, &skip).join("\n\n")
}

/// A date found in `el`: `<time datetime>`, `abbr[title]`, `[itemprop=dateCreated]`,
/// `data-timestamp`/`title` attributes, then the visible text of the element.
pub(crate) fn date_in(el: ElementRef<'_>, ctx: &Ctx<'_>) -> Option<String> {
    let norm = |s: &str| normalize_date(s, ctx.captured_at);
    for attr in ["datetime", "content", "data-datetime", "title"] {
        if let Some(d) = el.value().attr(attr).and_then(norm) {
            return Some(d);
        }
    }
    for cand in el.select(&sel(
        "time, abbr, [itemprop=dateCreated], [itemprop=datePublished], [title], [data-datetime]",
    )) {
        let v = cand.value();
        for attr in ["datetime", "content", "data-datetime", "title"] {
            if let Some(d) = v.attr(attr).and_then(norm) {
                return Some(d);
            }
        }
        if let Some(d) = norm(&text(cand)) {
            return Some(d);
        }
    }
    norm(&text(el)).or_else(|| date_in_text(&text(el), ctx))
}

/// A date inside free text like "Posted 14 March 2024 at 09:30 | Reply" or "3 hours ago".
pub(crate) fn date_in_text(s: &str, ctx: &Ctx<'_>) -> Option<String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    for start in 0..words.len() {
        for len in (1..=7).rev() {
            let Some(span) = words.get(start..start + len) else {
                continue;
            };
            if let Some(d) = normalize_date(&span.join(" "), ctx.captured_at) {
                return Some(d);
            }
        }
    }
    None
}

/// The trailing digits of an id attribute (`comment-42` → `42`, `p1337` → `1337`), or the
/// id itself when it has none.
pub(crate) fn short_id(id: &str) -> String {
    let digits = id.trim_start_matches(|c: char| !c.is_ascii_digit());
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        digits.to_owned()
    } else {
        id.to_owned()
    }
}

/// Author name and URL from the first element matching `css` in `el` (the name is the
/// element's text; the URL its own href or that of a link inside it), resolved against
/// the page URL.
pub(crate) fn author_in(
    el: ElementRef<'_>,
    css: &str,
    ctx: &Ctx<'_>,
) -> (Option<String>, Option<String>) {
    let Some(a) = first(el, css) else {
        return (None, None);
    };
    let name = text(a);
    let href = a
        .value()
        .attr("href")
        .or_else(|| first(a, "a[href]").and_then(|l| l.value().attr("href")))
        .or_else(|| {
            a.parent()
                .and_then(ElementRef::wrap)
                .filter(|p| p.value().name() == "a")
                .and_then(|p| p.value().attr("href"))
        });
    let url = href.and_then(|h| ctx.url.join(h).ok()).map(String::from);
    ((!name.is_empty()).then_some(name), url)
}

/// The nearest ancestor of `el` (exclusive) that matches `item`, as a comment id.
pub(crate) fn parent_id(
    el: ElementRef<'_>,
    item: &Selector,
    id_of: &dyn Fn(ElementRef<'_>) -> Option<String>,
) -> Option<String> {
    el.ancestors()
        .take(crate::extract::comments::MAX_DEPTH)
        .filter_map(ElementRef::wrap)
        .find(|a| item.matches(a))
        .and_then(id_of)
}

#[cfg(test)]
mod tests;
