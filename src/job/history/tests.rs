use std::path::Path;

use chrono::{DateTime, Utc};

use super::fixture::{BRIDGE, FAIR, RIVER, RUNS, write_job};
use super::*;

fn job() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_job(dir.path()).unwrap();
    dir
}

fn line<'a>(lines: &'a [HistoryLine], url: &str) -> &'a HistoryLine {
    lines
        .iter()
        .find(|l| l.url == url)
        .unwrap_or_else(|| panic!("no line for {url}"))
}

/// (author, first_seen run, last_seen run) of each comment, in order.
fn seen(l: &HistoryLine) -> Vec<(String, usize, usize)> {
    let run_of = |at: &str| RUNS.iter().position(|(_, f)| *f == at).unwrap();
    l.comments
        .iter()
        .map(|c| {
            (
                c.comment.author.clone().unwrap(),
                run_of(&c.first_seen),
                run_of(&c.last_seen),
            )
        })
        .collect()
}

fn s(v: &[(&str, usize, usize)]) -> Vec<(String, usize, usize)> {
    v.iter().map(|(a, f, l)| (a.to_string(), *f, *l)).collect()
}

#[test]
fn history_dates_every_comment_and_keeps_deleted_ones_in_place() {
    let job = job();
    let lines = job_history(job.path()).unwrap();
    let urls: Vec<&str> = lines.iter().map(|l| l.url.as_str()).collect();
    assert_eq!(
        urls,
        [BRIDGE, RIVER, FAIR],
        "sorted by URL, half line skipped"
    );

    let river = line(&lines, RIVER);
    assert_eq!(
        river.title.as_deref(),
        Some("River rises again"),
        "latest metadata"
    );
    assert_eq!(river.capture.fetched_at, RUNS[2].1);
    assert_eq!(
        (river.first_seen.as_str(), river.last_seen.as_str()),
        (RUNS[0].1, RUNS[2].1)
    );
    assert_eq!(river.runs, RUNS.map(|r| r.0.to_string()));
    // Otto's 102 vanished in run 3: still there, under 101, last seen in run 2.
    let ids: Vec<&str> = river
        .comments
        .iter()
        .map(|c| c.comment.id.as_str())
        .collect();
    assert_eq!(ids, ["101", "102", "103", "104", "105"]);
    assert_eq!(
        seen(river),
        s(&[
            ("Nell", 0, 2),
            ("Otto", 0, 1),
            ("Ada", 1, 2),
            ("Bea", 2, 2),
            ("Cy", 2, 2)
        ])
    );

    // No ids on the page: matched by content although Carol's `n1` became `n2`; not
    // refetched in run 3, so nothing counts as gone.
    let bridge = line(&lines, BRIDGE);
    assert_eq!(bridge.runs, [RUNS[0].0, RUNS[1].0]);
    assert_eq!(bridge.last_seen, RUNS[1].1);
    assert_eq!(
        seen(bridge),
        s(&[("Dan", 1, 1), ("Carol", 0, 1), ("Eve", 1, 1)])
    );
    let carol = &bridge.comments[1].comment;
    assert!(
        carol.id.starts_with('h') && carol.id.len() == 17,
        "{}",
        carol.id
    );
    assert_eq!(
        bridge.comments[2].comment.parent.as_deref(),
        Some(carol.id.as_str())
    );

    let fair = line(&lines, FAIR);
    assert_eq!((fair.first_seen.as_str(), fair.runs.len()), (RUNS[2].1, 1));
}

#[test]
fn history_line_has_every_extracted_key_plus_the_dates() {
    let job = job();
    let lines = job_history(job.path()).unwrap();
    let json = serde_json::to_value(line(&lines, RIVER)).unwrap();
    let extracted: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(
            job.path()
                .join("runs")
                .join(RUNS[0].0)
                .join("extracted.jsonl"),
        )
        .unwrap()
        .lines()
        .next()
        .unwrap(),
    )
    .unwrap();
    for key in extracted.as_object().unwrap().keys() {
        assert!(json.get(key).is_some(), "{key} missing");
    }
    for key in ["first_seen", "last_seen", "runs"] {
        assert!(json.get(key).is_some(), "{key} missing");
    }
    let c = &json["comments"][0];
    assert_eq!(
        (c["id"].as_str(), c["kind"].as_str()),
        (Some("101"), Some("comment"))
    );
    assert_eq!(c["first_seen"], RUNS[0].1);
}

#[test]
fn run_news_lists_only_what_the_run_saw_first() {
    let job = job();
    let first = run_news(job.path(), RUNS[0].0).unwrap();
    assert_eq!(first.len(), 2, "the first run is all news");
    assert_eq!(line(&first, RIVER).comments.len(), 2);

    let second = run_news(job.path(), RUNS[1].0).unwrap();
    assert_eq!(seen(line(&second, RIVER)), s(&[("Ada", 1, 1)]));
    assert_eq!(
        seen(line(&second, BRIDGE)),
        s(&[("Dan", 1, 1), ("Eve", 1, 1)])
    );
    assert_eq!(
        line(&second, RIVER).first_seen,
        RUNS[0].1,
        "a known article"
    );
    assert!(second.iter().all(|l| l.url != FAIR));

    let third = run_news(job.path(), RUNS[2].0).unwrap();
    let urls: Vec<&str> = third.iter().map(|l| l.url.as_str()).collect();
    assert_eq!(urls, [RIVER, FAIR], "the bridge was not refetched");
    assert_eq!(seen(line(&third, RIVER)), s(&[("Bea", 2, 2), ("Cy", 2, 2)]));
    let fair = line(&third, FAIR);
    assert_eq!(
        (fair.first_seen.as_str(), fair.comments.len()),
        (RUNS[2].1, 1)
    );
    assert_eq!(fair.title.as_deref(), Some("Spring fair"));
}

