//! End-to-end crawls of the loopback test site: what is captured, what is not, what the
//! manifest says, and whether warcio accepts the WARCs — for both fetchers.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use warcrow::crawl::{self, CrawlOptions};

async fn crawl_test_site(fetcher: &str) {
    let site = support::TestSite::start().await;
    let out = tempfile::tempdir().unwrap();
    let seed = site.url("/test-index/");
    let summary = crawl::run(
        support::test_config(fetcher),
        vec![seed.clone()],
        CrawlOptions {
            out_dir: out.path().to_path_buf(),
            crawl_id: "test-crawl".into(),
            progress: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(summary.exit_reason, "finished");

    let caps = support::captures(out.path());
    let fetched: BTreeSet<String> = caps
        .iter()
        .map(|c| {
            let u = url::Url::parse(c["url"].as_str().unwrap()).unwrap();
            match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_string(),
            }
        })
        .collect();
    // `?replytocom=` links are a trap the default rules reject (and count).
    let (traps, expected): (BTreeSet<String>, BTreeSet<String>) = site
        .expected_paths()
        .into_iter()
        .partition(|p| p.contains("replytocom="));
    assert_eq!(
        support::manifest(out.path())["counts"]["rejected"]["trap:reject_param"],
        traps.len() as u64
    );
    let missing: Vec<_> = expected.difference(&fetched).collect();
    let extra: Vec<_> = fetched.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
    // Each URL has one final line; only failures that may pass on a second try (5xx,
    // timeouts) have an earlier line, marked with when the retry was due.
    let finals: Vec<&Value> = caps.iter().filter(|c| c["retry_at"].is_null()).collect();
    assert_eq!(finals.len(), fetched.len(), "a URL was fetched twice");
    let retried: BTreeSet<&str> = caps
        .iter()
        .filter(|c| !c["retry_at"].is_null())
        .map(|c| c["url"].as_str().unwrap())
        .collect();
    let retried: Vec<String> = retried
        .iter()
        .map(|u| url::Url::parse(u).unwrap().path().to_string())
        .collect();
    assert_eq!(retried, ["/error500/", "/slow/"]);
    for c in &caps {
        if c["url"].as_str().unwrap().ends_with("/error500/") && c["retry_at"].is_null() {
            assert_eq!(c["attempt"], 2, "{c}");
        }
    }
    assert_eq!(site.offsite_hits(), 0, "an off-scope outlink was fetched");
    // robots.txt was fetched (and archived) first, and its Disallow was obeyed.
    assert_eq!(caps[0]["kind"], "robots", "{}", caps[0]);
    assert!(!fetched.contains("/private/"));

    // The manifest lists each failure with its reason.
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["exit_reason"], "finished");
    assert_eq!(manifest["crawl_id"], "test-crawl");
    assert!(
        manifest["counts"]["rejected"]["off_scope"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(
        manifest["counts"]["off_scope_hosts"]["localhost"]
            .as_u64()
            .unwrap()
            >= 1
    );
    let failure = |path: &str| -> Value {
        manifest["failures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["url"].as_str().unwrap().ends_with(path))
            .unwrap_or_else(|| panic!("no failure for {path} in {manifest:#}"))
            .clone()
    };
    assert_eq!(failure("/missing/")["status"], 404);
    assert_eq!(failure("/error500/")["status"], 500);
    assert_eq!(failure("/error500/")["error"]["kind"], "http");
    let slow = failure("/slow/");
    assert_eq!(slow["error"]["kind"], "timeout", "{slow}");
    assert!(slow["status"].is_null());
    for f in manifest["warc_files"].as_array().unwrap() {
        let bytes =
            std::fs::read(out.path().join("warc").join(f["name"].as_str().unwrap())).unwrap();
        assert_eq!(f["size"].as_u64().unwrap(), bytes.len() as u64);
    }

    // Each capture line has the fields scripts rely on.
    for c in &caps {
        for key in [
            "url",
            "status",
            "content_type",
            "fetched_at",
            "hops",
            "via",
            "kind",
            "warc_file",
            "warc_offset",
            "warc_length",
            "payload_digest",
            "bytes",
            "duration_ms",
        ] {
            assert!(c.get(key).is_some(), "{key} missing in {c}");
        }
    }
    let redirect = caps
        .iter()
        .find(|c| c["status"] == 301)
        .expect("a 301 capture");
    assert!(redirect["redirect_to"].is_string());

    // /dup/a/ and /dup/b/ share a payload: the later one is a revisit, checked by the script.
    let checked = support::check_warcs(out.path());
    assert_eq!(checked["revisits"], 1, "{checked}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wire_fetcher_crawl_captures_the_site() {
    crawl_test_site("wire").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqwest_fetcher_crawl_captures_the_site() {
    crawl_test_site("reqwest").await;
}
