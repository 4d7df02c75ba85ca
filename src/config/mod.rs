//! Config: what a crawl is, read from TOML and validated before anything starts.
//!
//! Two phases, as in ripgrep and Vector: [`RawConfig`] is what serde reads (every key optional,
//! defaults filled in), [`RawConfig::validate`] turns it into a [`Config`] or returns **every**
//! problem at once. Unknown keys are collected with `serde_ignored` instead of
//! `deny_unknown_fields`, which would stop at the first one. Every key is documented, with its
//! default, in `config/default.toml`; a test keeps the two in step.

use std::path::Path;
use std::time::Duration;

use crate::fetch::{FetchSettings, FetcherKind};

mod sections;
pub use sections::*;

/// Every problem found in a config file, reported together.
#[derive(Debug, thiserror::Error)]
#[error("{}", render_problems(.source_name, .problems))]
pub struct ConfigError {
    pub source_name: String,
    pub problems: Vec<String>,
}

fn render_problems(source: &str, problems: &[String]) -> String {
    let mut out = format!("{source}: {} problem(s) in the config:", problems.len());
    for p in problems {
        out.push_str("\n  - ");
        out.push_str(p);
    }
    out
}

/// A validated config: what the crawl will use.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config as read, with defaults filled in (written to the manifest).
    pub raw: RawConfig,
    pub fetch: FetchSettings,
    pub include_regex: Vec<regex::Regex>,
    pub exclude_regex: Vec<regex::Regex>,
}

/// Top-level keys and each section's keys, for "did you mean" hints.
const KNOWN_KEYS: &[(&str, &[&str])] = &[
    (
        "crawl",
        &[
            "max_hops",
            "max_pages",
            "requisites_off_scope",
            "max_bytes",
            "max_duration_secs",
            "max_per_host",
            "max_url_length",
            "sitemaps",
        ],
    ),
    (
        "scope",
        &[
            "include_hosts",
            "include_domains",
            "include_prefixes",
            "include_regex",
            "exclude_hosts",
            "exclude_domains",
            "exclude_prefixes",
            "exclude_regex",
            "seed_hosts",
        ],
    ),
    (
        "politeness",
        &[
            "requests_per_second",
            "burst",
            "max_connections_per_host",
            "max_connections",
            "user_agent",
            "contact_url",
            "robots",
        ],
    ),
    (
        "fetch",
        &[
            "fetcher",
            "connect_timeout_secs",
            "timeout_secs",
            "max_body_bytes",
            "extra_ca_files",
            "proxy",
            "allow_private_addresses",
        ],
    ),
    (
        "warc",
        &[
            "prefix",
            "rollover_bytes",
            "compression_level",
            "revisits",
            "revisit_min_bytes",
        ],
    ),
    (
        "retry",
        &[
            "max_attempts",
            "base_delay_secs",
            "max_delay_secs",
            "max_retry_after_secs",
            "host_give_up_after",
        ],
    ),
    (
        "traps",
        &[
            "max_segment_repeats",
            "max_path_depth",
            "max_query_params",
            "calendar_years_back",
            "calendar_years_ahead",
            "max_page_number",
            "reject_params",
            "session_params",
            "ignore_params",
        ],
    ),
];

fn unknown_key_hint(path: &str) -> String {
    let (section, key) = path.split_once('.').unwrap_or(("", path));
    let candidates: Vec<&str> = if section.is_empty() {
        KNOWN_KEYS.iter().map(|(s, _)| *s).collect()
    } else {
        KNOWN_KEYS
            .iter()
            .find(|(s, _)| *s == section)
            .map(|(_, keys)| keys.to_vec())
            .unwrap_or_default()
    };
    let best = candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(c, key), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, c)) if section.is_empty() => {
            format!("unknown key `{path}`: did you mean `[{c}]`? (see config/default.toml)")
        }
        Some((_, c)) => {
            format!("unknown key `{path}`: did you mean `{section}.{c}`? (see config/default.toml)")
        }
        None => format!("unknown key `{path}`: remove it (config/default.toml lists every key)"),
    }
}

impl RawConfig {
    /// Parse TOML text; unknown keys and type errors are problems, not panics.
    pub fn parse(text: &str, source_name: &str) -> Result<RawConfig, ConfigError> {
        let mut unknown = Vec::new();
        let de = toml::Deserializer::parse(text).map_err(|e| ConfigError {
            source_name: source_name.to_string(),
            problems: vec![format!("not valid TOML: {}", e.message())],
        })?;
        // serde_ignored collects unknown keys; serde_path_to_error names the key of a type error.
        let parsed: Result<RawConfig, _> = serde_path_to_error::deserialize(
            serde_ignored::Deserializer::new(de, &mut |path: serde_ignored::Path| {
                unknown.push(path.to_string())
            }),
        );
        let mut problems: Vec<String> = unknown.iter().map(|p| unknown_key_hint(p)).collect();
        match parsed {
            Ok(raw) if problems.is_empty() => Ok(raw),
            Ok(_) => Err(ConfigError {
                source_name: source_name.to_string(),
                problems,
            }),
            Err(e) => {
                problems.push(format!(
                    "`{}`: {} (see config/default.toml for the expected type)",
                    e.path(),
                    e.inner().message()
                ));
                Err(ConfigError {
                    source_name: source_name.to_string(),
                    problems,
                })
            }
        }
    }

