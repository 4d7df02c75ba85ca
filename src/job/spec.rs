//! `JOBDIR/job.toml`: what a job crawls and when, as seed groups with their schedules.
//!
//! ```toml
//! # Time zone of every cron expression (IANA name); default "UTC".
//! timezone = "Europe/Berlin"
//! [[group]]
//! name = "front"          # unique, [a-z0-9_-]+ (it names lock files and runs.jsonl entries)
//! cron = "*/15 * * * *"   # croner syntax, 5 fields (or 6 with seconds first); optional:
//!                         # a group without one runs only when called (`crawl --job --group`)
//! seeds = "all"           # "all": JOBDIR/seeds.txt; "recent_articles"; or a list of URLs
//! max_hops = 1            # replaces crawl.max_hops of config.toml for this group's runs
//! [[group]]
//! name = "comments"
//! cron = "0 */6 * * *"
//! seeds = "recent_articles"  # articles earlier runs found, published within recent_days
//! recent_days = 7            # only with "recent_articles"; default 7
//! max_hops = 0
//! ```
//!
//! Read in the crawl config's way (see `config/mod.rs`): unknown keys are collected with a
//! "did you mean" hint, and every problem, unknown keys and bad values alike, is reported at
//! once, each naming its key. Without a job.toml a job has one group, [`DEFAULT_GROUP`]:
//! seeds "all", no schedule.

use std::path::Path;
use std::str::FromStr;

use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use serde::Deserialize;
use url::Url;

pub const JOB_FILE: &str = "job.toml";
/// The one group of a job that has no job.toml.
pub const DEFAULT_GROUP: &str = "default";
/// `recent_days` when a "recent_articles" group leaves it out.
const DEFAULT_RECENT_DAYS: u32 = 7;

/// Every problem found in a job.toml, reported together.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {} problem(s) in the job file:\n  - {}", .problems.len(), .problems.join("\n  - "))]
pub struct SpecError {
    pub source_name: String,
    pub problems: Vec<String>,
}

/// A validated job.toml.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The zone every group's cron expression is read in.
    pub timezone: Tz,
    /// In file order; names are unique.
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    /// `None`: the group runs only when called.
    pub cron: Option<Cron>,
    pub seeds: GroupSeeds,
    /// Replaces `crawl.max_hops` for this group's runs.
    pub max_hops: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupSeeds {
    /// The job's seeds.txt.
    All,
    /// The articles earlier runs extracted whose publication date is within `days`.
    RecentArticles { days: u32 },
    /// These URLs (canonical, as `seeds::collect` gives them).
    List(Vec<Url>),
}

impl Group {
    /// The cron expression as written, for messages.
    pub fn cron_text(&self) -> Option<&str> {
        self.cron.as_ref().map(|c| c.pattern.as_str())
    }
}

#[derive(Debug, Default, Deserialize)]
struct RawSpec {
    timezone: Option<String>,
    #[serde(default)]
    group: Vec<RawGroup>,
}

#[derive(Debug, Deserialize)]
struct RawGroup {
    name: Option<String>,
    cron: Option<String>,
    /// A string or a list: told apart in `validate`, with a message naming the key.
    seeds: Option<toml::Value>,
    max_hops: Option<u32>,
    recent_days: Option<u32>,
}

const TOP_KEYS: &[&str] = &["timezone", "group"];
const GROUP_KEYS: &[&str] = &["name", "cron", "seeds", "max_hops", "recent_days"];

impl JobSpec {
    /// The spec of a job without job.toml.
    pub fn implicit() -> JobSpec {
        JobSpec {
            timezone: Tz::UTC,
            groups: vec![Group {
                name: DEFAULT_GROUP.into(),
                cron: None,
                seeds: GroupSeeds::All,
                max_hops: None,
            }],
        }
    }

