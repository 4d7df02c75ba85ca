//! Jobs through the binary, as a cron line or systemd would run them: `crawl --job` creates a
//! job and later runs reuse it; one run of a group at a time; `warcrow schedule` runs groups
//! when due and stops, with its running crawl, on one SIGTERM.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

fn warcrow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_warcrow"))
}

async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

async fn wait(child: Child) -> Output {
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The loopback site at full speed; `timeout_secs` long enough for `/slow/` (5 s).
fn write_config(dir: &Path, max_hops: u32) -> PathBuf {
    let path = dir.join("job-config.toml");
    std::fs::write(
        &path,
        format!(
            "[crawl]\nmax_hops = {max_hops}\n[politeness]\nrequests_per_second = 0.0\n\
             max_connections_per_host = 4\ncontact_url = \"https://example.invalid/test\"\n\
             [fetch]\ntimeout_secs = 10.0\n[retry]\nmax_attempts = 1\n"
        ),
    )
    .unwrap();
    path
}

fn runs(job: &Path) -> Vec<Value> {
    std::fs::read_to_string(job.join("runs.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn run_folders(job: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(job.join("runs"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Poll (bounded: 20 s) until `cond` holds.
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..400 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_job_creates_the_job_and_later_runs_reuse_it() {
    let site = support::TestSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("news");
    let config = write_config(dir.path(), 1);
    let seed = site.url("/");

    let mut first = warcrow();
    first
        .args(["crawl", "-q", "--job"])
        .arg(&job)
        .arg(seed.as_str());
    first.arg("--config").arg(&config);
    let out = output(first).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("(created)") && stdout.contains("run 1 of the job"),
        "{stdout}"
    );

    let mut second = warcrow();
    second.args(["crawl", "-q", "--job"]).arg(&job);
    let out = output(second).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        !stdout.contains("(created)") && stdout.contains("run 2 of the job"),
        "{stdout}"
    );

    // Seeds and config are the job's own now.
    let mut again = warcrow();
    again
        .args(["crawl", "-q", "--job"])
        .arg(&job)
        .arg(seed.as_str());
    let out = output(again).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is already a job"),
        "{}",
        text(&out.stderr)
    );
    site.shutdown().await;

    assert_eq!(
        std::fs::read_to_string(job.join("config.toml")).unwrap(),
        std::fs::read_to_string(&config).unwrap()
    );
    assert!(
        std::fs::read_to_string(job.join("seeds.txt"))
            .unwrap()
            .lines()
            .any(|l| l == seed.as_str())
    );
    let runs = runs(&job);
    assert_eq!(runs.len(), 2, "{runs:?}");
    let ids: Vec<String> = runs
        .iter()
        .map(|r| r["crawl_id"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted_ids = ids.clone();
    sorted_ids.sort();
    assert_eq!(
        run_folders(&job),
        sorted_ids,
        "one folder per run, named by crawl id"
    );
    for r in &runs {
        assert_eq!(r["group"], "default");
        assert_eq!(r["exit_reason"], "finished");
        assert_eq!(
            r["dir"],
            format!("runs/{}", r["crawl_id"].as_str().unwrap())
        );
        assert!(r["pages"].as_u64().unwrap() > 5, "{r}");
        assert!(r["warc_bytes"].as_u64().unwrap() > 0, "{r}");
        for key in ["identical_payload", "not_modified"] {
            assert!(r["revisits"][key].is_u64(), "{r}");
        }
        for key in ["started_at", "ended_at"] {
            assert!(chrono::DateTime::parse_from_rfc3339(r[key].as_str().unwrap()).is_ok());
        }
    }
    // The job's index: both runs' lines, sorted, every filename a WARC under runs/.
    let index = std::fs::read_to_string(job.join("index.cdxj")).unwrap();
    let lines: Vec<&str> = index.lines().collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "sorted bytewise");
    for id in &ids {
        let from_run = lines
            .iter()
            .filter(|l| l.contains(&format!("\"filename\": \"runs/{id}/warc/")))
            .count();
        let own = std::fs::read_to_string(job.join("runs").join(id).join("index.cdxj"))
            .unwrap()
            .lines()
            .count();
        assert!(
            from_run > 0 && from_run == own,
            "{id}: {from_run} of {own} lines"
        );
    }
    for line in &lines {
        let json: Value = serde_json::from_str(line.splitn(3, ' ').nth(2).unwrap()).unwrap();
        let file = json["filename"].as_str().unwrap();
        assert!(job.join(file).is_file(), "{file} missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_run_of_a_group_at_a_time_other_groups_alongside() {
    let site = support::TestSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job");
    std::fs::create_dir_all(&job).unwrap();
    // job.toml written before the job exists: no group crawls seeds.txt, so no seeds needed.
    std::fs::write(
        job.join("job.toml"),
        format!(
            "[[group]]\nname = \"slow\"\nseeds = [\"{}\"]\n\
             [[group]]\nname = \"quick\"\nseeds = [\"{}\"]\nmax_hops = 0\n",
            site.url("/slow/"),
            site.url("/dup/a/")
        ),
    )
    .unwrap();
    let config = write_config(dir.path(), 0);
    let slow = warcrow()
        .args(["crawl", "-q", "--group", "slow", "--job"])
        .arg(&job)
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Its run folder exists once it holds the group's lock (the fetch of /slow/ takes 5 s).
    until("the slow run has started", || run_folders(&job).len() == 1).await;

    let mut again = warcrow();
    again
        .args(["crawl", "-q", "--group", "slow", "--job"])
        .arg(&job);
    let out = output(again).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("group \"slow\"") && err.contains("already running"),
        "{err}"
    );
    assert!(err.contains(&format!("process {}", slow.id())), "{err}");

    let mut other = warcrow();
    other
        .args(["crawl", "-q", "--group", "quick", "--job"])
        .arg(&job);
    let out = output(other).await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = wait(slow).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    site.shutdown().await;
    let runs = runs(&job);
    let groups: Vec<&str> = runs.iter().map(|r| r["group"].as_str().unwrap()).collect();
    assert_eq!(groups, ["quick", "slow"], "the refused run left no trace");
    assert_eq!(run_folders(&job).len(), 2);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_skips_a_group_still_running_and_one_sigterm_stops_it_and_its_crawl() {
    let site = support::TestSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job");
    std::fs::create_dir_all(&job).unwrap();
    // Due every second; each run waits 5 s for /slow/.
    std::fs::write(
        job.join("job.toml"),
        format!(
            "[[group]]\nname = \"slow\"\ncron = \"* * * * * *\"\nseeds = [\"{}\"]\n",
            site.url("/slow/")
        ),
    )
    .unwrap();
    let config = write_config(dir.path(), 0);
    // A first run creates the job (a quick one: robots.txt and /slow/ come back in 5 s).
    let mut create = warcrow();
    create
        .args(["crawl", "-q", "--job"])
        .arg(&job)
        .arg("--config")
        .arg(&config);
    let out = output(create).await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    let scheduler = warcrow()
        .arg("schedule")
        .arg(&job)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let skipped = || {
        std::fs::read_to_string(job.join("schedule.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v["slow"]["skipped"].as_u64())
            .unwrap_or(0)
    };
    until("a due time was skipped", || skipped() >= 1).await;
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(scheduler.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let out = wait(scheduler).await;
    site.shutdown().await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("slow: run started"), "{stdout}");
    assert!(stdout.contains("still running: skipped"), "{stdout}");
    let runs = runs(&job);
    assert_eq!(
        runs.len(),
        2,
        "the creating run and one scheduled run: {runs:?}"
    );
    // The same signal stopped the scheduled run's crawl, which was waiting for /slow/.
    assert_eq!(runs[1]["exit_reason"], "interrupted", "{runs:?}");
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(job.join("schedule.json")).unwrap()).unwrap();
    assert!(state["slow"]["last_end"].is_string(), "{state}");
}
