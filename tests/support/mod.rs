//! The integration-test site, shared by every integration test (`mod support;`).
//!
//! [`TestSite`] serves all of `warcrow::demo`'s routes plus fault routes the demo must not
//! have, all linked from `/test-index/` so a crawl started there reaches everything:
//!
//! * `/slow/`: answers only after [`SLOW_DELAY`], longer than any test's fetch timeout;
//! * `/error500/`: a 500 with an HTML body;
//! * `/gzip-always/`: gzip-compressed whatever `Accept-Encoding` says (a misbehaving server);
//! * `/chunked/`: always `Transfer-Encoding: chunked`, in many small chunks;
//! * `/redirect/start/` → 307 → `/redirect/middle/` → 308 → `/redirect/end/` (200);
//! * `/dup/a/` and `/dup/b/`: byte-identical pages at two URLs (same payload digest), so a
//!   crawl writes the second as a revisit of the first;
//! * `/robots.txt` disallows `/private/`, which `/test-index/` links to: an obeying crawl
//!   never fetches it;
//! * `/offsite/`: links to a second loopback server addressed as `http://localhost:PORT2/`,
//!   a different host name and so out of scope; that server counts the requests it gets
//!   ([`TestSite::offsite_hits`]) so a test can assert a crawl never touched it.
//!
//! Both servers run on `warcrow::demo::server` and stop when the `TestSite` is dropped
//! (in-flight requests, `/slow/` included, are aborted).
#![allow(dead_code)] // Each test file uses a different subset of these helpers.

mod crawl;
pub mod faults;
pub mod replay;
mod warc_tools;
#[allow(unused_imports)] // Not every test binary crawls.
pub use crawl::{crawl_into, test_config, test_config_toml};
#[allow(unused_imports)] // Only tests/replay.rs replays.
pub use replay::{Pywb, check_replay, crawl_archives};
#[allow(unused_imports)] // Not every test binary checks WARCs.
pub use warc_tools::{check_job_run, check_warcs, test_python};

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;
use warcrow::demo::reply::{Coding, Reply, RequestInfo};
use warcrow::demo::server::{Server, handler};

/// How long `/slow/` waits before answering.
pub const SLOW_DELAY: Duration = Duration::from_secs(5);

/// The crawl seed of the test site.
pub const INDEX_PATH: &str = "/test-index/";

/// Paths the test site adds to the demo's, with the status each answers (`/slow/` answers
/// 200 only after [`SLOW_DELAY`]).
pub const TEST_ROUTES: &[(&str, u16)] = &[
    (INDEX_PATH, 200),
    ("/slow/", 200),
    ("/error500/", 500),
    ("/gzip-always/", 200),
    ("/chunked/", 200),
    ("/offsite/", 200),
    ("/redirect/start/", 307),
    ("/redirect/middle/", 308),
    ("/redirect/end/", 200),
    ("/dup/a/", 200),
    ("/dup/b/", 200),
    // Fetched first by a crawl that obeys robots.txt; it disallows /private/.
    ("/robots.txt", 200),
];

/// What `/test-index/` links to: the demo's front page and the fault routes (the later
/// redirect hops are reached through the chain).
pub const INDEX_LINKS: &[&str] = &[
    "/",
    "/slow/",
    "/error500/",
    "/gzip-always/",
    "/chunked/",
    "/offsite/",
    "/redirect/start/",
    "/dup/a/",
    "/dup/b/",
    // Linked, but disallowed by robots.txt: must never be fetched.
    "/private/",
];

pub struct TestSite {
    main: Option<Server>,
    offsite: Option<Server>,
    offsite_v6: Option<Server>,
    offsite_hits: Arc<AtomicUsize>,
    slow_hits: Arc<AtomicUsize>,
}

