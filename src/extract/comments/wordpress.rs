//! WordPress comments: the classic `ol.commentlist` ("Name says:", `div.comment-body`)
//! and the modern threaded `ol.comment-list` (`article.comment-body`, `footer.comment-meta`,
//! `div.comment-content`), both nesting replies in `ol.children`, plus pingbacks and
//! trackbacks listed among them. A comments area that only says "Comments are closed" is
//! recognised as WordPress with no comments.

use scraper::{ElementRef, Html};

use super::{
    Comment, CommentKind, Ctx, author_in, comment_text, date_in, doc_all, first, parent_id, sel,
    short_id, text,
};

const LISTS: &str = "ol.commentlist, ol.comment-list, ul.commentlist, ul.comment-list";
const ITEMS: &str = "li.comment, li.pingback, li.trackback";

pub fn extract(doc: &Html, ctx: &Ctx<'_>) -> Option<Vec<Comment>> {
    let lists = doc_all(doc, LISTS);
    if lists.is_empty() {
        // "Comments are closed." in a WordPress comments area: recognised, empty.
        let closed = doc_all(
            doc,
            "#comments .no-comments, .comments-area .no-comments, p.nocomments",
        );
        return (!closed.is_empty()).then(Vec::new);
    }
    let item = sel(ITEMS);
    let nested = sel("ol.children, ul.children");
    let mut out = Vec::new();
    for list in lists {
        // A list nested in another list's item is reached through the outer one.
        if list
            .ancestors()
            .take(crate::extract::comments::MAX_DEPTH)
            .filter_map(ElementRef::wrap)
            .any(|a| item.matches(&a))
        {
            continue;
        }
        for li in list.select(&item) {
            out.push(one(li, &item, &nested, ctx, out.len()));
        }
    }
    Some(out)
}

fn id_of(li: ElementRef<'_>) -> Option<String> {
    li.value().id().map(short_id)
}

fn one(
    li: ElementRef<'_>,
    item: &scraper::Selector,
    nested: &scraper::Selector,
    ctx: &Ctx<'_>,
    index: usize,
) -> Comment {
    let classes: Vec<&str> = li.value().classes().collect();
    let kind = if classes.contains(&"pingback") {
        CommentKind::Pingback
    } else if classes.contains(&"trackback") {
        CommentKind::Trackback
    } else {
        CommentKind::Comment
    };
    // The body holds author, date and text but not the replies, which follow it in the li.
    let body = first(li, ".comment-body").unwrap_or(li);
    let id = id_of(li).unwrap_or_else(|| format!("n{}", index + 1));
    let parent = parent_id(li, item, &id_of);
    let published = first(body, ".comment-meta, .commentmetadata, .comment-metadata")
        .and_then(|m| date_in(m, ctx));
    if kind != CommentKind::Comment {
        // "Pingback: <a href=…>Title of the linking post</a>": the link is who and what.
        let (author, author_url) = author_in(body, "a[href]", ctx);
        let text = author.clone().unwrap_or_else(|| {
            text(body)
                .trim_start_matches("Pingback:")
                .trim_start_matches("Trackback:")
                .trim()
                .to_owned()
        });
        return Comment {
            id,
            author,
            author_url,
            published,
            text,
            parent,
            kind,
        };
    }
    let (mut author, author_url) = author_in(
        body,
        ".comment-author .fn, cite.fn, .fn, .comment-author",
        ctx,
    );
    if let Some(a) = &mut author {
        // Themes without a `span.says` put "Name says:" in one text node.
        if let Some(stripped) = a.strip_suffix("says:") {
            *a = stripped.trim().to_owned();
        }
    }
    let text = match first(body, ".comment-content") {
        Some(content) => comment_text(content, nested),
        None => comment_text(body, nested),
    };
    Comment {
        id,
        author,
        author_url,
        published,
        text,
        parent,
        kind,
    }
}
