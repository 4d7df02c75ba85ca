//! Fallback for comment sections without semantic class names: a group of at least two
//! sibling-like blocks of the same tag and class, each with a short name, a date and some
//! prose. Navigation, sidebars, widgets ("recent comments"), footers and link-heavy cards
//! (related stories) are never candidates, which keeps this rule from inventing comments.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Html, Node};

use super::{
    CHROME, Comment, CommentKind, Ctx, collapse, date_in_text, marked, paragraphs, short_id, text,
};
use crate::extract::dates::normalize_date;

/// Containers whose repeated blocks are never comments.
static NOT_HERE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(.*[-_])?(sidebar|widget|related|recent|popular|trending|teasers?|cards?|menu|nav|footer|header|newsletter|bio|author-box|share|promo|ads?)([-_].*)?$")
        .unwrap_or_else(|e| panic!("built-in regex: {e}"))
});

/// Words of controls that sit in comment blocks.
const CONTROLS: &[&str] = &[
    "reply",
    "report",
    "like",
    "share",
    "flag",
    "permalink",
    "edit",
    "delete",
    "quote",
];

/// "Reply", "Reply · Like": nothing but control words.
fn all_controls(t: &str) -> bool {
    let words: Vec<String> = t
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    !words.is_empty() && words.iter().all(|w| CONTROLS.contains(&w.as_str()))
}

fn signature(e: ElementRef<'_>) -> Option<(String, String)> {
    let class = e.value().attr("class")?.trim();
    (!class.is_empty()).then(|| (e.value().name().to_owned(), class.to_owned()))
}

fn excluded(e: ElementRef<'_>) -> bool {
    e.ancestors()
        .take(crate::extract::comments::MAX_DEPTH)
        .filter_map(ElementRef::wrap)
        .chain(std::iter::once(e))
        .any(|a| {
            matches!(
                a.value().name(),
                "nav" | "aside" | "footer" | "header" | "form"
            ) || marked(a, &NOT_HERE)
        })
}

/// Length of text in links over all text.
fn link_density(e: ElementRef<'_>) -> f64 {
    let all = text(e).len().max(1);
    let linked: usize = e.select(&super::sel("a")).map(|a| text(a).len()).sum();
    linked as f64 / all as f64
}

fn looks_like_comment(e: ElementRef<'_>, ctx: &Ctx<'_>) -> bool {
    let t = text(e);
    (30..20_000).contains(&t.len())
        && link_density(e) < 0.5
        && e.select(&super::sel("h1 a, h2 a, h3 a, h4 a"))
            .next()
            .is_none()
        && date_in_text(&t, ctx).is_some()
        && name_el(e, ctx).is_some()
}

/// The first short leaf that is neither a date nor a control: the commenter's name.
fn name_el<'a>(e: ElementRef<'a>, ctx: &Ctx<'_>) -> Option<ElementRef<'a>> {
    e.descendants().filter_map(ElementRef::wrap).find(|d| {
        let t = text(*d);
        let leafish = !d.children().any(|c| matches!(c.value(), Node::Element(x) if !matches!(x.name(), "a" | "b" | "strong" | "span")));
        leafish
            && (2..=40).contains(&t.chars().count())
            && !matches!(d.value().name(), "p" | "time")
            && normalize_date(&t, ctx.captured_at).is_none()
            && date_in_text(&t, ctx).is_none()
            && !CONTROLS.contains(&t.to_lowercase().as_str())
    })
}

pub fn extract(doc: &Html, ctx: &Ctx<'_>) -> Option<Vec<Comment>> {
    // Group candidate blocks by signature; the biggest group of comment-like blocks wins.
    let mut groups: HashMap<(String, String), Vec<ElementRef<'_>>> = HashMap::new();
    for e in doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .take(200_000)
    {
        if let Some(sig) = signature(e) {
            groups.entry(sig).or_default().push(e);
        }
    }
    let mut best: Option<Vec<ElementRef<'_>>> = None;
    for (_, blocks) in groups {
        if blocks.len() < 2 || blocks.len() > super::MAX_COMMENTS {
            continue;
        }
        if blocks
            .iter()
            .any(|b| excluded(*b) || !looks_like_comment(*b, ctx))
        {
            continue;
        }
        if best.as_ref().is_none_or(|b| blocks.len() > b.len()) {
            best = Some(blocks);
        }
    }
    let blocks = best?;
    let ids: Vec<String> = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let v = b.value();
            v.attr("data-comment-id")
                .or(v.attr("data-id"))
                .map(str::to_owned)
                .or_else(|| v.id().map(short_id))
                .unwrap_or_else(|| format!("n{}", i + 1))
        })
        .collect();
    let mut out = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        let name = name_el(*b, ctx);
        let author = name
            .map(text)
            .map(|n| n.trim_end_matches("says:").trim().to_owned());
        let author_url = name
            .and_then(|n| {
                n.value()
                    .attr("href")
                    .or_else(|| super::first(n, "a").and_then(|a| a.value().attr("href")))
            })
            .and_then(|h| ctx.url.join(h).ok())
            .map(String::from);
        let own_blocks = &blocks;
        let skip = |e: ElementRef<'_>| {
            if own_blocks.iter().any(|o| o.id() == e.id())
                || marked(e, &CHROME)
                || Some(e.id()) == name.map(|n| n.id())
            {
                return true;
            }
            let t = collapse(&text(e));
            t.chars().count() <= 40
                && (date_in_text(&t, ctx).is_some() || all_controls(&t))
                && !matches!(e.value().name(), "p")
        };
        let parent = b
            .ancestors()
            .take(crate::extract::comments::MAX_DEPTH)
            .filter_map(ElementRef::wrap)
            .find_map(|a| blocks.iter().position(|o| o.id() == a.id()))
            .and_then(|p| ids.get(p).cloned());
        out.push(Comment {
            id: ids.get(i).cloned().unwrap_or_default(),
            author,
            author_url,
            published: date_in_text(&text(*b), ctx),
            text: paragraphs(*b, &skip).join("\n\n"),
            parent,
            kind: CommentKind::Comment,
        });
    }
    Some(out)
}
