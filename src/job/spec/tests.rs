use super::*;

const EXAMPLE: &str = r#"
timezone = "Europe/Berlin"
[[group]]
name = "front"
cron = "*/15 * * * *"
seeds = "all"
max_hops = 1
[[group]]
name = "articles"
cron = "0 3 * * *"
seeds = ["https://news.example/", "https://news.example/latest/"]
[[group]]
name = "comments"
cron = "0 */6 * * *"
seeds = "recent_articles"
recent_days = 7
max_hops = 0
[[group]]
name = "by-hand"
"#;

#[test]
fn the_documented_example_parses() {
    let spec = JobSpec::parse(EXAMPLE, "job.toml").unwrap();
    assert_eq!(spec.timezone, chrono_tz::Europe::Berlin);
    let names: Vec<&str> = spec.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["front", "articles", "comments", "by-hand"]);
    let front = &spec.groups[0];
    assert_eq!(front.cron_text(), Some("*/15 * * * *"));
    assert_eq!(front.seeds, GroupSeeds::All);
    assert_eq!(front.max_hops, Some(1));
    match &spec.groups[1].seeds {
        GroupSeeds::List(urls) => assert_eq!(urls.len(), 2),
        other => panic!("{other:?}"),
    }
    assert_eq!(spec.groups[1].max_hops, None);
    assert_eq!(spec.groups[2].seeds, GroupSeeds::RecentArticles { days: 7 });
    assert!(
        spec.groups[3].cron.is_none(),
        "no cron: runs only when called"
    );
    assert_eq!(
        spec.groups[3].seeds,
        GroupSeeds::All,
        "seeds default to all"
    );
}

#[test]
fn defaults_utc_and_recent_days() {
    let spec = JobSpec::parse(
        "[[group]]\nname = \"c\"\nseeds = \"recent_articles\"\n",
        "job.toml",
    )
    .unwrap();
    assert_eq!(spec.timezone, Tz::UTC);
    assert_eq!(
        spec.groups[0].seeds,
        GroupSeeds::RecentArticles {
            days: DEFAULT_RECENT_DAYS
        }
    );
}

#[test]
fn every_problem_is_reported_at_once_naming_its_key() {
    let text = r#"
timezone = "Europe/Berln"
schedule = 3
[[group]]
name = "Front Page"
cron = "*/15 * * *"
seeds = "everything"
[[group]]
name = "a"
crons = "0 3 * * *"
seeds = ["ftp://x.example/", "https://ok.example/"]
recent_days = 3
[[group]]
cron = "0 61 * * *"
[[group]]
name = "a"
max_hops = 1
"#;
    let err = JobSpec::parse(text, "job.toml").unwrap_err();
    let msg = err.to_string();
    for needle in [
        // unknown keys, with hints
        "unknown key `schedule` at the top level",
        "unknown key `crons` in [[group]] #2: did you mean `cron`?",
        // values
        "did you mean \"Europe/Berlin\"?",
        "[[group]] #1 (\"Front Page\"): `name`",
        "[[group]] #1 (\"Front Page\"): `cron` = \"*/15 * * *\"",
        "`seeds` = \"everything\"",
        "[[group]] #2 (\"a\"): `seeds`: \"ftp://x.example/\"",
        "`recent_days` applies only to seeds = \"recent_articles\"",
        "[[group]] #3: `name` is missing",
        "[[group]] #3: `cron` = \"0 61 * * *\"",
        "[[group]] #4 (\"a\"): `name` \"a\" is used by an earlier group",
    ] {
        assert!(msg.contains(needle), "{needle:?} missing from:\n{msg}");
    }
    assert!(msg.starts_with("job.toml: 11 problem(s)"), "{msg}");
}

#[test]
fn type_errors_name_the_key() {
    let err =
        JobSpec::parse("[[group]]\nname = \"x\"\nmax_hops = \"one\"\n", "job.toml").unwrap_err();
    assert!(err.to_string().contains("group[0].max_hops"), "{err}");
    let err = JobSpec::parse("[[group]]\nname = \"x\"\nseeds = 3\n", "j").unwrap_err();
    assert!(err.to_string().contains("`seeds` = 3 must be"), "{err}");
}

#[test]
fn a_job_toml_needs_a_group() {
    let err = JobSpec::parse("timezone = \"UTC\"\n", "j").unwrap_err();
    assert!(err.to_string().contains("no [[group]]"), "{err}");
}

#[test]
fn cron_takes_five_or_six_fields_not_seven() {
    assert!(parse_cron("*/15 * * * *").is_ok());
    assert!(parse_cron("30 */15 * * * *").is_ok());
    assert!(parse_cron("0 0 3 * * * 2030").is_err());
    assert!(parse_cron("* * * *").is_err());
}

#[test]
fn choosing_a_group() {
    let spec = JobSpec::parse(EXAMPLE, "job.toml").unwrap();
    assert_eq!(spec.group(Some("comments")).unwrap().name, "comments");
    let err = spec.group(None).unwrap_err();
    assert!(
        err.contains("--group") && err.contains("front, articles"),
        "{err}"
    );
    let err = spec.group(Some("nope")).unwrap_err();
    assert!(err.contains("no group \"nope\""), "{err}");
    let implicit = JobSpec::implicit();
    assert_eq!(implicit.group(None).unwrap().name, DEFAULT_GROUP);
}

#[test]
fn a_missing_job_toml_is_the_implicit_group() {
    let dir = tempfile::tempdir().unwrap();
    let spec = JobSpec::load(dir.path()).unwrap();
    assert_eq!(spec.groups.len(), 1);
    assert_eq!(spec.groups[0].name, DEFAULT_GROUP);
    assert!(spec.groups[0].cron.is_none());
    std::fs::write(dir.path().join(JOB_FILE), "[[group]]\nnam = \"x\"\n").unwrap();
    let err = JobSpec::load(dir.path()).unwrap_err();
    assert!(err.to_string().contains("did you mean `name`?"), "{err}");
}
