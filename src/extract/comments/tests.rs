//! Unit tests of the comment helpers and pagination; whole pages are tested by the
//! fixtures in `tests/extract_quality.rs`.

use scraper::Html;
use url::Url;

use super::paging::{article_key, comment_page_links};
use super::short_id;

#[test]
fn short_ids() {
    assert_eq!(short_id("comment-42"), "42");
    assert_eq!(short_id("p1337"), "1337");
    assert_eq!(short_id("c9"), "9");
    assert_eq!(short_id("reply-a1b"), "reply-a1b");
}

#[test]
fn article_keys() {
    let cases = [
        (
            "http://x/news/a/comment-page-2/#comments",
            "http://x/news/a/",
        ),
        ("http://x/news/a/?cpage=3", "http://x/news/a/"),
        ("http://x/news/a/?replytocom=7#respond", "http://x/news/a/"),
        ("http://x/node/5?page=1", "http://x/node/5"),
        (
            "http://x/viewtopic.php?t=9&start=20",
            "http://x/viewtopic.php?t=9",
        ),
        ("http://x/news/a/", "http://x/news/a/"),
    ];
    for (input, want) in cases {
        let got = article_key(&Url::parse(input).unwrap());
        assert_eq!(got.as_str(), want, "{input}");
    }
}

#[test]
fn page_links() {
    let html = r##"<html><body><article><p><a href="/news/b/">Other story</a></p></article>
    <div id="comments"><nav class="comment-navigation">
    <a href="/news/a/comment-page-1/#comments" rel="prev">&laquo; Older Comments</a>
    <a href="/news/a/comment-page-3/#comments" rel="next">Newer Comments &raquo;</a></nav>
    <a href="?replytocom=5#respond">Reply</a>
    <ul class="pager"><li><a href="/news/a/?cpage=4">4</a></li></ul></div>
    <a href="https://elsewhere.example/news/a/comment-page-5/">off-site</a></body></html>"##;
    let doc = Html::parse_document(html);
    let url = Url::parse("http://x/news/a/comment-page-2/").unwrap();
    let links: Vec<String> = comment_page_links(&doc, &url)
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(
        links,
        [
            "http://x/news/a/comment-page-1/",
            "http://x/news/a/comment-page-3/",
            "http://x/news/a/?cpage=4"
        ]
    );
}

#[test]
fn junk_never_panics() {
    let now = chrono::Utc::now();
    let url = Url::parse("http://x/").unwrap();
    for junk in [
        "",
        "<",
        "<<<>>>",
        "\u{0}\u{1}binary\u{ff}",
        "<ol class=commentlist><li class=comment><li class=comment>",
        "<div id=disqus_thread><li class=post id=post-><div class=post-message>",
    ] {
        let doc = Html::parse_document(junk);
        let _ = super::extract_comments(&doc, &url, now);
        let _ = crate::extract::article::try_extract_article(&doc, &url, now);
        let _ = comment_page_links(&doc, &url);
    }
}

#[test]
fn drupal_and_phpbb_pagers() {
    let html = r#"<section class="comment-wrapper"><nav class="pager"><a href="/node/5?page=1">2</a><a href="/node/5?page=2" rel="next">Next</a></nav></section>
    <div class="pagination"><a href="./viewtopic.php?t=9&amp;start=20">2</a></div>
    <nav><a href="/node/6?page=1">Other node, not in a comment pager</a></nav>"#;
    let doc = Html::parse_document(html);
    let node = Url::parse("http://x/node/5").unwrap();
    let links: Vec<String> = comment_page_links(&doc, &node)
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(links, ["http://x/node/5?page=1", "http://x/node/5?page=2"]);
    let topic = Url::parse("http://x/viewtopic.php?t=9").unwrap();
    let links: Vec<String> = comment_page_links(&doc, &topic)
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(links, ["http://x/viewtopic.php?t=9&start=20"]);
}

#[test]
fn merge_dedupes_and_threads() {
    use super::paging::merge_comment_pages;
    use super::{Comment, CommentKind};
    use crate::extract::article::Article;
    let c = |id: &str, parent: Option<&str>| Comment {
        id: id.into(),
        author: None,
        author_url: None,
        published: None,
        text: id.into(),
        parent: parent.map(Into::into),
        kind: CommentKind::Comment,
    };
    let page = |url: &str, cs: Vec<Comment>| Article {
        url: url.into(),
        text: "body".into(),
        comments: cs,
        ..Article::default()
    };
    let merged = merge_comment_pages(vec![
        page(
            "http://x/a/comment-page-2/",
            vec![c("3", None), c("4", Some("1")), c("2", Some("1"))],
        ),
        page("http://x/a/", vec![c("1", None), c("2", Some("1"))]),
    ]);
    assert_eq!(merged.url, "http://x/a/");
    let ids: Vec<&str> = merged.comments.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "4", "3"]);
    assert_eq!(merge_comment_pages(Vec::new()), Article::default());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Tag soup built from the markup the rules look for never panics any extractor.
    #[test]
    fn tag_soup_never_panics(parts in proptest::collection::vec(0usize..12, 0..60), words in "[a-z0-9 :]{0,40}") {
        const BITS: [&str; 12] = [
            "<ol class=commentlist>", "<li class=comment id=comment-7>", "<ol class=children>",
            "<div id=disqus_thread><li class=post id=post-1><div class=post-message>",
            "<section class=comment-wrapper><article class=comment><div class=content>",
            "<div class=post id=p3><div class=postbody><div class=content>",
            "<div itemscope itemtype=https://schema.org/Comment><span itemprop=text>",
            "<time datetime=2024-01-01>", "</div>", "</li></ol>", "<p>", "<a href=?cpage=2>",
        ];
        let mut html = String::new();
        for p in parts {
            html.push_str(BITS[p]);
            html.push_str(&words);
        }
        let doc = Html::parse_document(&html);
        let url = Url::parse("http://x/a/?start=3").unwrap();
        let now = chrono::Utc::now();
        let _ = super::extract_comments(&doc, &url, now);
        let _ = crate::extract::article::try_extract_article(&doc, &url, now);
        let _ = comment_page_links(&doc, &url);
        let _ = crate::extract::dates::normalize_date(&words, now);
    }
}
