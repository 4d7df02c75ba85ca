//! schema.org comments: microdata (`itemtype=…/Comment` with `itemprop` author, name,
//! dateCreated, text; replies nested in their parent's scope) and JSON-LD (`comment` of
//! an article object, replies in each comment's own `comment`).

use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html};
use serde_json::Value;

use super::{
    CHROME, Comment, CommentKind, Ctx, author_in, date_in, doc_all, first, marked, paragraphs,
    parent_id, sel, short_id,
};
use crate::extract::article::json_ld;
use crate::extract::dates::normalize_date;

pub fn extract(doc: &Html, ctx: &Ctx<'_>) -> Option<Vec<Comment>> {
    microdata(doc, ctx).or_else(|| from_json_ld(doc, ctx))
}

fn microdata(doc: &Html, ctx: &Ctx<'_>) -> Option<Vec<Comment>> {
    let item = sel(
        "[itemscope][itemtype$='schema.org/Comment'], [itemscope][itemtype$='schema.org/Answer']",
    );
    let items = doc_all(
        doc,
        "[itemscope][itemtype$='schema.org/Comment'], [itemscope][itemtype$='schema.org/Answer']",
    );
    if items.is_empty() {
        return None;
    }
    let id_of = |e: ElementRef<'_>| {
        e.value()
            .id()
            .map(str::to_owned)
            .or_else(|| first(e, "[itemprop=identifier]").map(|i| super::text(i)))
    };
    let mut out = Vec::new();
    for c in items {
        // Properties of this comment only, not of its nested replies.
        let own = |e: ElementRef<'_>| {
            e.ancestors()
                .take(crate::extract::comments::MAX_DEPTH)
                .filter_map(ElementRef::wrap)
                .find(|a| item.matches(a))
                .is_some_and(|a| a.id() == c.id())
        };
        let (author, author_url) = first(c, "[itemprop=author]")
            .filter(|a| own(*a))
            .map(|a| match first(a, "[itemprop=name]") {
                Some(_) => author_in(a, "[itemprop=name]", ctx),
                None => author_in(c, "[itemprop=author]", ctx),
            })
            .unwrap_or((None, None));
        let published = c
            .select(&sel("[itemprop=dateCreated], [itemprop=datePublished]"))
            .find(|d| own(*d))
            .and_then(|d| date_in(d, ctx));
        let skip = |e: ElementRef<'_>| item.matches(&e) || marked(e, &CHROME);
        let text = c
            .select(&sel("[itemprop=text]"))
            .find(|t| own(*t))
            .map(|t| paragraphs(t, &skip).join("\n\n"))
            .unwrap_or_default();
        out.push(Comment {
            id: id_of(c).unwrap_or_else(|| format!("n{}", out.len() + 1)),
            author,
            author_url,
            published,
            text,
            parent: parent_id(c, &item, &id_of),
            kind: CommentKind::Comment,
        });
    }
    Some(out)
}

fn from_json_ld(doc: &Html, ctx: &Ctx<'_>) -> Option<Vec<Comment>> {
    let article = json_ld(doc)
        .into_iter()
        .find(|v| v.get("comment").is_some())?;
    let mut out = Vec::new();
    walk(article.get("comment")?, None, ctx.captured_at, &mut out);
    Some(out)
}

fn walk(v: &Value, parent: Option<&str>, now: DateTime<Utc>, out: &mut Vec<Comment>) {
    let list: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![v],
        _ => return,
    };
    for c in list {
        if out.len() >= super::MAX_COMMENTS {
            return;
        }
        let s = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_owned);
        let id = s("identifier")
            .or_else(|| {
                c.get("identifier")
                    .and_then(Value::as_u64)
                    .map(|n| n.to_string())
            })
            .or_else(|| s("@id").map(|i| short_id(i.rsplit('#').next().unwrap_or(&i))))
            .unwrap_or_else(|| format!("n{}", out.len() + 1));
        let author = c.get("author");
        let name = author.and_then(|a| a.get("name").and_then(Value::as_str).or(a.as_str()));
        let author_url = author.and_then(|a| a.get("url")).and_then(Value::as_str);
        let published = s("dateCreated")
            .or_else(|| s("datePublished"))
            .and_then(|d| normalize_date(&d, now));
        let text = s("text").map(|t| html_to_text(&t)).unwrap_or_default();
        out.push(Comment {
            id: id.clone(),
            author: name.map(super::collapse),
            author_url: author_url.map(str::to_owned),
            published,
            text,
            parent: parent.map(str::to_owned),
            kind: CommentKind::Comment,
        });
        if let Some(replies) = c.get("comment") {
            walk(replies, Some(&id), now, out);
        }
    }
}

/// JSON-LD `text` may hold HTML; paragraphs of it, else the collapsed string.
fn html_to_text(t: &str) -> String {
    if !t.contains('<') {
        return t
            .split("\n\n")
            .map(super::collapse)
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n");
    }
    let frag = Html::parse_fragment(t);
    paragraphs(frag.root_element(), &|_| false).join("\n\n")
}
