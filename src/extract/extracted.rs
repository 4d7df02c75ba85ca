//! The `extracted.jsonl` line: one article with all its comment pages merged, linked to the
//! capture of its article page. Shared by the crawl (written as pages arrive) and
//! `warcrow extract` (written from WARC files), so both produce the same lines.
//! The schema is documented in `docs/extracted.md`.

use serde::{Deserialize, Serialize};

use super::article::Article;
use super::comments::paging::merge_comment_pages;

/// Where a page's response (or revisit) record is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureRef {
    /// File name of the WARC (no folder).
    pub warc_file: String,
    /// Offset of the record's gzip member in that file.
    pub warc_offset: u64,
    /// RFC 3339 with microseconds: the record's WARC-Date.
    pub fetched_at: String,
}

/// One line of `extracted.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractedLine {
    #[serde(flatten)]
    pub article: Article,
    #[serde(flatten)]
    pub capture: CaptureRef,
    /// The other pages whose comments were merged in (sorted), without the article page.
    pub comment_pages: Vec<String>,
}

/// Merges the extractions of one article's pages (any order) into its line. The capture
/// is the one of the page whose metadata and text the merge keeps (the article page).
/// `None` when `pages` is empty.
pub fn merge_line(pages: Vec<(Article, CaptureRef)>) -> Option<ExtractedLine> {
    let mut captures: Vec<(String, CaptureRef)> = Vec::with_capacity(pages.len());
    let mut articles = Vec::with_capacity(pages.len());
    for (article, capture) in pages {
        captures.push((article.url.clone(), capture));
        articles.push(article);
    }
    if articles.is_empty() {
        return None;
    }
    let article = merge_comment_pages(articles);
    let main = captures.iter().position(|(u, _)| *u == article.url)?;
    let (_, capture) = captures.swap_remove(main);
    let mut comment_pages: Vec<String> = captures.into_iter().map(|(u, _)| u).collect();
    comment_pages.sort();
    comment_pages.dedup();
    comment_pages.retain(|u| *u != article.url);
    Some(ExtractedLine {
        article,
        capture,
        comment_pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::comments::{Comment, CommentKind};

    fn page(url: &str, ids: &[&str], offset: u64) -> (Article, CaptureRef) {
        let comments = ids
            .iter()
            .map(|id| Comment {
                id: id.to_string(),
                author: None,
                author_url: None,
                published: None,
                text: format!("c{id}"),
                parent: None,
                kind: CommentKind::Comment,
            })
            .collect();
        let article = Article {
            url: url.into(),
            text: format!("text of {url}"),
            comments,
            ..Article::default()
        };
        let capture = CaptureRef {
            warc_file: "a.warc.gz".into(),
            warc_offset: offset,
            fetched_at: "2024-01-01T00:00:00.000000Z".into(),
        };
        (article, capture)
    }

    #[test]
    fn the_article_page_gives_text_and_capture_whatever_the_order() {
        let line = merge_line(vec![
            page("http://s/a/comment-page-2/", &["3", "4"], 300),
            page("http://s/a/", &["1", "2"], 100),
            page("http://s/a/comment-page-2/", &["3"], 300),
        ])
        .unwrap();
        assert_eq!(line.article.url, "http://s/a/");
        assert_eq!(line.capture.warc_offset, 100);
        assert_eq!(line.comment_pages, vec!["http://s/a/comment-page-2/"]);
        let ids: Vec<_> = line
            .article
            .comments
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(ids, ["1", "2", "3", "4"]);
        let json = serde_json::to_value(&line).unwrap();
        assert_eq!(json["warc_offset"], 100);
        assert_eq!(json["url"], "http://s/a/");
    }

    #[test]
    fn no_pages_no_line() {
        assert!(merge_line(Vec::new()).is_none());
    }
}
