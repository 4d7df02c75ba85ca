//! The `warcrow` binary as a user meets it: help, errors, exit codes, and the demo.

mod support;

use std::process::Command;

fn warcrow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_warcrow"))
}

#[test]
fn help_lists_the_subcommands() {
    let out = warcrow().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["crawl", "demo"] {
        assert!(text.contains(cmd), "{text}");
    }
    let out = warcrow().args(["crawl", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in ["--seeds", "--config", "--out"] {
        assert!(text.contains(flag), "{text}");
    }
}

#[test]
fn bad_config_and_seeds_are_one_readable_message() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "[politeness]\nrequests_per_secnd = 3\n[warc]\ncompression_level = 0\n",
    )
    .unwrap();
    let seeds = dir.path().join("seeds.txt");
    std::fs::write(&seeds, "https://ok.example/\nftp://nope.example/\n").unwrap();
    let out = warcrow()
        .args(["crawl", "--config"])
        .arg(&cfg)
        .arg("--seeds")
        .arg(&seeds)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("politeness.requests_per_secnd"), "{err}");
    assert!(
        err.contains("did you mean `politeness.requests_per_second`"),
        "{err}"
    );
    assert!(err.contains("seeds.txt:2"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        !dir.path().join("out").exists(),
        "nothing starts before the config is valid"
    );
}

#[test]
fn demo_crawl_writes_warcs_that_warcio_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("demo");
    let out = warcrow()
        .args(["demo", "--quiet", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("manifest.json"), "{stdout}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["exit_reason"], "finished");
    // Every page of the demo site is listed.
    let caps = std::fs::read_to_string(out_dir.join("captures.jsonl")).unwrap();
    let paths: std::collections::BTreeSet<String> = caps
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let u = url::Url::parse(v["url"].as_str().unwrap()).unwrap();
            match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_string(),
            }
        })
        .collect();
    // WordPress `?replytocom=` links repeat an article once per comment: the default trap
    // rules leave them out, and count them.
    let (traps, pages): (Vec<_>, Vec<_>) = warcrow::demo::expected_paths()
        .into_iter()
        .partition(|p| p.contains("replytocom="));
    for p in pages {
        assert!(paths.contains(&p.to_string()), "demo page {p} not captured");
    }
    assert!(!traps.is_empty());
    assert!(paths.iter().all(|p| !p.contains("replytocom=")));
    assert_eq!(
        manifest["counts"]["rejected"]["trap:reject_param"],
        traps.len() as u64
    );
    support::check_warcs(&out_dir);

    // A second crawl into the same folder is refused before it starts, leaving it as it was.
    let before = std::fs::read(out_dir.join("captures.jsonl")).unwrap();
    let again = warcrow()
        .args(["demo", "--quiet", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("already holds a crawl"), "{err}");
    assert_eq!(
        std::fs::read(out_dir.join("captures.jsonl")).unwrap(),
        before
    );
}
