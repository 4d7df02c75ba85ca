//! The shape many comment systems share: a thread element holding list items, each with its
//! own author, date and text parts, and replies nested inside their parent item. A platform
//! that fits is described by its selectors ([`ListThread`]) rather than by its own walk.

use scraper::{ElementRef, Html};

use super::{
    Comment, CommentKind, Ctx, author_in, comment_text, date_in, doc_all, first, parent_id, sel,
    short_id,
};

/// Selectors of one platform's list-shaped thread.
pub(super) struct ListThread {
    /// The thread container (the first match is used).
    pub thread: &'static str,
    /// One comment; nested items are replies.
    pub item: &'static str,
    /// Where an item keeps its replies (left out of its text).
    pub nested: &'static str,
    /// The item's own part, excluding replies (the item itself when absent).
    pub block: &'static str,
    pub author: &'static str,
    pub date: &'static str,
    pub text: &'static str,
}

/// Comments of the first thread matching `spec`, in document order, or None when the page
/// has no such thread.
pub(super) fn extract(doc: &Html, ctx: &Ctx<'_>, spec: &ListThread) -> Option<Vec<Comment>> {
    let thread = doc_all(doc, spec.thread).into_iter().next()?;
    let item = sel(spec.item);
    let nested = sel(spec.nested);
    let id_of = |li: ElementRef<'_>| li.value().id().map(short_id);
    let mut out = Vec::new();
    for li in thread.select(&item) {
        let block = first(li, spec.block).unwrap_or(li);
        let (author, author_url) = author_in(block, spec.author, ctx);
        let published = first(block, spec.date).and_then(|d| date_in(d, ctx));
        let text = first(block, spec.text)
            .map(|c| comment_text(c, &nested))
            .unwrap_or_default();
        out.push(Comment {
            id: id_of(li).unwrap_or_else(|| format!("n{}", out.len() + 1)),
            author,
            author_url,
            published,
            text,
            parent: parent_id(li, &item, &id_of),
            kind: CommentKind::Comment,
        });
    }
    Some(out)
}
