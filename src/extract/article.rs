//! Article extraction: from one parsed page to an [`Article`] (metadata, main text and
//! reader comments), or a reason why the page is not an article.
//!
//! Metadata comes from structured data first (JSON-LD `NewsArticle`/`Article`/…,
//! OpenGraph and `article:*` meta, schema.org microdata, `<time datetime>`, `rel=author`,
//! `meta name=author`), then from the DOM. The main text is the content root (a known body
//! container, the opening post of a forum topic, or the element holding the most paragraph
//! text) with boilerplate subtrees left out. Comments come from [`super::comments`].

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use scraper::{ElementRef, Html};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::comments::{self, Comment, Ctx, collapse, doc_all, first, marked, paragraphs, text};
use super::dates::normalize_date;

/// One article page, JSON-serialisable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Article {
    pub url: String,
    pub canonical_url: Option<String>,
    pub title: Option<String>,
    pub authors: Vec<String>,
    /// ISO 8601 (RFC 3339).
    pub published: Option<String>,
    pub modified: Option<String>,
    pub language: Option<String>,
    pub tags: Vec<String>,
    /// Main text, paragraphs separated by blank lines.
    pub text: String,
    pub word_count: usize,
    pub comments: Vec<Comment>,
}

/// Why a page gave no article.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("not HTML")]
    NotHtml,
    #[error("body could not be decoded: {0}")]
    Decode(#[from] super::decode::DecodeError),
    #[error("page too large to extract: {nodes} nodes (limit {limit})")]
    TooLarge { nodes: usize, limit: usize },
    #[error("not an article: {0}")]
    NotArticle(&'static str),
}

/// Pages with more DOM nodes than this are refused (work cap); decoded bodies are capped
/// at [`MAX_BODY`] before parsing by [`extract_article_from_bytes`].
pub const MAX_NODES: usize = 1_000_000;
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// Least main text an article has (characters), unless structured data says it is one.
const MIN_TEXT: usize = 400;
const MIN_TEXT_DECLARED: usize = 80;

/// The article on `doc`, or `None` for pages that are not articles (front pages, lists).
pub fn extract_article(doc: &Html, url: &Url, captured_at: DateTime<Utc>) -> Option<Article> {
    try_extract_article(doc, url, captured_at).ok()
}

/// From a captured body: HTML check, Content-Encoding, charset, parse, extract.
pub fn extract_article_from_bytes(
    body: &[u8],
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    url: &Url,
    captured_at: DateTime<Utc>,
) -> Result<Article, ExtractError> {
    let decoded = super::decode::decode_content(body, content_encoding, MAX_BODY)?;
    let start = decoded.bytes.get(..1024).unwrap_or(&decoded.bytes);
    if !super::links::is_html(content_type, start) {
        return Err(ExtractError::NotHtml);
    }
    let (html, _) = super::decode::decode_text(&decoded.bytes, content_type);
    try_extract_article(&Html::parse_document(&html), url, captured_at)
}

/// Like [`extract_article`], with the reason when there is no article.
pub fn try_extract_article(
    doc: &Html,
    url: &Url,
    captured_at: DateTime<Utc>,
) -> Result<Article, ExtractError> {
    let nodes = doc.tree.nodes().len();
    if nodes > MAX_NODES {
        return Err(ExtractError::TooLarge {
            nodes,
            limit: MAX_NODES,
        });
    }
    let ctx = Ctx { url, captured_at };
    // The page's `<meta>` elements, collected once: several keys are looked up per page.
    let metas = std::cell::OnceCell::new();
    let meta = |key: &str| meta_in(metas.get_or_init(|| meta_elements(doc)), key);
    let ld = json_ld(doc).into_iter().find(is_article_ld);
    let forum = comments::opening_post(doc, url);
    // A later page of a forum topic has replies only; its text is on the first page.
    let replies_only = comments::replies_only(doc, url);
    let declared = replies_only
        || ld.is_some()
        || forum.is_some()
        || meta("og:type").is_some_and(|t| t == "article")
        || !doc_all(
            doc,
            "[itemtype*='schema.org/'][itemtype$='Article'], [itemtype$='BlogPosting']",
        )
        .is_empty();
    let root = match &forum {
        Some((content, _, _)) => Some((*content, false, None)),
        None => content_root(doc),
    };
    let Some((root, by_density, known_paras)) = root else {
        return Err(ExtractError::NotArticle("no main text"));
    };
    if !declared && is_listing(doc) {
        return Err(ExtractError::NotArticle(
            "a list of teasers, not an article",
        ));
    }
    // Without a known container the root is only "where the paragraphs are": its other
    // children (bylines, share rows) are dropped unless they hold paragraphs themselves.
    let loose = |e: ElementRef<'_>| {
        boilerplate(e)
            || (by_density
                && e.parent().is_some_and(|p| p.id() == root.id())
                && matches!(e.value().name(), "div" | "span" | "section")
                && first(e, "p").is_none())
    };
    // A known container's paragraphs were already walked (with `boilerplate`, which is
    // what `loose` is when not found by density) to pick it.
    let paras = match known_paras {
        Some(p) => p,
        None => paragraphs(root, &loose),
    };
    let text = if replies_only {
        String::new()
    } else {
        paras.join("\n\n")
    };
    let min = if declared {
        MIN_TEXT_DECLARED
    } else {
        MIN_TEXT
    };
    if !replies_only && text.chars().count() < min {
        return Err(ExtractError::NotArticle("too little main text"));
    }
    let s = |v: &Option<Value>, k: &str| ld_str(v.as_ref(), k);
    let title = s(&ld, "headline")
        .or_else(|| meta("og:title"))
        .or_else(|| {
            doc_all(doc, "h1, h2.topic-title, h3.post-title")
                .first()
                .map(|h| comments::text(*h))
        })
        .or_else(|| {
            doc_all(doc, "title")
                .first()
                .map(|t| strip_site(&comments::text(*t)))
        })
        .filter(|t| !t.is_empty());
    let mut authors = ld
        .as_ref()
        .map(|v| ld_authors(v.get("author")))
        .unwrap_or_default();
    if authors.is_empty() {
        authors = dom_authors(doc, &meta);
    }
    if authors.is_empty()
        && let Some(a) = forum.as_ref().and_then(|f| f.1.clone())
    {
        authors.push(a);
    }
    let norm = |d: Option<String>| d.and_then(|d| normalize_date(&d, captured_at));
    let published = norm(s(&ld, "datePublished"))
        .or_else(|| norm(meta("article:published_time")))
        .or_else(|| {
            norm(attr_of(
                doc,
                "[itemprop=datePublished]",
                &["content", "datetime", "title"],
            ))
        })
        .or_else(|| first_article_time(doc, captured_at))
        .or_else(|| {
            forum
                .as_ref()
                .and_then(|f| f.2.as_deref())
                .and_then(|d| comments::date_in_text(d, &ctx))
        });
    let modified = norm(s(&ld, "dateModified"))
        .or_else(|| norm(meta("article:modified_time")))
        .or_else(|| norm(meta("og:updated_time")))
        .or_else(|| {
            norm(attr_of(
                doc,
                "[itemprop=dateModified]",
                &["content", "datetime"],
            ))
        });
    let language = attr_of(doc, "html", &["lang"])
        .or_else(|| attr_of(doc, "meta[http-equiv='content-language' i]", &["content"]))
        .or_else(|| s(&ld, "inLanguage"))
        .filter(|l| !l.is_empty());
    let canonical_url = attr_of(doc, "link[rel=canonical]", &["href"])
        .or_else(|| meta("og:url"))
        .and_then(|h| url.join(h.trim()).ok())
        .map(String::from);
    let word_count = text.split_whitespace().count();
    Ok(Article {
        url: url.to_string(),
        canonical_url,
        title,
        authors,
        published,
        modified,
        language,
        tags: tags(doc, ld.as_ref()),
        text,
        word_count,
        comments: comments::extract_comments_with_rule(doc, &ctx).0,
    })
}