impl TestSite {
    /// Starts both servers on `127.0.0.1:0`.
    pub async fn start() -> TestSite {
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let hits = Arc::new(AtomicUsize::new(0));
        let offsite = Server::bind(loopback, offsite_handler(hits.clone()))
            .await
            .expect("bind off-site server");
        let offsite_port = offsite.addr().port();
        // `localhost` may resolve to ::1 first; listen there too (where IPv6 exists) so a
        // crawler that wrongly follows the link is counted whichever address it tries.
        let offsite_v6 = Server::bind(
            SocketAddr::from((Ipv6Addr::LOCALHOST, offsite_port)),
            offsite_handler(hits.clone()),
        )
        .await
        .ok();
        let slow_hits = Arc::new(AtomicUsize::new(0));
        let slow = slow_hits.clone();
        let main = Server::bind(
            loopback,
            handler(move |req| {
                let slow = slow.clone();
                async move { respond(req, offsite_port, slow).await }
            }),
        )
        .await
        .expect("bind test site");
        TestSite {
            main: Some(main),
            offsite: Some(offsite),
            offsite_v6,
            offsite_hits: hits,
            slow_hits,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.main.as_ref().map(Server::addr).expect("running")
    }

    /// `http://127.0.0.1:PORT{path}`
    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.addr())).expect("valid URL")
    }

    /// The crawl seed: `/test-index/`.
    pub fn index_url(&self) -> Url {
        self.url(INDEX_PATH)
    }

    /// The off-site server's root as the test site links to it: `http://localhost:PORT2/`.
    pub fn offsite_url(&self) -> Url {
        let port = self
            .offsite
            .as_ref()
            .map(|s| s.addr().port())
            .expect("running");
        Url::parse(&format!("http://localhost:{port}/")).expect("valid URL")
    }

    /// The off-site server's real address (127.0.0.1), to reach it without name lookup.
    pub fn offsite_addr(&self) -> SocketAddr {
        self.offsite.as_ref().map(Server::addr).expect("running")
    }

    /// Requests the off-site server has received so far.
    /// Requests `/slow/` got (counted as they arrive, before the delay).
    pub fn slow_hits(&self) -> usize {
        self.slow_hits.load(Ordering::SeqCst)
    }

    pub fn offsite_hits(&self) -> usize {
        self.offsite_hits.load(Ordering::SeqCst)
    }

    /// Every path (with query) a crawl from `/test-index/` requests: the demo's expected
    /// paths plus [`TEST_ROUTES`]. Sorted, no duplicates.
    pub fn expected_paths(&self) -> Vec<String> {
        let mut paths = warcrow::demo::expected_paths();
        paths.extend(TEST_ROUTES.iter().map(|(p, _)| (*p).to_owned()));
        paths.sort();
        paths.dedup();
        paths
    }

    /// The status `path` answers with, for any path in [`TestSite::expected_paths`].
    pub fn expected_status(path: &str) -> u16 {
        if let Some((_, status)) = TEST_ROUTES.iter().find(|(p, _)| *p == path) {
            return *status;
        }
        match path {
            "/old-news/" => 301,
            "/archive/" => 302,
            "/missing/" => 404,
            _ => 200,
        }
    }

    /// Stops both servers and waits until they are closed.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.main.take() {
            s.shutdown().await;
        }
        if let Some(s) = self.offsite.take() {
            s.shutdown().await;
        }
        if let Some(s) = self.offsite_v6.take() {
            s.shutdown().await;
        }
    }
}

