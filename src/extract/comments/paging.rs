//! Comment pagination for the crawler: which links of a page lead to more of its
//! comments ([`comment_page_links`]), which article a comment page belongs to
//! ([`article_key`]), and how the per-page extractions become one article
//! ([`merge_comment_pages`]).
//!
//! Conventions understood: WordPress `/comment-page-N/` and `?cpage=N`, "Older/Newer
//! comments" links and `rel=next/prev` inside the comment section, Drupal `?page=N` in the
//! comment pager, phpBB `start=N` on topic pages, Blogger `showComment`.

use std::collections::{HashMap, HashSet};

use scraper::{ElementRef, Html};
use url::Url;

use super::{Comment, doc_all, text};
use crate::extract::article::Article;

/// Query parameters that select a comment page or a reply form, not an article.
const PAGE_PARAMS: &[&str] = &["cpage", "replytocom", "page", "start", "showComment"];

/// Elements that hold a comment section or its pager.
const SECTIONS: &str = "#comments, .comments, .comments-area, .comment-navigation, .comments-pagination, section.comments, .comment-wrapper, #disqus_thread, .pagination, .pager";

/// Links of `doc` to other pages of its comments (absolute, without fragment, unique, in
/// document order; the page itself and reply-form variants excluded).
pub fn comment_page_links(doc: &Html, url: &Url) -> Vec<Url> {
    let sections = super::sel(SECTIONS);
    let in_section = |a: ElementRef<'_>| {
        a.ancestors()
            .take(crate::extract::comments::MAX_DEPTH)
            .filter_map(ElementRef::wrap)
            .any(|x| sections.matches(&x))
    };
    let here = article_key(url);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for a in doc_all(doc, "a[href]") {
        let Some(mut target) = a.value().attr("href").and_then(|h| url.join(h.trim()).ok()) else {
            continue;
        };
        target.set_fragment(None);
        if target.host_str() != url.host_str()
            || target.query_pairs().any(|(k, _)| k == "replytocom")
        {
            continue;
        }
        // Every page of an article's comments maps to the article: others are not ours.
        if article_key(&target) != here {
            continue;
        }
        // Cheapest tests first; the label and the ancestor walk only when still needed.
        // (By URL, or by label, or in the comment section with rel=next/prev or a pager
        // parameter.)
        let wanted = page_number(&target).is_some()
            || {
                let label = text(a).to_lowercase();
                label.contains("older comments") || label.contains("newer comments")
            }
            || {
                let rel = a.value().attr("rel").unwrap_or("");
                let by_rel = rel.contains("next") || rel.contains("prev");
                let pager_param = target
                    .query_pairs()
                    .any(|(k, _)| k == "page" || k == "start");
                (by_rel || pager_param) && in_section(a)
            };
        if wanted && target != *url && seen.insert(target.clone()) {
            out.push(target);
        }
    }
    out
}

/// The comment page number a URL names, if it names one (`comment-page-3` → 3; `page`
/// and `start` are offsets and returned as given).
fn page_number(url: &Url) -> Option<u64> {
    if let Some(n) = url
        .path_segments()
        .and_then(|mut s| s.find_map(|seg| seg.strip_prefix("comment-page-")?.parse().ok()))
    {
        return Some(n);
    }
    url.query_pairs()
        .find(|(k, _)| matches!(k.as_ref(), "cpage" | "page" | "start"))
        .and_then(|(_, v)| v.parse().ok())
}

/// The article URL of a comment page: `/comment-page-N/` removed, comment-page and reply
/// parameters dropped, fragment dropped. Other URLs come back as they are (less fragment).
pub fn article_key(url: &Url) -> Url {
    let mut key = url.clone();
    key.set_fragment(None);
    let segments: Vec<String> = url
        .path_segments()
        .map(|s| {
            s.filter(|seg| !seg.starts_with("comment-page-"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if url.path_segments().is_some() {
        key.set_path(&segments.join("/"));
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !PAGE_PARAMS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        key.set_query(None);
    } else {
        key.query_pairs_mut().clear().extend_pairs(kept);
    }
    key
}

/// One article from the extractions of its comment pages: metadata and text from the
/// article page itself (the page without a comment page number, else the first), every
/// comment once (by id), in thread order: threads in page order, replies after their parent.
pub fn merge_comment_pages(mut pages: Vec<Article>) -> Article {
    let rank = |a: &Article| {
        Url::parse(&a.url)
            .ok()
            .and_then(|u| page_number(&u))
            .unwrap_or(0)
    };
    pages.sort_by_key(rank);
    let mut all: Vec<Comment> = Vec::new();
    let mut ids = HashSet::new();
    for p in &mut pages {
        for c in std::mem::take(&mut p.comments) {
            if ids.insert(c.id.clone()) {
                all.push(c);
            }
        }
    }
    // No pages: an empty article, so callers need no special case.
    let mut article = pages.into_iter().next().unwrap_or_default();
    article.comments = thread_order(all);
    article
}

/// Parents before replies, siblings in the order first seen.
fn thread_order(all: Vec<Comment>) -> Vec<Comment> {
    let known: HashSet<String> = all.iter().map(|c| c.id.clone()).collect();
    let mut kids: HashMap<Option<String>, Vec<usize>> = HashMap::new();
    for (i, c) in all.iter().enumerate() {
        let parent = c.parent.clone().filter(|p| known.contains(p) && *p != c.id);
        kids.entry(parent).or_default().push(i);
    }
    let mut order = Vec::with_capacity(all.len());
    let mut stack: Vec<usize> = kids
        .get(&None)
        .map(|v| v.iter().rev().copied().collect())
        .unwrap_or_default();
    let mut done = vec![false; all.len()];
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut done[i], true) {
            continue;
        }
        order.push(i);
        if let Some(children) = all.get(i).and_then(|c| kids.get(&Some(c.id.clone()))) {
            stack.extend(children.iter().rev());
        }
    }
    // Cycles in parent links (malformed pages) leave comments unreached: keep them at the end.
    order.extend((0..all.len()).filter(|i| !done[*i]));
    let mut slots: Vec<Option<Comment>> = all.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|i| slots.get_mut(i).and_then(Option::take))
        .collect()
}
