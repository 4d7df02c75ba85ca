//! A crawl of a server that misbehaves in every way `tests/support/faults.rs` knows must finish,
//! in bounded time, with every fault accounted for in captures.jsonl and WARCs that warcio
//! accepts.
//!
//! What retries do (429/503 retried, Retry-After honoured, a storm given up after
//! `retry.max_attempts`, lasting faults not retried) is asserted separately.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::faults::{FaultServer, NXDOMAIN_URL, ROUTES};
use warcrow::config::{Config, RawConfig};
use warcrow::crawl::{self, CrawlOptions, CrawlSummary};

/// The fetch timeout of these crawls: `/endless/` is cut here, `/drip/` ends just inside it.
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);

/// A crawl that takes longer has hung: fail rather than block the suite.
const CRAWL_LIMIT: Duration = Duration::from_secs(120);

/// Retry settings small enough for a quick test.
const MAX_ATTEMPTS: usize = 3;

fn fault_config(fetcher: &str) -> Config {
    let text = format!(
        r#"
        [crawl]
        max_hops = 3
        [scope]
        # The index links here, to see a DNS failure recorded.
        include_hosts = ["does-not-resolve.invalid"]
        [politeness]
        requests_per_second = 0.0
        max_connections_per_host = 4
        max_connections = 8
        contact_url = "https://example.invalid/test"
        # Without a robots.txt the unresolvable host's page would be refused, not fetched.
        robots = "ignore"
        [fetch]
        fetcher = "{fetcher}"
        timeout_secs = {timeout}
        connect_timeout_secs = 2.0
        [warc]
        prefix = "faults"
        [retry]
        max_attempts = {MAX_ATTEMPTS}
        base_delay_secs = 0.2
        max_delay_secs = 1.0
        max_retry_after_secs = 5.0
        # Every route fails on one host: giving the host up would hide the other faults.
        host_give_up_after = 1000
        "#,
        timeout = FETCH_TIMEOUT.as_secs_f64(),
    );
    RawConfig::parse(&text, "faults")
        .expect("config parses")
        .validate("faults")
        .expect("config is valid")
}

/// Crawls the fault server from its index into `out`; panics if the crawl hangs.
async fn crawl_faults(server: &FaultServer, fetcher: &str, out: &Path) -> CrawlSummary {
    let run = crawl::run(
        fault_config(fetcher),
        vec![server.index_url()],
        CrawlOptions {
            out_dir: out.to_path_buf(),
            crawl_id: format!("faults-{fetcher}"),
            progress: false,
        },
    );
    tokio::time::timeout(CRAWL_LIMIT, run)
        .await
        .unwrap_or_else(|_| panic!("the {fetcher} crawl hung (no end after {CRAWL_LIMIT:?})"))
        .expect("the crawl itself does not fail")
}

/// The captures.jsonl lines of `url` (several, once URLs are retried).
fn lines_for<'a>(captures: &'a [Value], url: &str) -> Vec<&'a Value> {
    captures.iter().filter(|c| c["url"] == url).collect()
}

/// The last line of `url`: its final outcome.
fn outcome<'a>(captures: &'a [Value], url: &str) -> &'a Value {
    lines_for(captures, url)
        .pop()
        .unwrap_or_else(|| panic!("{url} is not in captures.jsonl"))
}

