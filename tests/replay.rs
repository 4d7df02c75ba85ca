//! What warcrow captures replays in pywb: a crawl of the loopback test site is loaded into a
//! pywb collection and every page, redirect, image, stylesheet and revisit is asked for there
//! (tests/tools/replay_check.py does the asking and compares with the WARC records).

mod support;

use std::time::Instant;

use serde_json::Value;

fn count(summary: &Value, part: &str, key: &str) -> u64 {
    summary[part][key]
        .as_u64()
        .unwrap_or_else(|| panic!("{part}.{key} missing in {summary}"))
}

fn problems(summary: &Value, part: &str) -> Vec<String> {
    summary["problems"][part]
        .as_array()
        .unwrap_or_else(|| panic!("problems.{part} missing in {summary}"))
        .iter()
        .map(|p| p.as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_of_the_test_site_replays_in_pywb() {
    let t0 = Instant::now();
    let site = support::TestSite::start().await;
    let out = tempfile::tempdir().unwrap();
    support::crawl_into(site.index_url(), out.path(), "replay-test").await;
    let dup_urls = [
        site.url("/dup/a/").to_string(),
        site.url("/dup/b/").to_string(),
    ];
    let article_urls: Vec<(String, &str)> = warcrow::demo::articles()
        .iter()
        .flat_map(|a| {
            a.comment_pages
                .iter()
                .map(|p| (site.url(p).to_string(), a.title))
                .collect::<Vec<_>>()
        })
        .collect();
    // Gone before replay starts: whatever replays comes from the archive.
    site.shutdown().await;
    // Replay the WACZ package (WARCs + our index), as a user loading it would.
    let wacz = warcrow::archive::wacz::package(out.path(), None).unwrap();
    assert!(wacz.exists());
    let crawled = t0.elapsed();

    let t1 = Instant::now();
    let archives = support::crawl_archives(out.path());
    let pywb = support::Pywb::start(&archives);
    let setup = t1.elapsed();
    let t2 = Instant::now();
    let replay = support::check_replay(&pywb, out.path());
    let checked = t2.elapsed();
    let wayback_up = pywb.startup;
    drop(pywb);

    let (pages, pages_ok) = (
        count(&replay, "pages", "captured"),
        count(&replay, "pages", "replayed"),
    );
    eprintln!(
        "replay: pages {pages_ok}/{pages}, redirects {}/{}, images+css {}/{} ({} images, {} css), \
         revisits {}/{}; {} archive file(s); crawl {crawled:.1?}, pywb setup {setup:.1?} \
         (wayback up after {:.1?}), checks {checked:.1?}",
        count(&replay, "redirects", "replayed"),
        count(&replay, "redirects", "captured"),
        count(&replay, "assets", "replayed"),
        count(&replay, "assets", "captured"),
        count(&replay, "assets", "images"),
        count(&replay, "assets", "css"),
        count(&replay, "revisits", "replayed"),
        count(&replay, "revisits", "records"),
        archives.len(),
        wayback_up,
    );

    // Every HTML page captured with 200 replays, raw and rewritten, with its <title>.
    assert!(
        problems(&replay, "pages").is_empty(),
        "pages that do not replay:\n{}",
        problems(&replay, "pages").join("\n")
    );
    assert_eq!(pages_ok, pages, "pages replayed / pages captured");
    assert!(pages >= 30, "only {pages} HTML pages captured");
    // The titles come from the captured pages; they are the demo's articles' own.
    let titles = &replay["titles"];
    for (url, title) in &article_urls {
        let got = titles[url].as_str().unwrap_or_default();
        assert!(got.contains(title), "{url}: title {got:?}, want {title:?}");
    }
    for url in &dup_urls {
        assert_eq!(titles[url], "Duplicate page", "{url}");
    }

    // /old-news/ -> /archive/ and /redirect/start/ -> /redirect/middle/ each answer with a
    // redirect to the replay URL of their target, and the chains end at a replayed page.
    assert!(
        problems(&replay, "redirects").is_empty(),
        "redirects that do not replay:\n{}",
        problems(&replay, "redirects").join("\n")
    );
    assert!(count(&replay, "redirects", "captured") >= 4);
    assert_eq!(
        count(&replay, "redirects", "replayed"),
        count(&replay, "redirects", "captured")
    );

    // Images and stylesheets: the captured bytes with the captured Content-Type.
    assert!(
        problems(&replay, "assets").is_empty(),
        "images/stylesheets that do not replay:\n{}",
        problems(&replay, "assets").join("\n")
    );
    assert!(count(&replay, "assets", "images") >= 1 && count(&replay, "assets", "css") >= 1);
    assert_eq!(
        count(&replay, "assets", "replayed"),
        count(&replay, "assets", "captured")
    );

    // Revisits (these hold only once the crawler writes them): /dup/a/ and /dup/b/ share a
    // payload digest, so the later one is a revisit record, and it replays the original's
    // bytes through WARC-Refers-To-Target-URI / -Date.
    assert!(
        problems(&replay, "revisits").is_empty(),
        "revisits that do not replay:\n{}",
        problems(&replay, "revisits").join("\n")
    );
    let revisit_urls: Vec<&str> = replay["revisits"]["urls"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        dup_urls.iter().any(|u| revisit_urls.contains(&u.as_str())),
        "neither of {dup_urls:?} was written as a revisit (revisit records: {revisit_urls:?})"
    );
    assert_eq!(
        count(&replay, "revisits", "replayed"),
        count(&replay, "revisits", "records")
    );
}

/// The README's main job: `warcrow demo` writes a WACZ, and that package replays in pywb.
#[test]
fn demo_wacz_replays_in_pywb() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("demo");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_warcrow"))
        .args(["demo", "--quiet", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let archives = support::crawl_archives(&dir);
    assert!(
        archives
            .iter()
            .all(|a| a.extension().is_some_and(|e| e == "wacz")),
        "the demo should have written a WACZ: {archives:?}"
    );
    let pywb = support::Pywb::start(&archives);
    let replay = support::check_replay(&pywb, &dir);
    drop(pywb);
    let (pages, pages_ok) = (
        count(&replay, "pages", "captured"),
        count(&replay, "pages", "replayed"),
    );
    eprintln!("demo replay from WACZ: pages {pages_ok}/{pages}");
    for part in ["pages", "redirects", "assets", "revisits"] {
        assert!(
            problems(&replay, part).is_empty(),
            "{part} that do not replay:\n{}",
            problems(&replay, part).join("\n")
        );
    }
    assert_eq!(pages_ok, pages);
    assert!(pages >= 25, "only {pages} demo pages captured");
    assert_eq!(
        count(&replay, "redirects", "replayed"),
        count(&replay, "redirects", "captured")
    );
}
