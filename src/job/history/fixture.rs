//! A synthetic job of three runs, written by hand for the history tests. Shared with
//! `tests/extract_job.rs` (which includes this file by path), so it uses only std and
//! serde_json.
//!
//! - `/2026/02/river/` (platform ids): run 1 has 101 and 102 (a reply to 101); run 2 adds
//!   103; run 3 adds 104 and 105 (a reply to 103), 102 is gone, and its title changed.
//! - `/2025/01/old-bridge/` (no ids: `n1`, `n2`… shift): run 1 has Carol's; run 2 puts Dan's
//!   above it and Eve's reply to Carol under it; not refetched in run 3.
//! - `/2026/03/fair/` (no `published`): first found by run 3.
//! - run 3's extracted.jsonl ends with half a line, as a killed run leaves it.

use std::path::Path;

use serde_json::{Value, json};

/// The runs' crawl ids in run order, and the `fetched_at` of each run's captures.
pub const RUNS: [(&str, &str); 3] = [
    ("20260301T060000Z-7f3a", "2026-03-01T06:00:05.000000Z"),
    ("20260302T060000Z-01c2", "2026-03-02T06:00:05.000000Z"),
    ("20260303T060000Z-9e44", "2026-03-03T06:00:05.000000Z"),
];

pub const RIVER: &str = "http://news.test/2026/02/river/";
pub const BRIDGE: &str = "http://news.test/2025/01/old-bridge/";
pub const FAIR: &str = "http://news.test/2026/03/fair/";

fn comment(
    id: &str,
    author: &str,
    published: Option<&str>,
    text: &str,
    parent: Option<&str>,
) -> Value {
    json!({"id": id, "author": author, "author_url": null, "published": published,
           "text": text, "parent": parent, "kind": "comment"})
}

fn article(
    url: &str,
    title: &str,
    published: Option<&str>,
    comments: Vec<Value>,
    run: usize,
) -> Value {
    let (crawl_id, fetched_at) = RUNS[run];
    json!({"url": url, "canonical_url": url, "title": title, "authors": ["Tobiah Fenn"],
           "published": published, "modified": null, "language": "en-GB", "tags": [],
           "text": format!("Body of {title}."), "word_count": 3, "comments": comments,
           "warc_file": format!("{crawl_id}-00000.warc.gz"), "warc_offset": 1000 * (run + 1),
           "fetched_at": fetched_at, "comment_pages": []})
}

/// Writes the job into `dir`: `runs.jsonl`, and each run's `manifest.json` and
/// `extracted.jsonl` under `runs/<crawl-id>/`.
pub fn write_job(dir: &Path) -> std::io::Result<()> {
    let river_pub = Some("2026-02-28T10:00:00+00:00");
    let c101 = comment(
        "101",
        "Nell",
        Some("2026-02-28T11:00:00+00:00"),
        "Saw it from the bridge.",
        None,
    );
    let c102 = comment(
        "102",
        "Otto",
        Some("2026-02-28T12:00:00+00:00"),
        "Which bridge?",
        Some("101"),
    );
    let c103 = comment(
        "103",
        "Ada",
        Some("2026-03-01T20:00:00+00:00"),
        "Fields flooded here.",
        None,
    );
    let c104 = comment(
        "104",
        "Bea",
        Some("2026-03-02T09:00:00+00:00"),
        "Still rising.",
        None,
    );
    let c105 = comment(
        "105",
        "Cy",
        Some("2026-03-02T10:00:00+00:00"),
        "Where is here?",
        Some("103"),
    );
    let bridge_pub = Some("2025-01-10T08:00:00+00:00");
    let runs: [Vec<Value>; 3] = [
        vec![
            article(
                RIVER,
                "River rises",
                river_pub,
                vec![c101.clone(), c102.clone()],
                0,
            ),
            article(
                BRIDGE,
                "The old bridge",
                bridge_pub,
                vec![comment("n1", "Carol", None, "First!", None)],
                0,
            ),
        ],
        vec![
            article(
                RIVER,
                "River rises",
                river_pub,
                vec![c101.clone(), c102, c103.clone()],
                1,
            ),
            article(
                BRIDGE,
                "The old bridge",
                bridge_pub,
                vec![
                    comment("n1", "Dan", None, "Late to this.", None),
                    comment("n2", "Carol", None, "First!", None),
                    comment("n3", "Eve", None, "Not quite.", Some("n2")),
                ],
                1,
            ),
        ],
        vec![
            article(
                RIVER,
                "River rises again",
                river_pub,
                vec![c101, c103, c104, c105],
                2,
            ),
            article(
                FAIR,
                "Spring fair",
                None,
                vec![comment("301", "Flo", None, "See you there.", None)],
                2,
            ),
        ],
    ];
    let mut index = String::new();
    for (i, lines) in runs.iter().enumerate() {
        let (crawl_id, fetched_at) = RUNS[i];
        let run_dir = dir.join("runs").join(crawl_id);
        std::fs::create_dir_all(&run_dir)?;
        let manifest =
            json!({"crawl_id": crawl_id, "started_at": fetched_at, "exit_reason": "finished"});
        std::fs::write(run_dir.join("manifest.json"), manifest.to_string())?;
        let mut text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        if i == 2 {
            text.push_str(r#"{"url": "http://news.test/2026/03/half"#);
        }
        std::fs::write(run_dir.join("extracted.jsonl"), text)?;
        let entry = json!({"crawl_id": crawl_id, "group": "articles", "dir": format!("runs/{crawl_id}"),
                           "started_at": fetched_at, "ended_at": fetched_at, "exit_reason": "finished"});
        index.push_str(&format!("{entry}\n"));
    }
    std::fs::write(dir.join("runs.jsonl"), index)
}
