//! Incremental runs of a job against a site whose pages change between runs: later runs ask
//! conditionally, a 304 becomes a `server-not-modified` revisit of the earlier record, an
//! unchanged body without validators an `identical-payload-digest` revisit of it, and a
//! changed page a full response. Each unchanged page is stored once over three runs, warcio
//! accepts every run, and pywb replays every capture time of the changed page, and the
//! earlier payload for a revisit.

mod support;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::StatusCode;
use serde_json::Value;
use url::Url;
use warcrow::config::{Config, RawConfig};
use warcrow::crawl::{self, CrawlOptions};
use warcrow::demo::reply::{Reply, RequestInfo};
use warcrow::demo::server::{Server, handler};
use warcrow::job::dedup::{JobIndex, ingest_run};

/// Paragraphs that do not compress away (the body stays above `warc.revisit_min_bytes`).
fn filler(word: &str) -> String {
    (0..30u64)
        .map(|i| {
            let noise = (i + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ word.len() as u64;
            format!("<p>{word} paragraph {i} ({noise:x}).</p>\n")
        })
        .collect()
}

/// `/` links to three pages: `/stable/` (ETag and Last-Modified: answers 304 when asked
/// conditionally), `/plain/` (the same body every run, no validators) and `/news/` (a new
/// body every run). `run` is the run number the site is on.
async fn site(run: Arc<AtomicUsize>) -> Server {
    Server::bind(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        handler(move |req| {
            let run = run.load(Ordering::SeqCst);
            async move {
                let info = RequestInfo::of(&req);
                let page = |title: &str, body: String| {
                    format!(
                        "<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>"
                    )
                };
                let reply = match info.path.as_str() {
                    "/" => Reply::html(
                        StatusCode::OK,
                        page(
                            "Home",
                            "<a href=\"/stable/\">s</a><a href=\"/plain/\">p</a><a href=\"/news/\">n</a>"
                                .into(),
                        ),
                    )
                    .with_validators(),
                    "/stable/" => {
                        Reply::html(StatusCode::OK, page("Stable", filler("stable"))).with_validators()
                    }
                    "/plain/" => Reply::html(StatusCode::OK, page("Plain", filler("plain"))),
                    "/news/" => Reply::html(
                        StatusCode::OK,
                        page(&format!("News of run {run}"), filler(&format!("news {run}"))),
                    )
                    .with_validators(),
                    _ => Reply::html(StatusCode::NOT_FOUND, "<p>no</p>".into()),
                };
                reply.into_response(&info)
            }
        }),
    )
    .await
    .unwrap()
}

fn config() -> Config {
    RawConfig::parse(
        r#"
        [politeness]
        requests_per_second = 0.0
        contact_url = "https://example.invalid/test"
        [warc]
        prefix = "inc"
        "#,
        "t",
    )
    .unwrap()
    .validate("t")
    .unwrap()
}

fn warc_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir.join("warc"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

/// Per path: (record type, WARC-Profile kind or "", status).
fn outcomes(dir: &Path) -> BTreeMap<String, (String, u16)> {
    support::captures(dir)
        .iter()
        .map(|c| {
            let path = Url::parse(c["url"].as_str().unwrap())
                .unwrap()
                .path()
                .to_string();
            let kind = c["record_type"].as_str().unwrap().to_string();
            (path, (kind, c["status"].as_u64().unwrap() as u16))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_runs_store_each_unchanged_page_once() {
    let run_no = Arc::new(AtomicUsize::new(1));
    let server = site(run_no.clone()).await;
    let seed = Url::parse(&format!("http://{}/", server.addr())).unwrap();
    let job = tempfile::tempdir().unwrap();
    let mut runs: Vec<PathBuf> = Vec::new();
    for n in 1..=3 {
        // Replay addresses captures by the second: start each run in a second of its own.
        if n > 1 {
            let into = chrono::Utc::now().timestamp_subsec_millis() as u64;
            tokio::time::sleep(std::time::Duration::from_millis(1050 - into.min(1000))).await;
        }
        run_no.store(n, Ordering::SeqCst);
        let id = format!("run{n}");
        let dir = job.path().join("runs").join(&id);
        let index = JobIndex::open(job.path()).unwrap();
        let summary = crawl::run_with(
            config(),
            vec![seed.clone()],
            CrawlOptions {
                out_dir: dir.clone(),
                crawl_id: id.clone(),
                progress: false,
            },
            Some(Arc::new(index)),
        )
        .await
        .unwrap();
        assert_eq!(summary.exit_reason, "finished");
        ingest_run(job.path(), &dir, &id).unwrap();
        let earlier: Vec<&Path> = runs.iter().map(PathBuf::as_path).collect();
        let checked = support::check_job_run(&dir, &earlier);
        eprintln!(
            "run {n}: {} WARC bytes, {}",
            warc_bytes(&dir),
            checked["revisit_profiles"]
        );
        runs.push(dir);
    }
    let first = outcomes(&runs[0]);
    for path in ["/", "/stable/", "/plain/", "/news/"] {
        assert_eq!(first[path], ("response".to_string(), 200), "{path}");
    }
    for later in &runs[1..] {
        let o = outcomes(later);
        // Asked with If-None-Match: the server said 304, archived as a revisit.
        assert_eq!(o["/"], ("revisit".to_string(), 304));
        assert_eq!(o["/stable/"], ("revisit".to_string(), 304));
        // No validators, same body: a revisit of the first run's record.
        assert_eq!(o["/plain/"], ("revisit".to_string(), 200));
        assert_eq!(o["/news/"], ("response".to_string(), 200));
        let m: Value =
            serde_json::from_str(&std::fs::read_to_string(later.join("manifest.json")).unwrap())
                .unwrap();
        assert_eq!(m["counts"]["by_outcome"]["revisit_not_modified"], 2);
        assert_eq!(m["counts"]["by_outcome"]["revisit"], 1);
    }
    // The links of a page answered 304 are still followed (from the earlier payload).
    assert_eq!(support::captures(&runs[2]).len(), first.len());
    // Each unchanged page's payload is stored once in the job: the later runs are smaller.
    assert!(warc_bytes(&runs[1]) < warc_bytes(&runs[0]));

    // pywb over every run's WACZ: the changed page at each run's time, the revisits with the
    // first run's payload, and at a 304's time the capture it confirmed.
    let waczs: Vec<PathBuf> = runs
        .iter()
        .map(|r| warcrow::archive::wacz::package(r, None).unwrap())
        .collect();
    let pywb = support::Pywb::start(&waczs);
    let addr: SocketAddr = pywb
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    for (n, run) in runs.iter().enumerate() {
        for c in support::captures(run) {
            let url = c["url"].as_str().unwrap();
            let ts: String = c["fetched_at"]
                .as_str()
                .unwrap()
                .chars()
                .filter(char::is_ascii_digit)
                .take(14)
                .collect();
            let path = format!("/{}/{ts}id_/{url}", support::replay::COLLECTION);
            let (head, body) = support::raw_request(addr, "GET", &path, &[]).await;
            let status = match c["status"].as_u64().unwrap() {
                304 => 200,
                s => s,
            };
            assert!(
                head.starts_with(&format!("HTTP/1.1 {status}")),
                "{path}: {head}"
            );
            let body = match support::header(&head, "Transfer-Encoding") {
                Some(te) if te.contains("chunked") => support::dechunk(&body),
                _ => body,
            };
            let text = String::from_utf8_lossy(&body);
            let expect = match Url::parse(url).unwrap().path() {
                "/news/" => format!("News of run {}", n + 1),
                "/stable/" => "stable paragraph 29".to_string(),
                "/plain/" => "plain paragraph 29".to_string(),
                _ => continue,
            };
            assert!(text.contains(&expect), "{path}: {text}");
        }
    }
}

/// The issue's measure: a job of three runs (`warcrow crawl --job`) against the whole test
/// site stores each unchanged page once; the later runs are revisits of the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_of_three_runs_of_the_test_site_stores_each_page_once() {
    let site = support::TestSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("job-config.toml");
    std::fs::write(
        &config,
        "[crawl]\nmax_hops = 10\n[politeness]\nrequests_per_second = 0.0\n\
         max_connections_per_host = 4\ncontact_url = \"https://example.invalid/test\"\n\
         [fetch]\ntimeout_secs = 2.0\n[retry]\nmax_attempts = 1\n",
    )
    .unwrap();
    let job = dir.path().join("job");
    for n in 1..=3 {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_warcrow"));
        cmd.arg("crawl").arg("--job").arg(&job).arg("-q");
        if n == 1 {
            cmd.arg(site.index_url().as_str())
                .arg("--config")
                .arg(&config);
        }
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let runs: Vec<Value> = std::fs::read_to_string(job.join("runs.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(runs.len(), 3);
    let mut responses: BTreeMap<String, usize> = BTreeMap::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for run in &runs {
        let rd = job.join(run["dir"].as_str().unwrap());
        for c in support::captures(&rd) {
            if c["record_type"] == "response" && c["status"] == 200 {
                *responses
                    .entry(c["url"].as_str().unwrap().to_string())
                    .or_default() += 1;
            }
        }
        let earlier: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
        let checked = support::check_job_run(&rd, &earlier);
        eprintln!(
            "{}: {} WARC bytes, revisits {} ({})",
            run["crawl_id"], run["warc_bytes"], run["revisits"], checked["revisit_profiles"]
        );
        dirs.push(rd);
    }
    // /slow/ times out every run; every page that answered 200 was stored once.
    let twice: Vec<_> = responses.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored again: {twice:?}");
    for later in &runs[1..] {
        let revisits = later["revisits"]["identical_payload"].as_u64().unwrap()
            + later["revisits"]["not_modified"].as_u64().unwrap();
        assert!(revisits >= 50, "{later}");
        assert!(later["warc_bytes"].as_u64() < runs[0]["warc_bytes"].as_u64());
    }
}
