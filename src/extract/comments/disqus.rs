//! Disqus threads rendered into the page (as archived after the embed ran, or served by
//! a server-side Disqus render): `#disqus_thread` with `li.post` items, the message in
//! `div.post-message` (which may carry links, quotes and code), replies in `ul.children`.

use scraper::Html;

use super::list::{self, ListThread};
use super::{Comment, Ctx};

pub fn extract(doc: &Html, ctx: &Ctx<'_>) -> Option<Vec<Comment>> {
    list::extract(
        doc,
        ctx,
        &ListThread {
            thread: "#disqus_thread, .disqus-thread",
            item: "li.post",
            nested: "ul.children, .children",
            block: ".post-content",
            author: ".post-byline .author, .author, .post-author",
            date: ".post-meta, .post-byline",
            text: ".post-message",
        },
    )
}
