//! Disqus threads rendered into the page (as archived after the embed ran, or served by
//! a server-side Disqus render): `#disqus_thread` with `li.post` items, the message in
//! `div.post-message` (which may carry links, quotes and code), replies in `ul.children`.

use scraper::{ElementRef, Html};

use super::{
    Comment, CommentKind, Ctx, author_in, comment_text, date_in, doc_all, first, parent_id, sel,
    short_id,
};

pub fn extract(doc: &Html, ctx: &Ctx<'_>) -> Option<Vec<Comment>> {
    let thread = doc_all(doc, "#disqus_thread, .disqus-thread")
        .into_iter()
        .next()?;
    let item = sel("li.post");
    let nested = sel("ul.children, .children");
    let id_of = |li: ElementRef<'_>| li.value().id().map(short_id);
    let mut out = Vec::new();
    for li in thread.select(&item) {
        let body = first(li, ".post-content").unwrap_or(li);
        let (author, author_url) =
            author_in(body, ".post-byline .author, .author, .post-author", ctx);
        let published = first(body, ".post-meta, .post-byline").and_then(|m| date_in(m, ctx));
        let text = first(body, ".post-message")
            .map(|m| comment_text(m, &nested))
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
