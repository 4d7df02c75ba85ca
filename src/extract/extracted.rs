//! The `extracted.jsonl` line: one article with all its comment pages merged, linked to the
//! capture of its article page. Shared by the crawl (written as pages arrive) and
//! `warcrow extract` (written from WARC files), so both produce the same lines.
//! The schema is documented in `docs/extracted.md`.

use chrono::{DateTime, Utc};
use scraper::Html;
use serde::{Deserialize, Serialize};
use url::Url;

use super::article::{Article, ExtractError, try_extract_article};
use super::comments::paging::{comment_page_links, merge_comment_pages};

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

/// What content extraction made of a page.
#[derive(Debug, Default)]
pub enum Extraction {
    /// Not a 2xx HTML page: nothing to extract.
    #[default]
    Skipped,
    /// HTML, but not an article (front pages, lists, 404 bodies).
    NotArticle,
    Article(Box<Article>),
    /// The page could not be extracted (undecodable, too large, extractor fault).
    Failed(String),
}

impl Extraction {
    /// The manifest's `counts.extracted` key.
    pub fn as_str(&self) -> &'static str {
        match self {
            Extraction::Skipped => "skipped",
            Extraction::NotArticle => "not_article",
            Extraction::Article(_) => "article",
            Extraction::Failed(_) => "failed",
        }
    }
}

/// Extracts the article on a parsed page and the links to its other comment pages.
/// Comment pages are looked for only on articles: a front page's `?page=2` is a listing.
pub fn extract(doc: &Html, url: &Url, captured_at: DateTime<Utc>) -> (Extraction, Vec<Url>) {
    // The extractor is not supposed to panic; if a hostile page makes it, the capture is
    // already written and must still be recorded, so the fault becomes this page's error.
    let run = std::panic::AssertUnwindSafe(|| match try_extract_article(doc, url, captured_at) {
        Ok(article) => (
            Extraction::Article(Box::new(article)),
            comment_page_links(doc, url),
        ),
        Err(ExtractError::NotArticle(_) | ExtractError::NotHtml) => {
            (Extraction::NotArticle, Vec::new())
        }
        Err(e) => (Extraction::Failed(e.to_string()), Vec::new()),
    });
    std::panic::catch_unwind(run).unwrap_or_else(|_| {
        (
            Extraction::Failed("the article extractor failed on this page".into()),
            Vec::new(),
        )
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
