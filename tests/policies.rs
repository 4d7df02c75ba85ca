//! Crawl policies end to end, each against a small loopback site made for it: the private
//! address guard, sitemaps from robots.txt, crawl limits, traps, and robots.txt Crawl-delay.

mod support;

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::StatusCode;
use serde_json::Value;
use url::Url;
use warcrow::config::{Config, RawConfig};
use warcrow::crawl::{self, CrawlOptions, CrawlSummary};
use warcrow::demo::reply::{Reply, RequestInfo};
use warcrow::demo::server::{Server, handler};

fn config(extra: &str) -> Config {
    let text = format!(
        r#"
        [politeness]
        requests_per_second = 0.0
        max_connections_per_host = 2
        contact_url = "https://example.invalid/test"
        [fetch]
        timeout_secs = 2.0
        [retry]
        max_attempts = 1
        {extra}
        "#
    );
    RawConfig::parse(&text, "t").unwrap().validate("t").unwrap()
}

async fn crawl(config: Config, seed: Url, out: &Path) -> CrawlSummary {
    crawl::run(
        config,
        vec![seed],
        CrawlOptions {
            out_dir: out.to_path_buf(),
            crawl_id: "policies".into(),
            progress: false,
        },
    )
    .await
    .unwrap()
}

/// `--resume` of the crawl in `out` with its limits lifted (a config given to the resume).
async fn unlimited_resume(out: &Path) -> CrawlSummary {
    crawl::resume(
        Some(config("[crawl]\nmax_pages = 0\n")),
        CrawlOptions {
            out_dir: out.to_path_buf(),
            crawl_id: String::new(),
            progress: false,
        },
    )
    .await
    .unwrap()
}

fn paths(caps: &[Value]) -> BTreeSet<String> {
    caps.iter()
        .map(|c| {
            let u = Url::parse(c["url"].as_str().unwrap()).unwrap();
            match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_string(),
            }
        })
        .collect()
}

