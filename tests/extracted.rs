//! Content extraction end to end: the crawl's `extracted.jsonl` holds every demo article with
//! all its comments across comment pages, `warcrow extract` gives the same lines from the
//! WARCs and from a WACZ, and comment pages are fetched past `max_hops`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use warcrow::config::RawConfig;
use warcrow::crawl::{self, CrawlOptions};

fn warcrow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_warcrow"))
}

fn lines(text: &str) -> Vec<Value> {
    let mut v: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    v.sort_by(|a, b| a["url"].as_str().cmp(&b["url"].as_str()));
    v
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Each extracted line by URL path.
fn by_path(lines: &[Value]) -> BTreeMap<String, &Value> {
    lines
        .iter()
        .map(|l| {
            let url = url::Url::parse(l["url"].as_str().unwrap()).unwrap();
            (url.path().to_string(), l)
        })
        .collect()
}

/// Every demo article is there once, with all its comments, each once, parents first.
fn assert_all_articles(lines: &[Value]) {
    let found = by_path(lines);
    assert_eq!(found.len(), lines.len(), "an article has two lines");
    for a in warcrow::demo::articles() {
        let line = found
            .get(&a.path)
            .unwrap_or_else(|| panic!("{} missing from extracted.jsonl", a.path));
        let ids: Vec<String> = line["comments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        let unique: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(
            unique.len(),
            ids.len(),
            "{}: a comment twice: {ids:?}",
            a.path
        );
        let want: BTreeSet<String> = a.comment_ids.iter().flatten().map(u32::to_string).collect();
        assert_eq!(unique, want.iter().collect(), "{}", a.path);
        assert_eq!(ids.len(), a.comment_count, "{}", a.path);
        for (i, c) in line["comments"].as_array().unwrap().iter().enumerate() {
            if let Some(parent) = c["parent"].as_str() {
                let at = ids.iter().position(|x| x == parent).unwrap();
                assert!(at < i, "{}: reply {} before its parent", a.path, ids[i]);
            }
        }
        assert_eq!(line["title"], a.title);
        let pages: Vec<&str> = line["comment_pages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(pages.len(), a.comment_pages.len() - 1, "{}", a.path);
        assert!(line["warc_file"].as_str().unwrap().ends_with(".warc.gz"));
        assert!(line["warc_offset"].as_u64().is_some());
        assert!(line["fetched_at"].as_str().unwrap().ends_with('Z'));
    }
}

#[test]
fn demo_crawl_and_offline_extract_agree_on_every_article() {
    let dir = tempfile::tempdir().unwrap();
    let crawl_dir = dir.path().join("crawl");
    run_ok(warcrow().args(["demo", "-q", "--out"]).arg(&crawl_dir));
    let crawled = lines(&std::fs::read_to_string(crawl_dir.join("extracted.jsonl")).unwrap());
    assert_all_articles(&crawled);
    // The line points at the article page's response record.
    let captures = std::fs::read_to_string(crawl_dir.join("captures.jsonl")).unwrap();
    for line in &crawled {
        let found = captures.lines().any(|c| {
            let c: Value = serde_json::from_str(c).unwrap();
            c["url"] == line["url"]
                && c["warc_offset"] == line["warc_offset"]
                && c["warc_file"] == line["warc_file"]
                && c["fetched_at"] == line["fetched_at"]
        });
        assert!(
            found,
            "no capture at {} {}",
            line["url"], line["warc_offset"]
        );
    }
    let counts = &serde_json::from_str::<Value>(
        &std::fs::read_to_string(crawl_dir.join("manifest.json")).unwrap(),
    )
    .unwrap()["counts"];
    assert!(
        counts["extracted"]["article"].as_u64().unwrap() >= 6,
        "{counts}"
    );
    assert!(
        counts["by_kind"]["comment_page"].as_u64().unwrap() >= 1,
        "{counts}"
    );

    let warcs: Vec<_> = std::fs::read_dir(crawl_dir.join("warc"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let offline = lines(&run_ok(warcrow().arg("extract").args(&warcs)));
    assert_eq!(offline, crawled);

    let from_dir_file = dir.path().join("from-dir.jsonl");
    run_ok(
        warcrow()
            .arg("extract")
            .arg(&crawl_dir)
            .arg("-o")
            .arg(&from_dir_file),
    );
    assert_eq!(
        lines(&std::fs::read_to_string(&from_dir_file).unwrap()),
        crawled
    );

    let wacz = dir.path().join("demo.wacz");
    run_ok(
        warcrow()
            .arg("package")
            .arg(&crawl_dir)
            .arg("-o")
            .arg(&wacz),
    );
    let from_wacz = lines(&run_ok(warcrow().arg("extract").arg(&wacz)));
    assert_eq!(from_wacz, crawled);
}

fn demo_config(max_hops: u32) -> warcrow::config::Config {
    let text = format!(
        "[crawl]\nmax_hops = {max_hops}\n[politeness]\nrequests_per_second = 0.0\n\
         max_connections_per_host = 8\nmax_connections = 8\n\
         contact_url = \"https://example.invalid/test\"\n[fetch]\ntimeout_secs = 5.0\n"
    );
    RawConfig::parse(&text, "test")
        .unwrap()
        .validate("test")
        .unwrap()
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    lines(&std::fs::read_to_string(path).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comment_pages_are_fetched_past_max_hops() {
    let site = warcrow::demo::DemoSite::start().await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let summary = crawl::run(
        demo_config(1),
        vec![site.url()],
        CrawlOptions {
            out_dir: out.path().to_path_buf(),
            crawl_id: "hops".into(),
            progress: false,
        },
    )
    .await
    .unwrap();
    site.shutdown().await;
    assert!(
        summary
            .counts
            .rejected
            .get("max_hops")
            .copied()
            .unwrap_or(0)
            > 0,
        "the limit never bit, so this test shows nothing: {:?}",
        summary.counts
    );
    let captured: BTreeSet<String> = read_jsonl(&out.path().join("captures.jsonl"))
        .iter()
        .map(|c| {
            url::Url::parse(c["url"].as_str().unwrap())
                .unwrap()
                .path()
                .to_string()
        })
        .collect();
    let extracted = read_jsonl(&out.path().join("extracted.jsonl"));
    let found = by_path(&extracted);
    let mut paged = 0;
    for a in warcrow::demo::articles() {
        if !captured.contains(&a.path) {
            continue;
        }
        for page in &a.comment_pages {
            assert!(captured.contains(page), "{page} not fetched");
        }
        if a.comment_pages.len() > 1 {
            paged += 1;
        }
        let line = found.get(&a.path).unwrap();
        assert_eq!(
            line["comments"].as_array().unwrap().len(),
            a.comment_count,
            "{}",
            a.path
        );
    }
    assert!(paged > 0, "no article with comment pages was reached");
}

/// `warcrow extract` follows a revisit to its original: a revisit of a demo article at another
/// URL yields that URL's line with the original's title, text and comments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_extract_resolves_revisits_to_their_original() {
    use warcrow::archive::record::{
        OriginalCapture, exchange_records, new_record_id, payload_digest, warc_date,
    };
    use warcrow::archive::{WarcWriter, WriterSettings};
    use warcrow::fetch::{self, FetchRequest, FetchSettings, FetcherKind};

    let site = warcrow::demo::DemoSite::start().await.unwrap();
    let article = warcrow::demo::articles()
        .into_iter()
        .find(|a| a.comment_pages.len() == 1 && a.comment_count > 0)
        .expect("a demo article with one page of comments");
    let url = site.url().join(&article.path).unwrap();
    let copy_url = site.url().join("/syndicated/copy/").unwrap();
    let fetcher = fetch::build(FetcherKind::Wire, &FetchSettings::default()).unwrap();
    let ex = fetcher
        .fetch(&FetchRequest {
            url: url.clone(),
            headers: vec![],
        })
        .await
        .unwrap();
    site.shutdown().await;

    // The original response, then the same payload at another URL as a revisit.
    let dir = tempfile::tempdir().unwrap();
    let writer = WarcWriter::new(WriterSettings {
        dir: dir.path().to_path_buf(),
        prefix: "rev".into(),
        rollover_bytes: 1 << 30,
        compression_level: 1,
        info_fields: vec![],
    })
    .unwrap();
    let digest = payload_digest(&ex);
    let original_id = new_record_id();
    let original = exchange_records(&ex, original_id.clone(), digest.clone(), None);
    let mut copy = ex.clone();
    copy.url = copy_url;
    let refers = OriginalCapture {
        uri: url.to_string(),
        date: warc_date(ex.started_at),
        record_id: original_id,
    };
    let revisit = exchange_records(&copy, new_record_id(), digest, Some(&refers));
    assert_eq!(revisit.response.get("WARC-Type"), Some("revisit"));
    writer
        .write_group(&[
            original.request.encode(1).unwrap(),
            original.response.encode(1).unwrap(),
            revisit.request.encode(1).unwrap(),
            revisit.response.encode(1).unwrap(),
        ])
        .unwrap();
    let files = writer.finish().unwrap();

    let out = run_ok(
        warcrow()
            .arg("extract")
            .arg(dir.path().join(&files[0].name)),
    );
    let extracted = lines(&out);
    let find = |u: &url::Url| {
        extracted
            .iter()
            .find(|l| l["url"] == u.as_str())
            .unwrap_or_else(|| panic!("no line for {u} in {out}"))
            .clone()
    };
    let (first, again) = (find(&url), find(&copy.url));
    assert_eq!(again["title"], article.title);
    assert_eq!(again["text"], first["text"]);
    assert_eq!(again["comments"], first["comments"]);
    assert_eq!(
        again["comments"].as_array().unwrap().len(),
        article.comment_count
    );
}