// ---- structured data ----

/// Every JSON-LD object of the page, `@graph`s and arrays flattened; bad JSON is skipped.
pub(crate) fn json_ld(doc: &Html) -> Vec<Value> {
    fn flatten(v: Value, out: &mut Vec<Value>) {
        match v {
            Value::Array(a) => a.into_iter().for_each(|x| flatten(x, out)),
            Value::Object(mut o) => {
                if let Some(g) = o.remove("@graph") {
                    flatten(g, out);
                }
                if !o.is_empty() {
                    out.push(Value::Object(o));
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for script in doc_all(doc, "script[type='application/ld+json']") {
        if let Ok(v) = serde_json::from_str::<Value>(&script.text().collect::<String>()) {
            flatten(v, &mut out);
        }
    }
    out
}

fn is_article_ld(v: &Value) -> bool {
    const TYPES: &[&str] = &[
        "Article",
        "NewsArticle",
        "BlogPosting",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "ScholarlyArticle",
        "TechArticle",
        "DiscussionForumPosting",
        "LiveBlogPosting",
    ];
    let is = |t: &Value| t.as_str().is_some_and(|s| TYPES.contains(&s));
    match v.get("@type") {
        Some(Value::Array(ts)) => ts.iter().any(is),
        Some(t) => is(t),
        None => false,
    }
}

fn ld_str(v: Option<&Value>, k: &str) -> Option<String> {
    let x = v?.get(k)?;
    x.as_str()
        .map(collapse)
        .or_else(|| x.as_array()?.first()?.as_str().map(collapse))
        .filter(|s| !s.is_empty())
}

fn ld_authors(a: Option<&Value>) -> Vec<String> {
    let name = |x: &Value| {
        x.as_str()
            .or_else(|| x.get("name").and_then(Value::as_str))
            .map(collapse)
            .filter(|n| !n.is_empty())
    };
    match a {
        Some(Value::Array(xs)) => xs.iter().filter_map(name).collect(),
        Some(x) => name(x).into_iter().collect(),
        None => Vec::new(),
    }
}

fn meta_elements(doc: &Html) -> Vec<ElementRef<'_>> {
    doc_all(doc, "meta[property], meta[name], meta[itemprop]")
}

/// The content of the first of `metas` whose property, name or itemprop is `key`.
fn meta_in(metas: &[ElementRef<'_>], key: &str) -> Option<String> {
    metas
        .iter()
        .find(|m| {
            let v = m.value();
            [v.attr("property"), v.attr("name"), v.attr("itemprop")]
                .into_iter()
                .flatten()
                .any(|k| k.eq_ignore_ascii_case(key))
        })
        .and_then(|m| m.value().attr("content"))
        .map(collapse)
        .filter(|s| !s.is_empty())
}

fn attr_of(doc: &Html, css: &str, attrs: &[&str]) -> Option<String> {
    let el = doc_all(doc, css).into_iter().next()?;
    attrs
        .iter()
        .find_map(|a| el.value().attr(a))
        .map(|s| s.trim().to_owned())
}

/// "Headline — Site Name" → "Headline".
fn strip_site(t: &str) -> String {
    for sep in [" \u{2014} ", " | ", " - ", " \u{2013} "] {
        if let Some((head, _)) = t.rsplit_once(sep) {
            return head.trim().to_owned();
        }
    }
    t.to_owned()
}

fn dom_authors(doc: &Html, meta: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    if let Some(a) = meta("author") {
        return vec![a];
    }
    let found: Vec<String> = doc_all(doc, "article [rel=author], .byline [rel=author], [itemprop=author] [itemprop=name], .byline .author, a[rel=author]")
        .into_iter()
        .filter(|e| !in_comments(*e))
        .map(text)
        .filter(|t| !t.is_empty() && t.len() < 80)
        .collect();
    let mut out: Vec<String> = Vec::new();
    for f in found {
        let f = f.strip_prefix("By ").unwrap_or(&f).to_owned();
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

fn first_article_time(doc: &Html, now: DateTime<Utc>) -> Option<String> {
    doc_all(
        doc,
        "article time[datetime], .byline time[datetime], main time[datetime], time[datetime]",
    )
    .into_iter()
    .filter(|t| !in_comments(*t) && !aside_ancestor(*t))
    .find_map(|t| {
        t.value()
            .attr("datetime")
            .and_then(|d| normalize_date(d, now))
    })
}

fn tags(doc: &Html, ld: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = match ld.and_then(|v| v.get("keywords")) {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(collapse).collect(),
        Some(Value::String(s)) => s.split(',').map(collapse).collect(),
        _ => Vec::new(),
    };
    if out.is_empty() {
        out = doc_all(doc, "meta[property='article:tag']")
            .into_iter()
            .filter_map(|m| m.value().attr("content").map(collapse))
            .collect();
    }
    if out.is_empty() {
        out = doc_all(doc, "a[rel~=tag]")
            .into_iter()
            .filter(|a| !in_comments(*a))
            .map(text)
            .collect();
    }
    out.retain(|t| !t.is_empty());
    out.dedup();
    out
}

// ---- main text ----

/// Containers that sites use for the article body, most specific first.
const ROOTS: &[&str] = &[
    "[itemprop~=articleBody]",
    ".entry-content",
    ".post-content",
    ".article-body",
    ".article__body",
    ".article-content",
    ".story-body",
    ".field--name-body",
    ".field-name-body",
    ".post-body",
    "#article-body",
    ".node__content",
];

/// Class/id tokens of things in or around articles that are not the article's text.
static BOILER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(.*[-_])?(share|sharing|social|related|recommended|newsletter|ad|ads|advert|advertisement|promo|sponsored|byline|meta|tags|comments?|respond|sidebar|widget|pull-?quote|pullquote|bio|author-box|author-bio|subscribe|breadcrumbs?|caption|credit|toolbar|read-?more|more-stories|signature|hidden|sr-only|visually-hidden|kicker|standfirst|dek|teasers?|disqus)([-_].*)?$")
        .unwrap_or_else(|e| panic!("built-in regex: {e}"))
});

fn boilerplate(e: ElementRef<'_>) -> bool {
    matches!(
        e.value().name(),
        "aside" | "nav" | "footer" | "header" | "figure" | "figcaption" | "form" | "h1"
    ) || marked(e, &BOILER)
        || e.value().attr("itemprop").is_some_and(|p| p == "author")
}

fn boilerplate_ancestor(e: ElementRef<'_>) -> bool {
    e.ancestors()
        .take(crate::extract::comments::MAX_DEPTH)
        .filter_map(ElementRef::wrap)
        .any(|a| {
            matches!(a.value().name(), "aside" | "nav" | "footer")
                || marked(a, &BOILER) && !matches!(a.value().name(), "body" | "html")
        })
}

/// Inside a sidebar, navigation or a list of other stories (their dates are not ours).
fn aside_ancestor(e: ElementRef<'_>) -> bool {
    static OTHER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)^(.*[-_])?(related|teasers?|widget|sidebar|recommended|more-stories)([-_].*)?$",
        )
        .unwrap_or_else(|e| panic!("built-in regex: {e}"))
    });
    e.ancestors()
        .take(crate::extract::comments::MAX_DEPTH)
        .filter_map(ElementRef::wrap)
        .any(|a| matches!(a.value().name(), "aside" | "nav" | "footer") || marked(a, &OTHER))
}