async fn crawl_survives_every_fault(fetcher: &str) {
    let server = FaultServer::start(FETCH_TIMEOUT).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("crawl");
    // Finishing at all is the gzip bomb's test: the crawl runs in this process, so inflating
    // a gibibyte would have shown as an abort or an out-of-memory kill.
    let summary = crawl_faults(&server, fetcher, &out).await;
    assert_eq!(summary.exit_reason, "finished");
    assert_eq!(support::manifest(&out)["exit_reason"], "finished");

    let captures = support::captures(&out);
    let mut urls: Vec<String> = ROUTES.iter().map(|r| server.url(r).to_string()).collect();
    urls.push(server.url("/loop/b/").to_string());
    urls.push(NXDOMAIN_URL.to_string());
    for url in &urls {
        let line = outcome(&captures, url);
        assert!(
            line["status"].is_u64() || line["error"].is_object(),
            "{fetcher}: {url} has neither a status nor an error: {line}"
        );
    }
    assert_eq!(outcome(&captures, NXDOMAIN_URL)["error"]["kind"], "dns");

    // Redirects to ftp: and mailto: lead nowhere: no line, no record, no index entry.
    for c in &captures {
        let url = c["url"].as_str().unwrap_or("");
        assert!(url.starts_with("http"), "{fetcher}: captured {url}");
    }
    let index = std::fs::read_to_string(out.join("index.cdxj")).expect("index.cdxj");
    assert!(
        !index.contains("ftp:") && !index.contains("mailto:"),
        "{index}"
    );
    for route in ["/to-ftp/", "/to-mailto/"] {
        let line = outcome(&captures, server.url(route).as_str());
        assert_eq!(line["status"], 302, "{fetcher} {route}");
        assert!(line["redirect_to"].is_null(), "{fetcher} {route}: {line}");
    }

    // The bomb is archived as sent (compressed), not inflated.
    let bomb = outcome(&captures, server.url("/gzip-bomb/").as_str());
    assert_eq!(bomb["status"], 200, "{bomb}");
    assert!(
        bomb["bytes"].as_u64().unwrap_or(u64::MAX) < 2 << 20,
        "{bomb}"
    );

    // Cut bodies are archived as far as they came, marked with why they were cut.
    for (route, cut) in [
        ("/reset/", "disconnect"),
        ("/short/", "disconnect"),
        ("/endless/", "time"),
    ] {
        let line = outcome(&captures, server.url(route).as_str());
        assert_eq!(line["status"], 200, "{fetcher} {route}: {line}");
        assert_eq!(line["truncated"], cut, "{fetcher} {route}: {line}");
    }
    // A slow body that ends inside the timeout is whole.
    let drip = outcome(&captures, server.url("/drip/").as_str());
    assert!(drip["truncated"].is_null(), "{fetcher}: {drip}");
    assert_eq!(drip["bytes"], server.drip_len() as u64, "{fetcher}: {drip}");
    // A body that is not the gzip it claims is archived, with the decoding failure noted.
    let bad_gzip = outcome(&captures, server.url("/bad-gzip/").as_str());
    assert_eq!(bad_gzip["status"], 200, "{bad_gzip}");
    assert_eq!(bad_gzip["error"]["kind"], "extract", "{bad_gzip}");

    // The loop is fetched once each way, and ends.
    assert_eq!(server.hits("/loop/a/"), 1);
    assert_eq!(server.hits("/loop/b/"), 1);

    support::check_warcs(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wire_crawl_survives_every_fault() {
    crawl_survives_every_fault("wire").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reqwest_crawl_survives_every_fault() {
    crawl_survives_every_fault("reqwest").await;
}

/// What retries do with the same server.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retries_follow_the_servers_hints() {
    let server = FaultServer::start(FETCH_TIMEOUT).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("crawl");
    let summary = crawl_faults(&server, "wire", &out).await;
    assert_eq!(summary.exit_reason, "finished");
    let captures = support::captures(&out);

    // a 429 is retried once its Retry-After (2 s) has passed, and then succeeds.
    for path in ["/rate/", "/rate-date/"] {
        assert_eq!(server.hits(path), 2, "{path}");
        let times = server.hit_times(path);
        // Retry-After honoured (the HTTP date is whole seconds: at least ~1 s of it).
        let min_wait = if path == "/rate/" { 2.0 } else { 1.0 };
        let waited = times[1].duration_since(times[0]).as_secs_f64();
        assert!(
            waited >= min_wait - 0.05,
            "{path}: retried after {waited:.2} s"
        );
        assert_eq!(outcome(&captures, server.url(path).as_str())["status"], 200);
    }
    // 503, 503, 200: two retries.
    assert_eq!(server.hits("/flaky/"), 3);
    assert_eq!(
        outcome(&captures, server.url("/flaky/").as_str())["status"],
        200
    );
    // always 503: given up after max_attempts, and listed as a failure.
    assert_eq!(server.hits("/storm/"), MAX_ATTEMPTS);
    // its `Retry-After: 1` is honoured between tries.
    for pair in server.hit_times("/storm/").windows(2) {
        let waited = pair[1].duration_since(pair[0]).as_secs_f64();
        assert!(waited >= 0.95, "/storm/ retried after {waited:.2} s");
    }
    let storm = server.url("/storm/").to_string();
    assert_eq!(outcome(&captures, &storm)["status"], 503);
    let failures = support::manifest(&out)["failures"].clone();
    let listed = failures
        .as_array()
        .is_some_and(|f| f.iter().any(|x| x["url"] == storm.as_str()));
    assert!(listed, "{storm} not in the manifest's failures: {failures}");
    // faults that are not transient are not retried.
    for path in ["/bad-gzip/", "/to-ftp/", "/loop/a/"] {
        assert_eq!(server.hits(path), 1, "{path}");
    }
}
