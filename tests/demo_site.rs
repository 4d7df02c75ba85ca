//! Tests of the demo site and the integration-test site themselves, over real sockets.

mod support;

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use support::{TestSite, dechunk, header, raw_request};
use warcrow::demo::{self, DemoSite};

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn get(client: &HttpClient, url: &str, gzip: bool) -> (u16, http::HeaderMap, Bytes) {
    let mut req = http::Request::get(url);
    if gzip {
        req = req.header("accept-encoding", "gzip");
    }
    let resp = client
        .request(req.body(Empty::new()).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body)
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(data), &mut out).unwrap();
    out
}

#[tokio::test]
async fn every_expected_path_answers_with_its_status() {
    let site = TestSite::start().await;
    let client = client();
    let paths = site.expected_paths();
    assert!(paths.len() > 100, "only {} paths", paths.len());
    for path in paths.iter().filter(|p| *p != "/slow/") {
        let (status, headers, _) = get(&client, site.url(path).as_str(), false).await;
        assert_eq!(status, TestSite::expected_status(path), "{path}");
        assert!(headers.contains_key("date"), "{path}: no Date");
        assert!(headers.contains_key("server"), "{path}: no Server");
        assert!(
            headers.contains_key("content-type"),
            "{path}: no Content-Type"
        );
    }
    site.shutdown().await;
}

#[tokio::test]
async fn demo_site_serves_its_own_expected_paths() {
    let site = DemoSite::start().await.unwrap();
    assert_eq!(site.url().as_str(), format!("http://{}/", site.addr()));
    let client = client();
    for path in demo::expected_paths() {
        let (status, _, _) = get(&client, site.url().join(&path).unwrap().as_str(), false).await;
        assert_eq!(status, TestSite::expected_status(&path), "{path}");
    }
    // Fault routes belong to the test site only.
    for path in ["/slow/", "/error500/", "/test-index/", "/offsite/"] {
        let (status, _, _) = get(&client, site.url().join(path).unwrap().as_str(), false).await;
        assert_eq!(status, 404, "{path}");
    }
    site.shutdown().await;
}

#[tokio::test]
async fn html_content_type_and_gzip_only_when_asked() {
    let site = TestSite::start().await;
    let client = client();
    for path in ["/", "/static/css/site.css", "/news/2024/04/night-tram/"] {
        let url = site.url(path);
        let (_, plain_h, plain) = get(&client, url.as_str(), false).await;
        assert!(plain_h.get("content-encoding").is_none(), "{path}");
        assert_eq!(plain_h["vary"], "Accept-Encoding", "{path}");
        let (_, gz_h, gz) = get(&client, url.as_str(), true).await;
        assert_eq!(gz_h["content-encoding"], "gzip", "{path}");
        assert_eq!(gz_h["vary"], "Accept-Encoding", "{path}");
        assert_eq!(gunzip(&gz), plain.to_vec(), "{path}");
    }
    let (_, h, _) = get(&client, site.url("/").as_str(), false).await;
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    // Images are never compressed.
    let (_, h, body) = get(&client, site.url("/static/img/logo.png").as_str(), true).await;
    assert!(h.get("content-encoding").is_none());
    assert_eq!(h["content-type"], "image/png");
    assert!(body.starts_with(b"\x89PNG"));
    let (_, h, _) = get(
        &client,
        site.url("/static/fonts/lantern-serif.woff2").as_str(),
        true,
    )
    .await;
    assert_eq!(h["content-type"], "font/woff2");
    // The test site's misbehaving route compresses regardless.
    let (_, h, body) = get(&client, site.url("/gzip-always/").as_str(), false).await;
    assert_eq!(h["content-encoding"], "gzip");
    assert!(
        String::from_utf8(gunzip(&body))
            .unwrap()
            .contains("Always gzip")
    );
}

#[tokio::test]
async fn articles_are_chunked_and_other_pages_have_a_length() {
    let site = TestSite::start().await;
    let addr = site.addr();
    for path in ["/news/2024/03/glassfrog-rebound/", "/chunked/"] {
        let (head, body) = raw_request(addr, "GET", path, &[]).await;
        assert_eq!(
            header(&head, "transfer-encoding"),
            Some("chunked"),
            "{path}"
        );
        assert_eq!(header(&head, "content-length"), None, "{path}");
        let html = String::from_utf8(dechunk(&body)).unwrap();
        assert!(html.ends_with("</html>\n"), "{path}");
    }
    // Chunked and gzip together: chunks carry the compressed stream.
    let (head, body) = raw_request(
        addr,
        "GET",
        "/news/2024/03/glassfrog-rebound/",
        &[("Accept-Encoding", "gzip")],
    )
    .await;
    assert_eq!(header(&head, "transfer-encoding"), Some("chunked"));
    assert!(
        String::from_utf8(gunzip(&dechunk(&body)))
            .unwrap()
            .contains("glassfrog")
    );

    let (head, body) = raw_request(addr, "GET", "/", &[]).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
    assert_eq!(
        header(&head, "content-length"),
        Some(body.len().to_string().as_str())
    );
    // HEAD: same headers, no body.
    let (head, body) = raw_request(addr, "HEAD", "/", &[]).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
    assert!(header(&head, "content-length").is_some());
    assert!(body.is_empty());
}

