//! Unit tests of the demo site through [`respond`] directly (no sockets).
//!
//! The main check is a small breadth-first "crawl" with its own naive link finder: every
//! same-host URL reachable from `/` must be in [`expected_paths`] and vice versa, and
//! nothing off-site may be fetched. It keeps `expected_paths` honest as the content grows.

use std::collections::{BTreeSet, VecDeque};

use http_body_util::BodyExt;
use url::Url;

use super::*;

const HOST: &str = "127.0.0.1:8080";

async fn get(path_and_query: &str, accept_gzip: bool) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let mut req = Request::get(path_and_query).header(header::HOST, HOST);
    if accept_gzip {
        req = req.header(header::ACCEPT_ENCODING, "gzip, deflate");
    }
    let resp = respond(&req.body(()).unwrap());
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

/// Naive link finder, good enough for the demo's own markup.
fn links(base: &Url, content_type: &str, body: &str) -> Vec<Url> {
    let mut raw: Vec<String> = Vec::new();
    let css_urls = |text: &str, out: &mut Vec<String>| {
        let re = regex::Regex::new(r#"url\(\s*['"]?([^'")\s]+)['"]?\s*\)"#).unwrap();
        out.extend(re.captures_iter(text).map(|c| c[1].to_owned()));
    };
    let mut base = base.clone();
    if content_type.starts_with("text/css") {
        css_urls(body, &mut raw);
    } else if content_type.starts_with("text/html") {
        let doc = scraper::Html::parse_document(body);
        let sel = |s: &str| scraper::Selector::parse(s).unwrap();
        if let Some(b) = doc.select(&sel("base[href]")).next() {
            base = base.join(b.attr("href").unwrap()).unwrap();
        }
        for el in doc.select(&sel("*")) {
            let v = el.value();
            for attr in ["href", "src", "poster"] {
                if let Some(u) = v.attr(attr)
                    && v.name() != "base"
                {
                    raw.push(u.to_owned());
                }
            }
            if let Some(set) = v.attr("srcset") {
                raw.extend(
                    set.split(',')
                        .filter_map(|c| c.split_whitespace().next())
                        .map(str::to_owned),
                );
            }
            if let Some(style) = v.attr("style") {
                css_urls(style, &mut raw);
            }
            if v.name() == "meta"
                && let Some(c) = v.attr("content")
                && let Some((_, u)) = c.split_once("url=")
            {
                raw.push(u.to_owned());
            }
        }
        for style in doc.select(&sel("style")) {
            css_urls(&style.text().collect::<String>(), &mut raw);
        }
    }
    raw.iter()
        .filter(|u| !u.starts_with("data:"))
        .filter_map(|u| base.join(u).ok())
        .map(|mut u| {
            u.set_fragment(None);
            u
        })
        .collect()
}

#[tokio::test]
async fn crawl_from_front_page_reaches_exactly_expected_paths() {
    let root = Url::parse(&format!("http://{HOST}/")).unwrap();
    let mut seen = BTreeSet::from([root.clone()]);
    let mut queue = VecDeque::from([root.clone()]);
    let mut fetched = BTreeSet::new();
    let mut offsite = BTreeSet::new();
    while let Some(url) = queue.pop_front() {
        let pq = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let (status, headers, body) = get(&pq, false).await;
        fetched.insert(pq.clone());
        let ct = headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let mut found = links(&url, &ct, &String::from_utf8_lossy(&body));
        if status.is_redirection() {
            let loc = headers[header::LOCATION].to_str().unwrap();
            found.push(url.join(loc).unwrap());
        } else {
            assert!(
                status == StatusCode::OK || pq == "/missing/",
                "{pq}: unexpected {status}"
            );
        }
        for link in found {
            if link.host_str() != root.host_str() || link.port() != root.port() {
                offsite.insert(link.to_string());
            } else if seen.insert(link.clone()) {
                queue.push_back(link);
            }
        }
    }
    let expected: BTreeSet<String> = expected_paths().into_iter().collect();
    let extra: Vec<_> = fetched.difference(&expected).collect();
    let missing: Vec<_> = expected.difference(&fetched).collect();
    assert!(extra.is_empty(), "reachable but not expected: {extra:?}");
    assert!(missing.is_empty(), "expected but unreachable: {missing:?}");
    assert_eq!(offsite, BTreeSet::from([OFFSITE_URL.to_owned()]));
}

#[tokio::test]
async fn every_expected_path_answers_with_its_status() {
    for path in expected_paths() {
        let (status, _, _) = get(&path, false).await;
        let want = match path.as_str() {
            "/old-news/" => StatusCode::MOVED_PERMANENTLY,
            "/archive/" => StatusCode::FOUND,
            "/missing/" => StatusCode::NOT_FOUND,
            _ => StatusCode::OK,
        };
        assert_eq!(status, want, "{path}");
    }
}

#[tokio::test]
async fn content_is_deterministic_and_gzip_round_trips() {
    let (_, h1, plain) = get("/news/2024/03/lighthouse-accord/comment-page-2/", false).await;
    let (_, _, again) = get("/news/2024/03/lighthouse-accord/comment-page-2/", false).await;
    assert_eq!(plain, again);
    assert!(h1.get(header::CONTENT_ENCODING).is_none());
    let (_, h2, gz) = get("/news/2024/03/lighthouse-accord/comment-page-2/", true).await;
    assert_eq!(h2[header::CONTENT_ENCODING], "gzip");
    let mut decoded = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut decoded).unwrap();
    assert_eq!(decoded, plain);
}

#[tokio::test]
async fn comment_markup_has_wordpress_shape() {
    let (_, _, body) = get("/news/2024/04/night-tram/", false).await;
    let doc = scraper::Html::parse_document(std::str::from_utf8(&body).unwrap());
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    let top = doc
        .select(&sel("div#comments > ol.commentlist > li.comment"))
        .count();
    assert_eq!(top, 3);
    let all = doc.select(&sel("li.comment")).count();
    assert_eq!(all, articles()[2].comment_count);
    assert!(doc.select(&sel("li#comment-303")).next().is_some());
    assert_eq!(
        doc.select(&sel("ol.children ol.children li.comment"))
            .count(),
        1
    );
    let cite = doc
        .select(&sel("#comment-301 .comment-author cite.fn"))
        .next()
        .unwrap();
    assert_eq!(cite.text().collect::<String>(), "Greta Haverly");
    assert!(
        doc.select(&sel("script[type='application/ld+json']"))
            .next()
            .is_some()
    );

    let (_, _, closed) = get("/news/2024/04/salt-road-talks/", false).await;
    assert!(
        String::from_utf8(closed)
            .unwrap()
            .contains("Comments are closed.")
    );
}

#[test]
fn articles_summary_is_consistent() {
    let arts = articles();
    assert_eq!(arts.len(), 6);
    let multi = arts.iter().filter(|a| a.comment_pages.len() > 1).count();
    assert_eq!(multi, 3);
    assert_eq!(arts.iter().filter(|a| !a.comments_open).count(), 1);
    for a in &arts {
        let ids: usize = a.comment_ids.iter().map(Vec::len).sum();
        assert_eq!(ids, a.comment_count, "{}", a.path);
        assert!((4..=8).contains(&a.paragraphs), "{}", a.path);
    }
    assert!(article_paths().contains(&REDIRECT_TARGET.to_owned()));
}
