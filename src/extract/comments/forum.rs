//! phpBB-like forum threads: `div.post#pNNN` blocks with `.postbody` (subject, `p.author`
//! line "by Name » date", `div.content`) and a `dl.postprofile` (username, rank, post
//! count). On the first page of a topic the opening post is the article; the others are
//! its comments. Quoted posts (`blockquote` with a `cite` linking `#pNNN`) are not the
//! replier's words: they are left out of the text and give the parent.

use scraper::{ElementRef, Html};

use super::{
    CHROME, Comment, CommentKind, Ctx, author_in, date_in, doc_all, first, marked, paragraphs,
    short_id,
};

const POSTS: &str = "div.post[id^=p], article.post[id^=p]";

/// Whether `url` is a later page of a topic (phpBB `start=N`, N > 0): then no post on it
/// is the opening post.
fn later_page(ctx_url: &url::Url) -> bool {
    ctx_url
        .query_pairs()
        .any(|(k, v)| k == "start" && v.parse::<u64>().is_ok_and(|n| n > 0))
}

fn is_forum(doc: &Html) -> bool {
    doc_all(doc, POSTS)
        .iter()
        .any(|p| first(*p, ".postbody").is_some())
}

/// Whether `doc` is a later page of a forum topic: replies only, no opening post.
pub fn replies_only(doc: &Html, url: &url::Url) -> bool {
    later_page(url) && is_forum(doc)
}

/// The opening post's content element, when `doc` is the first page of a forum topic.
pub fn opening_post<'a>(
    doc: &'a Html,
    url: &url::Url,
) -> Option<(ElementRef<'a>, Option<String>, Option<String>)> {
    if !is_forum(doc) || later_page(url) {
        return None;
    }
    let post = doc_all(doc, POSTS).into_iter().next()?;
    let content = first(post, ".postbody .content, .content")?;
    let author = first(
        post,
        ".postprofile .username, p.author .username, .username",
    )
    .map(super::text);
    let date = first(post, "p.author, .author").map(super::text);
    Some((content, author, date))
}

pub fn extract(doc: &Html, ctx: &Ctx<'_>) -> Option<Vec<Comment>> {
    if !is_forum(doc) {
        return None;
    }
    let skip_first = usize::from(!later_page(ctx.url));
    let skip = |e: ElementRef<'_>| {
        e.value().name() == "blockquote"
            || marked(e, &CHROME)
            || e.value().classes().any(|c| c == "notice")
    };
    let mut out = Vec::new();
    for post in doc_all(doc, POSTS).into_iter().skip(skip_first) {
        let id = post
            .value()
            .id()
            .map(short_id)
            .unwrap_or_else(|| format!("n{}", out.len() + 1));
        let (author, author_url) = author_in(
            post,
            ".postprofile .username, p.author .username, .username",
            ctx,
        );
        let published = first(post, "p.author, .author").and_then(|a| date_in(a, ctx));
        let Some(content) = first(post, ".postbody .content, .content") else {
            continue;
        };
        let parent = first(content, "blockquote cite a[href*='#p']")
            .and_then(|a| a.value().attr("href"))
            .and_then(|h| h.rsplit_once("#p"))
            .map(|(_, id)| id.to_owned());
        out.push(Comment {
            id,
            author,
            author_url,
            published,
            text: paragraphs(content, &skip).join("\n\n"),
            parent,
            kind: CommentKind::Comment,
        });
    }
    Some(out)
}
