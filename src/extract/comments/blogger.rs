//! Blogger (Blogspot) comments: `.comment-thread` lists of `li.comment#cNNN` with the
//! author in `cite.user`, the date link in `.datetime`, the text in `.comment-content`,
//! and replies in a nested `.comment-replies` thread.

use scraper::{ElementRef, Html};

use super::{
    Comment, CommentKind, Ctx, author_in, comment_text, date_in, doc_all, first, parent_id, sel,
    short_id,
};

pub fn extract(doc: &Html, ctx: &Ctx<'_>) -> Option<Vec<Comment>> {
    let thread = doc_all(doc, "#comments .comment-thread, .comments .comment-thread")
        .into_iter()
        .next()?;
    let item = sel("li.comment");
    let nested = sel(".comment-replies");
    let id_of = |li: ElementRef<'_>| li.value().id().map(short_id);
    let mut out = Vec::new();
    for li in thread.select(&item) {
        let block = first(li, ".comment-block").unwrap_or(li);
        let (author, author_url) = author_in(block, "cite.user, .comment-author, .user", ctx);
        let published = first(block, ".datetime, .comment-timestamp").and_then(|d| date_in(d, ctx));
        let text = first(block, ".comment-content")
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