fn in_comments(e: ElementRef<'_>) -> bool {
    let s = comments::sel(
        "#comments, .comments, .comment, .comments-area, #disqus_thread, .comment-thread, li.post, .commentlist, .comment-list, [itemtype$='schema.org/Comment']",
    );
    e.ancestors()
        .take(crate::extract::comments::MAX_DEPTH)
        .filter_map(ElementRef::wrap)
        .any(|a| s.matches(&a))
}

/// The content root, whether it was found by paragraph density (no known container), and
/// for a known container its paragraphs (walked with [`boilerplate`] skipped).
type Root<'a> = (ElementRef<'a>, bool, Option<Vec<String>>);

fn content_root(doc: &Html) -> Option<Root<'_>> {
    let known = ROOTS
        .iter()
        .flat_map(|css| doc_all(doc, css))
        .filter(|e| !in_comments(*e) && !boilerplate_ancestor(*e))
        .find_map(|e| {
            let paras = paragraphs(e, &boilerplate);
            (paras.iter().map(String::len).sum::<usize>() >= MIN_TEXT_DECLARED)
                .then_some((e, paras))
        });
    known
        .map(|(k, paras)| (k, false, Some(paras)))
        .or_else(|| densest(doc).map(|d| (d, true, None)))
}

/// The element whose direct `<p>` children hold the most text outside boilerplate.
fn densest(doc: &Html) -> Option<ElementRef<'_>> {
    let mut best: Option<(usize, ElementRef<'_>)> = None;
    let mut scores = std::collections::HashMap::new();
    for p in doc_all(doc, "p").into_iter().take(50_000) {
        if boilerplate_ancestor(p) || in_comments(p) {
            continue;
        }
        let Some(parent) = p.parent().and_then(ElementRef::wrap) else {
            continue;
        };
        let len = text(p).len();
        let score: &mut usize = scores.entry(parent.id()).or_default();
        *score += len;
        if best.is_none_or(|(b, _)| *score > b) {
            best = Some((*score, parent));
        }
    }
    best.map(|(_, e)| e)
}

/// Front pages, sections and tag lists: several linked headlines or teaser articles.
fn is_listing(doc: &Html) -> bool {
    // Comments are often `<article>`s too; only top-level ones outside comments count.
    let outer = |e: &ElementRef<'_>| {
        !in_comments(*e)
            && !e
                .ancestors()
                .take(crate::extract::comments::MAX_DEPTH)
                .filter_map(ElementRef::wrap)
                .any(|a| a.value().name() == "article")
    };
    let teasers = doc_all(doc, "article").iter().filter(|e| outer(e)).count() >= 3
        || doc_all(doc, ".teaser").len() >= 3;
    let headlines = doc_all(doc, "h2 a, h3 a")
        .into_iter()
        .filter(|a| !boilerplate_ancestor(*a) && !in_comments(*a))
        .count();
    teasers || headlines >= 4
}