    /// `JOBDIR/job.toml`, or [`JobSpec::implicit`] when there is none.
    pub fn load(job_dir: &Path) -> Result<JobSpec, SpecError> {
        let path = job_dir.join(JOB_FILE);
        let name = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => JobSpec::parse(&text, &name),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(JobSpec::implicit()),
            Err(e) => Err(SpecError {
                source_name: name,
                problems: vec![format!("cannot read the file: {e}")],
            }),
        }
    }

    /// Parse and validate job.toml text; every problem at once.
    pub fn parse(text: &str, source_name: &str) -> Result<JobSpec, SpecError> {
        let fail = |problems| SpecError {
            source_name: source_name.to_string(),
            problems,
        };
        let de = toml::Deserializer::parse(text)
            .map_err(|e| fail(vec![format!("not valid TOML: {}", e.message())]))?;
        let mut unknown = Vec::new();
        let parsed: Result<RawSpec, _> = serde_path_to_error::deserialize(
            serde_ignored::Deserializer::new(de, &mut |path: serde_ignored::Path| {
                unknown.push(path.to_string())
            }),
        );
        let mut problems: Vec<String> = unknown.iter().map(|p| unknown_key_hint(p)).collect();
        let raw = match parsed {
            Ok(raw) => raw,
            Err(e) => {
                problems.push(format!(
                    "`{}`: {} (see the job.toml format in the README)",
                    e.path(),
                    e.inner().message()
                ));
                return Err(fail(problems));
            }
        };
        match raw.validate(&mut problems) {
            Some(spec) if problems.is_empty() => Ok(spec),
            _ => Err(fail(problems)),
        }
    }

    /// The group a run is for: the one named, or the only one when none is named.
    pub fn group(&self, name: Option<&str>) -> Result<&Group, String> {
        let names = || {
            self.groups
                .iter()
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match name {
            Some(name) => self.groups.iter().find(|g| g.name == name).ok_or_else(|| {
                format!(
                    "the job has no group {name:?}; its groups are: {} (see {JOB_FILE})",
                    names()
                )
            }),
            None if self.groups.len() == 1 => Ok(&self.groups[0]),
            None => Err(format!(
                "the job has several groups ({}): choose one with --group NAME",
                names()
            )),
        }
    }
}

/// `group.1.crons` → a message naming the key as a person counts groups, with a hint.
fn unknown_key_hint(path: &str) -> String {
    let mut parts = path.splitn(3, '.');
    let (first, second, third) = (parts.next(), parts.next(), parts.next());
    let (place, key, candidates) = match (first, second, third) {
        (Some("group"), Some(index), Some(key)) => {
            let n = index.parse::<usize>().map_or(0, |i| i + 1);
            (format!("in [[group]] #{n}"), key, GROUP_KEYS)
        }
        _ => ("at the top level".to_string(), path, TOP_KEYS),
    };
    let best = candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(c, key), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, c)) => format!("unknown key `{key}` {place}: did you mean `{c}`?"),
        None => format!(
            "unknown key `{key}` {place}: remove it (the keys are {})",
            candidates.join(", ")
        ),
    }
}

/// The IANA zone of `name`, or a message with the closest names.
fn parse_timezone(name: &str) -> Result<Tz, String> {
    if let Ok(tz) = Tz::from_str(name) {
        return Ok(tz);
    }
    let best = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| {
            (
                strsim::jaro_winkler(&tz.name().to_lowercase(), &name.to_lowercase()),
                tz,
            )
        })
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let hint = match best {
        Some((_, tz)) => format!("did you mean {:?}?", tz.name()),
        None => "use an IANA name such as \"UTC\" or \"Europe/Berlin\"".into(),
    };
    Err(format!(
        "`timezone` = {name:?} is not a known time zone: {hint}"
    ))
}