async fn respond(
    req: http::Request<hyper::body::Incoming>,
    offsite_port: u16,
    slow_hits: Arc<AtomicUsize>,
) -> http::Response<warcrow::demo::server::Body> {
    let info = RequestInfo::of(&req);
    let html = |status: StatusCode, title: &str, body: &str| {
        Reply::html(
            status,
            format!(
                "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n{body}</body></html>\n"
            ),
        )
    };
    let reply = match info.path.as_str() {
        INDEX_PATH => {
            let links: String = INDEX_LINKS
                .iter()
                .map(|p| format!("<li><a href=\"{p}\">{p}</a></li>\n"))
                .collect();
            html(
                StatusCode::OK,
                "Test index",
                &format!("<ul>\n{links}</ul>\n"),
            )
        }
        "/slow/" => {
            slow_hits.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(SLOW_DELAY).await;
            html(StatusCode::OK, "Slow", "<p>Finally.</p>\n")
        }
        "/error500/" => html(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
            "<p>Something broke.</p>\n",
        ),
        "/gzip-always/" => {
            html(StatusCode::OK, "Always gzip", &filler("gzip")).coding(Coding::AlwaysGzip)
        }
        "/chunked/" => html(StatusCode::OK, "Chunked", &filler("chunk")).chunked(8),
        "/offsite/" => html(
            StatusCode::OK,
            "Off-site link",
            &format!("<p><a href=\"http://localhost:{offsite_port}/\">Another host</a></p>\n"),
        ),
        "/redirect/start/" => Reply::redirect(StatusCode::TEMPORARY_REDIRECT, "/redirect/middle/"),
        "/redirect/middle/" => Reply::redirect(StatusCode::PERMANENT_REDIRECT, "../end/"),
        "/redirect/end/" => html(StatusCode::OK, "Redirect end", "<p>Arrived.</p>\n"),
        // Nothing in the body depends on the path: the two URLs share one payload digest.
        // Long enough (> warc.revisit_min_bytes) to be deduplicated.
        "/robots.txt" => Reply::new(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "User-agent: *\nDisallow: /private/\n",
        )
        .coding(warcrow::demo::reply::Coding::Negotiated),
        "/private/" => html(StatusCode::OK, "Private", "<p>Not for crawlers.</p>\n"),
        "/dup/a/" | "/dup/b/" => html(
            StatusCode::OK,
            "Duplicate page",
            &(1..=60u64)
                .map(|i| {
                    format!(
                        "<p>Copy {i} of the same story lives at two addresses (ref {:x}).</p>\n",
                        i.wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    )
                })
                .collect::<String>(),
        ),
        _ => return warcrow::demo::respond(&req),
    };
    reply.into_response(&info)
}

/// The off-site server: counts every request, answers a tiny page.
fn offsite_handler(hits: Arc<AtomicUsize>) -> warcrow::demo::server::Handler {
    handler(move |req| {
        hits.fetch_add(1, Ordering::SeqCst);
        async move {
            let info = RequestInfo::of(&req);
            let body = "<!DOCTYPE html><title>Elsewhere</title><p>Off-site page.</p>\n";
            Reply::html(StatusCode::OK, body.to_owned()).into_response(&info)
        }
    })
}

/// Some paragraphs so compression and chunking have something to work on.
fn filler(word: &str) -> String {
    (1..=20)
        .map(|i| format!("<p>Paragraph {i}: {word} {word} {word}, the quick brown fox.</p>\n"))
        .collect()
}

/// A raw HTTP/1.1 exchange over a fresh connection (`Connection: close`): returns the
/// response head as text and the body bytes exactly as sent (chunk framing included).
pub async fn raw_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("complete head")
        + 4;
    let body = raw.split_off(split);
    (String::from_utf8(raw).expect("ASCII head"), body)
}

/// The lines of a JSON-lines file (captures.jsonl, extracted.jsonl).
pub fn read_jsonl(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// A crawl folder's captures.jsonl.
pub fn captures(crawl_dir: &std::path::Path) -> Vec<serde_json::Value> {
    read_jsonl(&crawl_dir.join("captures.jsonl"))
}

/// A crawl folder's manifest.json.
pub fn manifest(crawl_dir: &std::path::Path) -> serde_json::Value {
    let path = crawl_dir.join("manifest.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("manifest.json"))
        .expect("manifest.json is JSON")
}

/// A header's value from a raw head (case-insensitive name), if present.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Decodes a chunked body.
pub fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_text = std::str::from_utf8(&body[..line_end]).expect("ASCII size");
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .expect("hex size");
        body = &body[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}