/// A site answering `page(path)` (None: 404), counting requests.
async fn site(
    ip: Ipv4Addr,
    page: impl Fn(&str) -> Option<(&'static str, String)> + Send + Sync + 'static,
) -> (Server, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let page = Arc::new(page);
    let server = Server::bind(
        SocketAddr::from((ip, 0)),
        handler(move |req| {
            counter.fetch_add(1, Ordering::SeqCst);
            let page = page.clone();
            async move {
                let info = RequestInfo::of(&req);
                let reply = match page(&info.path) {
                    Some((ct, body)) => Reply::new(StatusCode::OK, ct, body),
                    None => Reply::html(StatusCode::NOT_FOUND, "<p>No.</p>".into()),
                };
                reply.into_response(&info)
            }
        }),
    )
    .await
    .unwrap();
    (server, hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_page_cannot_make_the_crawler_probe_another_private_address() {
    // 127.0.0.2 is loopback too (Linux routes 127/8 there) but no seed is on it.
    let (inner, inner_hits) = site(Ipv4Addr::new(127, 0, 0, 2), |_| {
        Some(("text/html", "<p>internal admin</p>".into()))
    })
    .await;
    let inner_url = format!("http://{}/admin/", inner.addr());
    let link = inner_url.clone();
    let (outer, _) = site(Ipv4Addr::LOCALHOST, move |p| {
        (p == "/").then(|| ("text/html", format!("<a href=\"{link}\">admin</a>")))
    })
    .await;
    let seed = Url::parse(&format!("http://{}/", outer.addr())).unwrap();
    let scope = "[scope]\ninclude_hosts = [\"127.0.0.2\"]\n";
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("guarded");
    crawl(config(scope), seed.clone(), &out).await;
    assert_eq!(
        inner_hits.load(Ordering::SeqCst),
        0,
        "the private address was probed"
    );
    // Its robots.txt comes first, and is refused: the host's URLs are then not fetched.
    let inner_origin = format!("http://{}/", inner.addr());
    let tried: Vec<Value> = support::captures(&out)
        .into_iter()
        .filter(|c| c["url"].as_str().unwrap().starts_with(&inner_origin))
        .collect();
    assert!(!tried.is_empty(), "nothing of the private host is listed");
    for c in &tried {
        assert_eq!(c["error"]["kind"], "blocked_address", "{c}");
    }
    // Allowed in config: fetched.
    let out = dir.path().join("allowed");
    let mut allow = config(scope);
    allow.raw.fetch.allow_private_addresses = true;
    crawl(allow, seed, &out).await;
    assert!(inner_hits.load(Ordering::SeqCst) >= 1);
    assert!(paths(&support::captures(&out)).contains("/admin/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sitemaps_named_by_robots_txt_add_seeds() {
    let (server, _) = site(Ipv4Addr::LOCALHOST, |p| match p {
        "/robots.txt" => Some(("text/plain", "User-agent: *\nAllow: /\nSitemap: /sitemap-index.xml\n".into())),
        "/sitemap-index.xml" => Some((
            "application/xml",
            "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
             <sitemap><loc>/sitemap-news.xml</loc></sitemap></sitemapindex>"
                .into(),
        )),
        "/sitemap-news.xml" => Some((
            "application/xml",
            "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
             <url><loc>/hidden/story/</loc></url><url><loc>http://elsewhere.invalid/x</loc></url></urlset>"
                .into(),
        )),
        "/" => Some(("text/html", "<p>Front page with no links.</p>".into())),
        "/hidden/story/" => Some(("text/html", "<p>Only the sitemap knows me.</p>".into())),
        _ => None,
    })
    .await;
    let seed = Url::parse(&format!("http://{}/", server.addr())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let off = dir.path().join("off");
    crawl(config(""), seed.clone(), &off).await;
    assert!(
        !paths(&support::captures(&off)).contains("/hidden/story/"),
        "sitemaps are off by default"
    );
    let on = dir.path().join("on");
    crawl(config("[crawl]\nsitemaps = true\n"), seed, &on).await;
    let caps = support::captures(&on);
    let got = paths(&caps);
    for p in [
        "/robots.txt",
        "/sitemap-index.xml",
        "/sitemap-news.xml",
        "/hidden/story/",
    ] {
        assert!(got.contains(p), "{p} not captured: {got:?}");
    }
    let kinds: BTreeSet<&str> = caps.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains("sitemap"), "{kinds:?}");
    // The off-scope URL of the sitemap is counted, not fetched.
    assert!(!got.contains("/x"));
    assert_eq!(support::manifest(&on)["counts"]["rejected"]["off_scope"], 1);
}

/// A site of 40 pages, each linking to all others.
fn mesh(p: &str) -> Option<(&'static str, String)> {
    let links: String = (0..40)
        .map(|i| format!("<a href=\"/p/{i}/\">{i}</a>\n"))
        .collect();
    match p {
        "/" => Some(("text/html", links)),
        p if p.starts_with("/p/") => {
            Some(("text/html", format!("<p>{}</p>{links}", "x".repeat(500))))
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_end_the_crawl_cleanly_and_say_which() {
    let (server, _) = site(Ipv4Addr::LOCALHOST, mesh).await;
    let seed = Url::parse(&format!("http://{}/", server.addr())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (extra, reason) in [
        ("[crawl]\nmax_pages = 10\n", "limit_reached:max_pages"),
        ("[crawl]\nmax_bytes = 5000\n", "limit_reached:max_bytes"),
    ] {
        let out = dir.path().join(reason.replace(':', "_"));
        let summary = crawl(config(extra), seed.clone(), &out).await;
        assert_eq!(summary.exit_reason, reason);
        assert_eq!(support::manifest(&out)["exit_reason"], reason);
        let n = support::captures(&out).len();
        assert!(n < 42, "{reason}: {n} captures");
        if reason.ends_with("max_pages") {
            assert_eq!(n, 10);
        }
        support::check_warcs(&out);
        // A limited crawl can be continued with a higher limit: `--resume` with a config.
        let summary = unlimited_resume(&out).await;
        assert_eq!(summary.exit_reason, "finished");
        assert_eq!(
            support::captures(&out).len(),
            42,
            "robots.txt, the front page, 40 pages"
        );
        support::check_warcs(&out);
    }
    // Per host and URL length: counted as rejected, the crawl finishes.
    let out = dir.path().join("per_host");
    let summary = crawl(
        config("[crawl]\nmax_per_host = 12\nmax_url_length = 30\n"),
        seed,
        &out,
    )
    .await;
    assert_eq!(summary.exit_reason, "finished");
    let m = support::manifest(&out);
    assert_eq!(support::captures(&out).len(), 12);
    assert!(
        m["counts"]["rejected"]["max_per_host"].as_u64().unwrap() > 0,
        "{m:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traps_are_not_followed_and_are_counted() {
    let (server, hits) = site(Ipv4Addr::LOCALHOST, |p| {
        let html = match p {
            "/" => "<a href=\"/cal/?month=2026-11\">calendar</a>\
                    <a href=\"/a/b/\">relative trap</a>\
                    <a href=\"/story/?replytocom=5\">reply</a>\
                    <a href=\"/list/?sort=date&amp;page=2\">list</a>\
                    <a href=\"/list/?page=2&amp;sort=title\">list again</a>\
                    <a href=\"/s/?jsessionid=1\">session</a><a href=\"/s/?jsessionid=2\">session</a>"
                .to_string(),
            // A calendar that links one month further, forever.
            "/cal/" => "<a href=\"/cal/?month=2031-01\">far future</a>".to_string(),
            // Every page links one level deeper to itself: /a/b/a/b/...
            p if p.starts_with("/a/") => "<a href=\"a/b/\">deeper</a>".to_string(),
            _ => "<p>page</p>".to_string(),
        };
        Some(("text/html", html))
    })
    .await;
    let seed = Url::parse(&format!("http://{}/", server.addr())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("traps");
    let summary = crawl(config("[crawl]\nmax_hops = 50\n"), seed, &out).await;
    assert_eq!(summary.exit_reason, "finished");
    let rejected = support::manifest(&out)["counts"]["rejected"].clone();
    for (reason, n) in [
        ("trap:calendar", 1),
        ("trap:reject_param", 1),
        ("trap:permutation", 1),
        ("trap:session_id", 1),
        ("trap:repeated_segments", 1),
    ] {
        assert_eq!(rejected[reason], n, "{reason} in {rejected:#}");
    }
    // robots.txt, /, the calendar month, /a/b/, /a/b/a/b/, one list page, one session page.
    assert_eq!(
        hits.load(Ordering::SeqCst),
        7,
        "{:?}",
        paths(&support::captures(&out))
    );
}

/// A front page linking to 60 pages with one body (above `warc.revisit_min_bytes`).
fn copies(p: &str) -> Option<(&'static str, String)> {
    match p {
        "/" => Some((
            "text/html",
            (0..60)
                .map(|i| format!("<a href=\"/copy/{i}/\">{i}</a>\n"))
                .collect(),
        )),
        p if p.starts_with("/copy/") => Some(("text/html", format!("<p>{}</p>", "y".repeat(800)))),
        _ => None,
    }
}

/// (response records, revisit records) among the captures of /copy/ pages; every revisit
/// must point at the URL of the one response.
fn copy_records(out: &Path) -> (usize, usize) {
    let caps = support::captures(out);
    let copies: Vec<&Value> = caps
        .iter()
        .filter(|c| c["url"].as_str().unwrap().contains("/copy/"))
        .collect();
    let originals: Vec<&&Value> = copies
        .iter()
        .filter(|c| c["record_type"] == "response")
        .collect();
    for c in copies.iter().filter(|c| c["record_type"] == "revisit") {
        assert_eq!(c["revisit_of"], originals[0]["url"], "{c:#}");
    }
    (originals.len(), copies.len() - originals.len())
}

/// Originals leave memory once committed (to frontier.db): revisits found after a commit,
/// and after a resume, still point at them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revisits_find_originals_committed_earlier_and_before_a_resume() {
    let (server, _) = site(Ipv4Addr::LOCALHOST, copies).await;
    let seed = Url::parse(&format!("http://{}/", server.addr())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // One run: 60 copies span more than one commit (every 32 outcomes).
    let out = dir.path().join("one");
    let summary = crawl(config(""), seed.clone(), &out).await;
    assert_eq!(summary.exit_reason, "finished");
    assert_eq!(copy_records(&out), (1, 59));
    support::check_warcs(&out);
    // The database is whole when the crawl ends: no write-ahead log left beside it (the
    // originals' reader closes last and must not keep it).
    assert!(out.join("frontier.db").exists());
    assert!(!out.join("frontier.db-wal").exists());
    // Stopped after the first copy, then resumed: the original is only on disk.
    let out = dir.path().join("resumed");
    let summary = crawl(config("[crawl]\nmax_pages = 3\n"), seed, &out).await;
    assert_eq!(summary.exit_reason, "limit_reached:max_pages");
    assert_eq!(copy_records(&out), (1, 0));
    let summary = unlimited_resume(&out).await;
    assert_eq!(summary.exit_reason, "finished");
    assert_eq!(copy_records(&out), (1, 59));
    support::check_warcs(&out);
}