    /// Read and parse a config file.
    pub fn load(path: &Path) -> Result<RawConfig, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            source_name: name.clone(),
            problems: vec![format!("cannot read the file: {e}")],
        })?;
        Self::parse(&text, &name)
    }

    /// Check every value; return all problems at once.
    pub fn validate(self, source_name: &str) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let p = &self.politeness;
        if !(p.requests_per_second >= 0.0 && p.requests_per_second.is_finite()) {
            problems.push(
                "`politeness.requests_per_second` must be a number ≥ 0 (0 means no limit)".into(),
            );
        }
        if p.burst == 0 {
            problems.push("`politeness.burst` must be at least 1".into());
        }
        if p.max_connections_per_host == 0 {
            problems.push("`politeness.max_connections_per_host` must be at least 1".into());
        }
        if p.max_connections == 0 {
            problems.push("`politeness.max_connections` must be at least 1".into());
        }
        if p.user_agent.trim().is_empty() || p.user_agent.contains(['\r', '\n']) {
            problems.push(
                "`politeness.user_agent` must be a non-empty single line, e.g. \"warcrow/0.1\""
                    .into(),
            );
        }
        match url::Url::parse(&p.contact_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https" | "mailto") => {}
            _ => problems.push(format!(
                "`politeness.contact_url` = {:?} is not an http(s) or mailto URL: give a page \
                 where site owners can reach you",
                p.contact_url
            )),
        }
        let f = &self.fetch;
        for (key, v) in [
            ("connect_timeout_secs", f.connect_timeout_secs),
            ("timeout_secs", f.timeout_secs),
        ] {
            if !(v > 0.0 && v.is_finite() && v < 86_400.0) {
                problems.push(format!(
                    "`fetch.{key}` must be a number of seconds > 0 (and under a day)"
                ));
            }
        }
        if f.max_body_bytes == 0 {
            problems.push("`fetch.max_body_bytes` must be at least 1".into());
        }
        let mut extra_ca_pem = Vec::new();
        for ca in &f.extra_ca_files {
            match std::fs::read(ca) {
                Ok(bytes) => extra_ca_pem.push(bytes),
                Err(e) => problems.push(format!(
                    "`fetch.extra_ca_files`: cannot read {}: {e}",
                    ca.display()
                )),
            }
        }
        if let Some(proxy) = &f.proxy {
            match url::Url::parse(proxy) {
                Ok(u) if matches!(u.scheme(), "http" | "https" | "socks5" | "socks5h") => {
                    if f.fetcher != FetcherKind::Reqwest {
                        problems.push(
                            "`fetch.proxy` needs `fetch.fetcher = \"reqwest\"` (the wire fetcher \
                             connects directly)"
                                .into(),
                        );
                    }
                }
                _ => problems.push(format!(
                    "`fetch.proxy` = {proxy:?} is not an http://, https:// or socks5:// URL"
                )),
            }
        }
        let w = &self.warc;
        if w.prefix.is_empty()
            || !w
                .prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            problems.push(format!(
                "`warc.prefix` = {:?} must be non-empty and use only letters, digits, '-', '_' or '.'",
                w.prefix
            ));
        }
        if w.rollover_bytes < 64 * 1024 {
            problems.push("`warc.rollover_bytes` must be at least 65536 (64 KiB)".into());
        }
        if !(1..=9).contains(&w.compression_level) {
            problems.push("`warc.compression_level` must be between 1 and 9".into());
        }
        let c = &self.crawl;
        if !(c.max_duration_secs >= 0.0 && c.max_duration_secs.is_finite()) {
            problems.push(
                "`crawl.max_duration_secs` must be a number of seconds ≥ 0 (0 = no limit)".into(),
            );
        }
        if c.max_url_length < 16 {
            problems.push("`crawl.max_url_length` must be at least 16".into());
        }
        let r = &self.retry;
        if r.max_attempts == 0 {
            problems.push("`retry.max_attempts` must be at least 1 (1 = no retries)".into());
        }
        for (key, v) in [
            ("base_delay_secs", r.base_delay_secs),
            ("max_delay_secs", r.max_delay_secs),
            ("max_retry_after_secs", r.max_retry_after_secs),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                problems.push(format!("`retry.{key}` must be a number of seconds ≥ 0"));
            }
        }
        if r.max_delay_secs < r.base_delay_secs {
            problems.push("`retry.max_delay_secs` must be at least `retry.base_delay_secs`".into());
        }
        if r.host_give_up_after == 0 {
            problems.push("`retry.host_give_up_after` must be at least 1".into());
        }
        let t = &self.traps;
        if t.max_segment_repeats == 0 || t.max_path_depth == 0 {
            problems.push(
                "`traps.max_segment_repeats` and `traps.max_path_depth` must be at least 1".into(),
            );
        }
        let s = &self.scope;
        let include_regex = compile_all("scope.include_regex", &s.include_regex, &mut problems);
        let exclude_regex = compile_all("scope.exclude_regex", &s.exclude_regex, &mut problems);
        for (key, prefixes) in [
            ("include_prefixes", &s.include_prefixes),
            ("exclude_prefixes", &s.exclude_prefixes),
        ] {
            for prefix in prefixes {
                if url::Url::parse(prefix).is_err() {
                    problems.push(format!(
                        "`scope.{key}`: {prefix:?} is not an absolute URL (write it as \
                         \"https://host/path/\")"
                    ));
                }
            }
        }
        if !problems.is_empty() {
            return Err(ConfigError {
                source_name: source_name.to_string(),
                problems,
            });
        }
        let fetch = FetchSettings {
            user_agent: format!("{} (+{})", p.user_agent.trim(), p.contact_url),
            connect_timeout: Duration::from_secs_f64(f.connect_timeout_secs),
            total_timeout: Duration::from_secs_f64(f.timeout_secs),
            max_body_bytes: f.max_body_bytes,
            extra_ca_pem,
            proxy: f.proxy.clone(),
            pool_idle_per_host: p.max_connections_per_host,
            // Needs the seeds' addresses (async lookups): the crawl sets it from
            // `fetch.allow_private_addresses` and `fetch::seed_addresses`.
            address_policy: crate::fetch::AddressPolicy::AllowAll,
        };
        Ok(Config {
            raw: self,
            fetch,
            include_regex,
            exclude_regex,
        })
    }
}

