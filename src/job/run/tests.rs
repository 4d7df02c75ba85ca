use super::*;
use crate::job::lock::{JobLock, group_lock_path};
use crate::job::runs::{INDEX_FILE, RUNS_FILE, read_runs};

const TEST_CONFIG: &str = r#"
[politeness]
requests_per_second = 0.0
contact_url = "https://example.invalid/test"
[fetch]
timeout_secs = 5.0
[retry]
max_attempts = 1
"#;

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

#[tokio::test]
async fn creating_a_job_needs_seeds_and_reports_every_problem_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[crawl]\nmax_hop = 1\n").unwrap();
    let err = run_once(&job, None, &[], Some(&bad), false)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("did you mean `crawl.max_hops`"), "{msg}");
    assert!(msg.contains("give its seed URLs"), "{msg}");
    assert!(
        !job.join(CONFIG_FILE).exists(),
        "nothing written when invalid"
    );
}

#[tokio::test]
async fn an_existing_job_refuses_new_seeds_or_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(CONFIG_FILE), TEST_CONFIG).unwrap();
    let err = run_once(dir.path(), None, &[url("http://127.0.0.1:9/")], None, false)
        .await
        .unwrap_err();
    assert!(matches!(err, JobError::Usage(_)), "{err}");
    assert!(err.to_string().contains("is already a job"), "{err}");
    let cfg = dir.path().join("other.toml");
    std::fs::write(&cfg, TEST_CONFIG).unwrap();
    let err = run_once(dir.path(), None, &[], Some(&cfg), false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("edit those files"), "{err}");
}

#[tokio::test]
async fn a_group_already_running_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(CONFIG_FILE), TEST_CONFIG).unwrap();
    std::fs::write(dir.path().join(SEEDS_FILE), "http://127.0.0.1:9/\n").unwrap();
    let _held = JobLock::try_acquire(&group_lock_path(dir.path(), "default")).unwrap();
    let err = run_once(dir.path(), None, &[], None, false)
        .await
        .unwrap_err();
    assert!(err.is_busy(), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("\"default\"") && msg.contains("already running"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("process {}", std::process::id())),
        "{msg}"
    );
    assert!(!dir.path().join(RUNS_FILE).exists());
}

#[tokio::test]
async fn a_recent_articles_group_without_articles_starts_no_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("job.toml"),
        "[[group]]\nname = \"comments\"\nseeds = \"recent_articles\"\n",
    )
    .unwrap();
    // No seeds needed: no group crawls seeds.txt.
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, TEST_CONFIG).unwrap();
    match run_once(dir.path(), None, &[], Some(&cfg), false).await {
        Ok(RunOutcome::NothingToCrawl { group, .. }) => assert_eq!(group, "comments"),
        other => panic!("{other:?}"),
    }
    assert!(dir.path().join(CONFIG_FILE).exists());
}

#[tokio::test]
async fn two_runs_of_a_job_share_config_seeds_and_index() {
    let site = crate::demo::DemoSite::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("news");
    std::fs::create_dir_all(&job).unwrap();
    // max_hops 0 for the group: the front page and its requisites only.
    std::fs::write(
        job.join("job.toml"),
        "[[group]]\nname = \"front\"\ncron = \"*/15 * * * *\"\nmax_hops = 0\n",
    )
    .unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, TEST_CONFIG).unwrap();
    let first = match run_once(&job, None, &[site.url()], Some(&cfg), false).await {
        Ok(RunOutcome::Ran(r)) => r,
        other => panic!("{other:?}"),
    };
    assert!(first.created);
    assert_eq!(first.record.exit_reason, "finished");
    assert_eq!(
        std::fs::read_to_string(job.join(CONFIG_FILE)).unwrap(),
        TEST_CONFIG
    );
    assert!(
        std::fs::read_to_string(job.join(SEEDS_FILE))
            .unwrap()
            .contains(site.url().as_str())
    );
    let second = match run_once(&job, Some("front"), &[], None, false).await {
        Ok(RunOutcome::Ran(r)) => r,
        other => panic!("{other:?}"),
    };
    assert!(!second.created);
    site.shutdown().await;
    let runs = read_runs(&job);
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0], first.record);
    assert_eq!(runs[1].group, "front");
    assert_eq!(runs[0].pages, runs[1].pages);
    assert!(runs[0].pages > 1 && runs[0].warc_bytes > 0);
    // max_hops = 0: no article (one hop from the front page) was fetched.
    let caps = std::fs::read_to_string(first.run_dir.join("captures.jsonl")).unwrap();
    assert!(!caps.contains("/news/2024/"), "{caps}");
    let index = std::fs::read_to_string(job.join(INDEX_FILE)).unwrap();
    for run in &runs {
        let needle = format!("\"filename\": \"runs/{}/warc/", run.crawl_id);
        assert!(index.contains(&needle), "{needle} not in\n{index}");
    }
    let lines: Vec<&str> = index.lines().collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
}