#[test]
fn run_news_of_an_unknown_run_or_folder_is_an_error() {
    let job = job();
    assert!(matches!(
        run_news(job.path(), "nope"),
        Err(HistoryError::UnknownRun { .. })
    ));
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        job_history(empty.path()),
        Err(HistoryError::NotAJob(_))
    ));
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn recent_articles_by_published_else_first_seen_newest_first() {
    let job = job();
    let urls = |days, now| -> Vec<String> {
        recent_articles_at(job.path(), days, at(now))
            .into_iter()
            .map(String::from)
            .collect()
    };
    // The fair has no date: its first_seen (March 3) counts.
    assert_eq!(urls(7, "2026-03-04T00:00:00Z"), [FAIR, RIVER]);
    assert_eq!(urls(3, "2026-03-04T00:00:00Z"), [FAIR]);
    assert_eq!(urls(1, "2026-03-10T00:00:00Z"), Vec::<String>::new());
    assert_eq!(urls(u32::MAX, "2026-03-04T00:00:00Z").len(), 3, "no limit");
    assert!(recent_articles(Path::new("/nonexistent/job"), 7).is_empty());
}

fn write_run(job: &Path, id: &str, started_at: Option<&str>) {
    let dir = job.join("runs").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    if let Some(t) = started_at {
        std::fs::write(
            dir.join("manifest.json"),
            format!(r#"{{"started_at": "{t}"}}"#),
        )
        .unwrap();
    }
}

#[test]
fn without_runs_jsonl_runs_go_by_manifest_start() {
    let job = tempfile::tempdir().unwrap();
    write_run(job.path(), "a", Some("2026-03-02T00:00:00Z"));
    write_run(job.path(), "b", Some("2026-03-01T00:00:00+05:00"));
    write_run(job.path(), "c", None);
    let ids: Vec<String> = runs::list_runs(job.path())
        .unwrap()
        .into_iter()
        .map(|r| r.crawl_id)
        .collect();
    assert_eq!(ids, ["c", "b", "a"]);

    // A run folder runs.jsonl does not list yet comes after the listed ones.
    std::fs::write(
        job.path().join("runs.jsonl"),
        "{\"crawl_id\": \"a\", \"dir\": \"runs/a\"}\n{\"crawl_id\": \"b\"}\n{\"crawl_",
    )
    .unwrap();
    let ids: Vec<String> = runs::list_runs(job.path())
        .unwrap()
        .into_iter()
        .map(|r| r.crawl_id)
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
}

#[test]
fn the_fixture_gives_the_same_history_without_runs_jsonl() {
    let job = job();
    let with = job_history(job.path()).unwrap();
    std::fs::remove_file(job.path().join("runs.jsonl")).unwrap();
    assert_eq!(job_history(job.path()).unwrap(), with);
}

fn c(id: &str, author: &str, published: Option<&str>, text: &str) -> Comment {
    Comment {
        id: id.into(),
        author: Some(author.into()),
        author_url: None,
        published: published.map(String::from),
        text: text.into(),
        parent: None,
        kind: Default::default(),
    }
}

#[test]
fn drifting_relative_dates_and_twin_comments_still_match() {
    let mut state = ArticleState {
        meta: Article::default(),
        capture: CaptureRef {
            warc_file: String::new(),
            warc_offset: 0,
            fetched_at: String::new(),
        },
        comment_pages: Vec::new(),
        comments: Vec::new(),
        first_seen: String::new(),
        last_seen: String::new(),
        runs: Vec::new(),
        first_run: 0,
        last_run: 0,
    };
    // "2 hours ago" read an hour apart; two identical "+1"s are two comments.
    state.observe_comments(
        vec![
            c("n1", "a", Some("T10"), "hi"),
            c("n2", "b", None, "+1"),
            c("n3", "b", None, "+1"),
        ],
        0,
        "r0",
    );
    state.observe_comments(
        vec![
            c("n1", "a", Some("T11"), "hi"),
            c("n2", "b", None, "+1"),
            c("n3", "b", None, "+1"),
        ],
        1,
        "r1",
    );
    let firsts: Vec<&str> = state
        .comments
        .iter()
        .map(|t| t.first_seen.as_str())
        .collect();
    assert_eq!(firsts, ["r0", "r0", "r0"]);
    let ids: Vec<&str> = state
        .comments
        .iter()
        .map(|t| t.comment.id.as_str())
        .collect();
    assert_eq!(ids[2], format!("{}-2", ids[1]));
    assert_eq!(
        state.comments[0].comment.published.as_deref(),
        Some("T11"),
        "latest content"
    );
}