fn compile_all(key: &str, patterns: &[String], problems: &mut Vec<String>) -> Vec<regex::Regex> {
    patterns
        .iter()
        .filter_map(|p| match regex::Regex::new(p) {
            Ok(r) => Some(r),
            Err(e) => {
                problems.push(format!("`{key}`: {p:?} is not a valid regex: {e}"));
                None
            }
        })
        .collect()
}

impl Config {
    /// Load, parse and validate a config file, or use the defaults when `path` is None.
    pub fn from_file(path: Option<&Path>) -> Result<Config, ConfigError> {
        match path {
            Some(path) => RawConfig::load(path)?.validate(&path.display().to_string()),
            None => RawConfig::default().validate("built-in defaults"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let cfg = RawConfig::default().validate("defaults").unwrap();
        assert!(cfg.fetch.user_agent.starts_with("warcrow/"));
        assert!(cfg.fetch.user_agent.contains("(+https://"));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = r#"
            [politeness]
            requests_per_secnd = 2
            max_connections = 0
            contact_url = "nope"
            [warc]
            compression_level = 12
            [scope]
            include_regex = ["("]
            [bogus]
            x = 1
        "#;
        // Unknown keys are found in the parse phase.
        let err = RawConfig::parse(text, "t.toml").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("politeness.requests_per_secnd") && msg.contains("requests_per_second"),
            "{msg}"
        );
        assert!(msg.contains("unknown key `bogus`"), "{msg}");
        // Values are checked in the validate phase, all together.
        let fixed = text
            .replace("requests_per_secnd", "requests_per_second")
            .replace("[bogus]\n            x = 1", "");
        let err = RawConfig::parse(&fixed, "t.toml")
            .unwrap()
            .validate("t.toml")
            .unwrap_err();
        assert_eq!(err.problems.len(), 4, "{err}");
        let msg = err.to_string();
        for key in [
            "politeness.max_connections",
            "politeness.contact_url",
            "warc.compression_level",
            "scope.include_regex",
        ] {
            assert!(msg.contains(key), "{key} missing from {msg}");
        }
    }

    #[test]
    fn type_errors_name_the_key() {
        let err = RawConfig::parse("[crawl]\nmax_hops = \"three\"\n", "t.toml").unwrap_err();
        assert!(err.to_string().contains("max_hops"), "{err}");
    }

    #[test]
    fn shipped_configs_are_valid_and_document_every_key() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        for name in ["default.toml", "demo.toml", "bench.toml"] {
            let raw = RawConfig::load(&dir.join(name)).unwrap();
            raw.validate(name).unwrap();
        }
        let default_text = std::fs::read_to_string(dir.join("default.toml")).unwrap();
        for (section, keys) in KNOWN_KEYS {
            assert!(
                default_text.contains(&format!("[{section}]")),
                "[{section}]"
            );
            for key in *keys {
                assert!(
                    default_text.contains(&format!("\n{key} ="))
                        || default_text.contains(&format!("\n# {key} =")),
                    "config/default.toml does not document {section}.{key}"
                );
            }
        }
    }
}
