//! Blogger (Blogspot) comments: `.comment-thread` lists of `li.comment#cNNN` with the
//! author in `cite.user`, the date link in `.datetime`, the text in `.comment-content`,
//! and replies in a nested `.comment-replies` thread.

use scraper::Html;

use super::list::{self, ListThread};
use super::{Comment, Ctx};

pub fn extract(doc: &Html, ctx: &Ctx<'_>) -> Option<Vec<Comment>> {
    list::extract(
        doc,
        ctx,
        &ListThread {
            thread: "#comments .comment-thread, .comments .comment-thread",
            item: "li.comment",
            nested: ".comment-replies",
            block: ".comment-block",
            author: "cite.user, .comment-author, .user",
            date: ".datetime, .comment-timestamp",
            text: ".comment-content",
        },
    )
}
