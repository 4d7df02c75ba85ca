//! Drupal's comment module: `article.comment` (Drupal 8+) or `div.comment` (Drupal 7)
//! inside the comment wrapper, each preceded by an `<a id="comment-N">` anchor, with
//! replies in a `div.indented` right after the comment they answer.

use scraper::{ElementRef, Html};

use super::{
    CHROME, Comment, CommentKind, Ctx, author_in, date_in, doc_all, first, marked, paragraphs, sel,
    short_id,
};

const WRAPPERS: &str = "section.comments, .comment-wrapper, #comments.comments, .field--name-comment, .field--type-comment";

pub fn extract(doc: &Html, ctx: &Ctx<'_>) -> Option<Vec<Comment>> {
    let wrapper = doc_all(doc, WRAPPERS).into_iter().next()?;
    let item = sel("article.comment, div.comment, article.js-comment");
    let items: Vec<ElementRef<'_>> = wrapper.select(&item).collect();
    let drupalish = !items.is_empty()
        && items.iter().all(|c| {
            first(
            *c,
            ".comment__content, .field--name-comment-body, .content, .submitted, .comment__meta",
        )
        .is_some()
        });
    if !drupalish {
        return None;
    }
    let indented = sel("div.indented");
    let skip = |e: ElementRef<'_>| {
        indented.matches(&e)
            || marked(e, &CHROME)
            || e.value().name() == "mark"
            || e.value()
                .classes()
                .any(|c| matches!(c, "title" | "comment__title" | "new" | "links"))
            || matches!(e.value().name(), "h2" | "h3")
    };
    let mut out: Vec<Comment> = Vec::new();
    for (i, c) in items.iter().enumerate() {
        let id = id_of(*c).unwrap_or_else(|| format!("n{}", i + 1));
        let (author, author_url) = author_in(
            *c,
            ".comment__author a, .comment__author, .username, [rel=author]",
            ctx,
        );
        let published = first(*c, "time, .comment__time, .submitted, .comment__meta")
            .and_then(|m| date_in(m, ctx));
        let body =
            first(*c, ".field--name-comment-body, .comment__content, .content").unwrap_or(*c);
        let text = paragraphs(body, &skip).join("\n\n");
        out.push(Comment {
            id,
            author,
            author_url,
            published,
            text,
            parent: parent_of(*c, &indented),
            kind: CommentKind::Comment,
        });
    }
    Some(out)
}

/// Drupal 8+ puts the id on the article; Drupal 7 on the anchor just before the div.
fn id_of(c: ElementRef<'_>) -> Option<String> {
    if let Some(id) = c.value().id().filter(|i| i.starts_with("comment-")) {
        return Some(short_id(id));
    }
    let anchor = c.prev_siblings().filter_map(ElementRef::wrap).next()?;
    let id = anchor.value().id().filter(|i| i.starts_with("comment-"))?;
    (anchor.value().name() == "a").then(|| short_id(id))
}

/// The comment whose `div.indented` holds `c`: the nearest comment before that div.
fn parent_of(c: ElementRef<'_>, indented: &scraper::Selector) -> Option<String> {
    let box_ = c
        .parent()
        .and_then(ElementRef::wrap)
        .filter(|p| indented.matches(p))?;
    let item = sel("article.comment, div.comment, article.js-comment");
    box_.prev_siblings()
        .filter_map(ElementRef::wrap)
        .find(|s| item.matches(s))
        .and_then(id_of)
}