/// 5 fields, or 6 with seconds first; no year field, which croner would otherwise take.
pub fn parse_cron(text: &str) -> Result<Cron, croner::errors::CronError> {
    CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build()
        .parse(text)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl RawSpec {
    /// Every bad value goes to `problems`; the spec is whole only when none was found.
    fn validate(self, problems: &mut Vec<String>) -> Option<JobSpec> {
        let timezone = match self.timezone.as_deref() {
            None => Tz::UTC,
            Some(name) => parse_timezone(name).unwrap_or_else(|p| {
                problems.push(p);
                Tz::UTC
            }),
        };
        if self.group.is_empty() {
            problems.push(
                "no [[group]]: add at least one (or delete job.toml for the one implicit group \
                 \"default\" crawling seeds.txt)"
                    .into(),
            );
        }
        let mut groups: Vec<Group> = Vec::new();
        // Every name so far, valid groups or not, so a duplicate is found either way.
        let mut names: Vec<String> = Vec::new();
        for (i, g) in self.group.into_iter().enumerate() {
            let label = match &g.name {
                Some(name) => format!("[[group]] #{} ({name:?})", i + 1),
                None => format!("[[group]] #{}", i + 1),
            };
            if let Some(name) = &g.name {
                if names.contains(name) {
                    problems.push(format!(
                        "{label}: `name` {name:?} is used by an earlier group; names must be unique"
                    ));
                }
                names.push(name.clone());
            }
            groups.extend(g.validate(&label, problems));
        }
        Some(JobSpec { timezone, groups })
    }
}

impl RawGroup {
    fn validate(self, label: &str, problems: &mut Vec<String>) -> Option<Group> {
        let before = problems.len();
        let name = match self.name {
            Some(name) if valid_name(&name) => name,
            Some(name) => {
                problems.push(format!(
                    "{label}: `name` {name:?} must be 1 to 64 of a-z, 0-9, '_' and '-' (it names \
                     the group's lock file)"
                ));
                name
            }
            None => {
                problems.push(format!("{label}: `name` is missing, e.g. name = \"front\""));
                String::new()
            }
        };
        let cron = self
            .cron
            .as_deref()
            .and_then(|text| match parse_cron(text) {
                Ok(cron) => Some(cron),
                Err(e) => {
                    problems.push(format!(
                        "{label}: `cron` = {text:?} is not a cron expression ({e}); write 5 fields \
                     \"minute hour day-of-month month day-of-week\", e.g. \"*/15 * * * *\""
                    ));
                    None
                }
            });
        let seeds = group_seeds(self.seeds, self.recent_days, label, problems);
        (problems.len() == before).then_some(Group {
            name,
            cron,
            seeds: seeds?,
            max_hops: self.max_hops,
        })
    }
}

fn group_seeds(
    value: Option<toml::Value>,
    recent_days: Option<u32>,
    label: &str,
    problems: &mut Vec<String>,
) -> Option<GroupSeeds> {
    let seeds = match value {
        None => Some(GroupSeeds::All),
        Some(toml::Value::String(s)) if s == "all" => Some(GroupSeeds::All),
        Some(toml::Value::String(s)) if s == "recent_articles" => {
            let days = recent_days.unwrap_or(DEFAULT_RECENT_DAYS);
            if days == 0 {
                problems.push(format!("{label}: `recent_days` must be at least 1"));
            }
            Some(GroupSeeds::RecentArticles { days })
        }
        Some(toml::Value::Array(items)) => {
            let mut urls = Vec::new();
            for item in &items {
                match item {
                    toml::Value::String(s) => urls.push(s.clone()),
                    other => problems.push(format!(
                        "{label}: `seeds` lists {other}, which is not a URL string"
                    )),
                }
            }
            match crate::seeds::collect(&urls, &[] as &[&Path]) {
                Ok(list) => Some(GroupSeeds::List(list)),
                Err(e) => {
                    for p in e.0 {
                        let p = p.strip_prefix("argument: ").unwrap_or(&p);
                        problems.push(format!("{label}: `seeds`: {p}"));
                    }
                    None
                }
            }
        }
        Some(other) => {
            problems.push(format!(
                "{label}: `seeds` = {other} must be \"all\", \"recent_articles\" or a list of URLs"
            ));
            None
        }
    };
    if recent_days.is_some() && !matches!(seeds, Some(GroupSeeds::RecentArticles { .. })) {
        problems.push(format!(
            "{label}: `recent_days` applies only to seeds = \"recent_articles\"; remove it"
        ));
    }
    seeds
}

#[cfg(test)]
mod tests;