#[tokio::test]
async fn redirect_chains_have_the_right_locations() {
    let site = TestSite::start().await;
    let addr = site.addr();
    let hops = [
        ("/old-news/", "301", format!("http://{addr}/archive/")),
        ("/archive/", "302", demo::REDIRECT_TARGET.to_owned()),
        ("/redirect/start/", "307", "/redirect/middle/".to_owned()),
        ("/redirect/middle/", "308", "../end/".to_owned()),
    ];
    for (path, status, location) in hops {
        let (head, _) = raw_request(addr, "GET", path, &[]).await;
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status} ")),
            "{path}: {head}"
        );
        assert_eq!(header(&head, "location"), Some(location.as_str()), "{path}");
    }
    let (head, _) = raw_request(addr, "GET", demo::REDIRECT_TARGET, &[]).await;
    assert!(head.starts_with("HTTP/1.1 200 "));
    let (head, _) = raw_request(addr, "GET", "/missing/", &[]).await;
    assert!(head.starts_with("HTTP/1.1 404 "));
    let (head, _) = raw_request(addr, "POST", "/", &[("Content-Length", "0")]).await;
    assert!(head.starts_with("HTTP/1.1 405 "));
}

#[tokio::test]
async fn stylesheets_hold_import_and_urls() {
    let site = TestSite::start().await;
    let client = client();
    let (_, h, css) = get(&client, site.url("/static/css/site.css").as_str(), false).await;
    assert_eq!(h["content-type"], "text/css; charset=utf-8");
    let css = String::from_utf8(css.to_vec()).unwrap();
    assert!(css.contains("@import url(\"/static/css/fonts.css\")"));
    assert!(css.contains("url(\"/static/img/masthead-bg.jpg\")"));
    assert!(css.contains("url(../img/rule.gif)"));
    let (_, _, fonts) = get(&client, site.url("/static/css/fonts.css").as_str(), false).await;
    let fonts = String::from_utf8(fonts.to_vec()).unwrap();
    assert_eq!(fonts.matches("@font-face").count(), 2);
    assert!(fonts.contains("url(\"/static/fonts/lantern-serif.woff2\")"));
    assert!(fonts.contains("url(../fonts/lantern-sans.woff2)"));
}

#[tokio::test]
async fn static_files_have_validators_and_answer_304() {
    let site = TestSite::start().await;
    let addr = site.addr();
    let (head, _) = raw_request(addr, "GET", "/static/js/site.js", &[]).await;
    let etag = header(&head, "etag").unwrap().to_owned();
    assert!(header(&head, "last-modified").is_some());
    let (head, body) = raw_request(
        addr,
        "GET",
        "/static/js/site.js",
        &[("If-None-Match", &etag)],
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 304 "), "{head}");
    assert!(body.is_empty());
}

#[tokio::test]
async fn offsite_server_counts_requests_and_is_linked_by_name() {
    let site = TestSite::start().await;
    let client = client();
    assert_eq!(site.offsite_hits(), 0);
    let (_, _, page) = get(&client, site.url("/offsite/").as_str(), false).await;
    let page = String::from_utf8(page.to_vec()).unwrap();
    assert!(page.contains(&format!("href=\"{}\"", site.offsite_url())));
    assert_eq!(site.offsite_url().host_str(), Some("localhost"));
    assert_eq!(site.offsite_hits(), 0);
    let (head, _) = raw_request(site.offsite_addr(), "GET", "/", &[]).await;
    assert!(head.starts_with("HTTP/1.1 200 "));
    assert_eq!(site.offsite_hits(), 1);
    // By name, as a crawler would reach it (whichever address `localhost` resolves to).
    let (status, _, _) = get(&client, site.offsite_url().as_str(), false).await;
    assert_eq!(status, 200);
    assert_eq!(site.offsite_hits(), 2);
    let (_, _, index) = get(&client, site.index_url().as_str(), false).await;
    let index = String::from_utf8(index.to_vec()).unwrap();
    for path in support::INDEX_LINKS {
        assert!(index.contains(&format!("href=\"{path}\"")), "{path}");
    }
}

#[tokio::test]
async fn slow_route_outlasts_a_timeout_and_dies_with_the_site() {
    let site = TestSite::start().await;
    let url = site.url("/slow/");
    let slow = tokio::spawn(async move {
        let req = http::Request::get(url.as_str()).body(Empty::new()).unwrap();
        match client().request(req).await {
            Ok(resp) => resp.into_body().collect().await.is_ok(),
            Err(_) => false,
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!slow.is_finished(), "/slow/ answered early");
    let started = std::time::Instant::now();
    drop(site);
    // The connection is aborted, so the client sees an error well before SLOW_DELAY.
    let completed = tokio::time::timeout(Duration::from_secs(3), slow)
        .await
        .expect("request ended")
        .unwrap();
    assert!(!completed, "request should fail, not complete");
    assert!(started.elapsed() < support::SLOW_DELAY);
}

async fn refuses_connections(addr: std::net::SocketAddr) -> bool {
    // Dropping aborts the server task asynchronously; give the runtime a moment.
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn demo_site_stops_on_shutdown_and_on_drop() {
    let site = DemoSite::start().await.unwrap();
    let addr = site.addr();
    let (head, _) = raw_request(addr, "GET", "/", &[]).await;
    assert!(head.starts_with("HTTP/1.1 200 "));
    site.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );

    let site = DemoSite::start().await.unwrap();
    let addr = site.addr();
    drop(site);
    assert!(
        refuses_connections(addr).await,
        "still accepting after drop"
    );

    let site = TestSite::start().await;
    let (main, offsite) = (site.addr(), site.offsite_addr());
    drop(site);
    assert!(refuses_connections(main).await);
    assert!(refuses_connections(offsite).await);
}
