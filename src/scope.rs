//! Scope: the one place that decides whether a discovered URL is fetched.
//!
//! A URL is *in scope* when it matches an include rule (by default the seeds' hosts; also
//! configured hosts, domains with their subdomains, URL prefixes and regexes) and no exclude
//! rule. Outlinks must be in scope and within `max_hops`. Page requisites (images, CSS, JS,
//! fonts, media, frames) are fetched even off scope, so that pages replay, unless the config
//! says otherwise; exclude rules still apply to them. A seed that redirects to another host
//! brings that host into scope, as it is the same site under its real name.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::Config;

/// Why a URL was queued (the manifest's `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureKind {
    Seed,
    Outlink,
    Requisite,
    Redirect,
    /// Another page of an article's comments: queued at the article's hop count.
    CommentPage,
    /// A host's robots.txt (see crawl/robots.rs).
    Robots,
    /// A sitemap named by robots.txt or by a sitemap index.
    Sitemap,
}

impl CaptureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CaptureKind::Seed => "seed",
            CaptureKind::Outlink => "outlink",
            CaptureKind::Requisite => "requisite",
            CaptureKind::Redirect => "redirect",
            CaptureKind::CommentPage => "comment_page",
            CaptureKind::Robots => "robots",
            CaptureKind::Sitemap => "sitemap",
        }
    }

    /// The kind named by [`CaptureKind::as_str`].
    pub fn parse(s: &str) -> Option<CaptureKind> {
        [
            CaptureKind::Seed,
            CaptureKind::Outlink,
            CaptureKind::Requisite,
            CaptureKind::Redirect,
            CaptureKind::CommentPage,
            CaptureKind::Robots,
            CaptureKind::Sitemap,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Why a URL was not queued.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Rejection {
    /// An outlink outside the crawl's scope: counted, not fetched.
    OffScope,
    /// More hops from a seed than `crawl.max_hops`.
    TooManyHops,
    /// Matched an exclude rule (named).
    Excluded(&'static str),
}

impl Rejection {
    pub fn reason(&self) -> String {
        match self {
            Rejection::OffScope => "off_scope".into(),
            Rejection::TooManyHops => "max_hops".into(),
            Rejection::Excluded(rule) => format!("excluded_by_{rule}"),
        }
    }
}

pub struct Scope {
    hosts: HashSet<String>,
    domains: Vec<String>,
    prefixes: Vec<String>,
    include_regex: Vec<regex::Regex>,
    exclude_hosts: HashSet<String>,
    exclude_domains: Vec<String>,
    exclude_prefixes: Vec<String>,
    exclude_regex: Vec<regex::Regex>,
    max_hops: u32,
    requisites_off_scope: bool,
}

fn lower_all(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|s| s.trim().trim_start_matches('.').to_ascii_lowercase())
        .collect()
}

fn in_domain(host: &str, domains: &[String]) -> bool {
    domains.iter().any(|d| {
        host == d
            || (host.len() > d.len() && host.ends_with(d.as_str()) && {
                host.as_bytes()[host.len() - d.len() - 1] == b'.'
            })
    })
}

impl Scope {
    pub fn new(config: &Config, seeds: &[Url]) -> Scope {
        let s = &config.raw.scope;
        let mut hosts: HashSet<String> = lower_all(&s.include_hosts).into_iter().collect();
        if s.seed_hosts {
            hosts.extend(seeds.iter().filter_map(|u| u.host_str().map(str::to_owned)));
        }
        Scope {
            hosts,
            domains: lower_all(&s.include_domains),
            prefixes: s.include_prefixes.clone(),
            include_regex: config.include_regex.clone(),
            exclude_hosts: lower_all(&s.exclude_hosts).into_iter().collect(),
            exclude_domains: lower_all(&s.exclude_domains),
            exclude_prefixes: s.exclude_prefixes.clone(),
            exclude_regex: config.exclude_regex.clone(),
            max_hops: config.raw.crawl.max_hops,
            requisites_off_scope: config.raw.crawl.requisites_off_scope,
        }
    }

    /// Bring a host into scope (the target of a seed's redirect).
    pub fn add_host(&mut self, host: &str) {
        self.hosts.insert(host.to_ascii_lowercase());
    }

    fn excluded(&self, url: &Url) -> Option<&'static str> {
        let host = url.host_str().unwrap_or("");
        if self.exclude_hosts.contains(host) {
            return Some("host");
        }
        if in_domain(host, &self.exclude_domains) {
            return Some("domain");
        }
        if self
            .exclude_prefixes
            .iter()
            .any(|p| url.as_str().starts_with(p.as_str()))
        {
            return Some("prefix");
        }
        if self.exclude_regex.iter().any(|r| r.is_match(url.as_str())) {
            return Some("regex");
        }
        None
    }

    fn included(&self, url: &Url) -> bool {
        let host = url.host_str().unwrap_or("");
        self.hosts.contains(host)
            || in_domain(host, &self.domains)
            || self
                .prefixes
                .iter()
                .any(|p| url.as_str().starts_with(p.as_str()))
            || self.include_regex.iter().any(|r| r.is_match(url.as_str()))
    }

    /// Is this URL in scope, ignoring hops and kind?
    pub fn in_scope(&self, url: &Url) -> bool {
        self.included(url) && self.excluded(url).is_none()
    }

    /// Decide a discovered URL. `requisite` is true for page requisites and for redirects
    /// of requisites (they are needed to replay the page that asked for them).
    pub fn check(&self, url: &Url, hops: u32, requisite: bool) -> Result<(), Rejection> {
        if let Some(rule) = self.excluded(url) {
            return Err(Rejection::Excluded(rule));
        }
        if requisite && self.requisites_off_scope {
            return Ok(());
        }
        if !self.included(url) {
            return Err(Rejection::OffScope);
        }
        if hops > self.max_hops {
            return Err(Rejection::TooManyHops);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RawConfig;

    fn scope(toml: &str, seeds: &[&str]) -> Scope {
        let cfg = RawConfig::parse(toml, "t").unwrap().validate("t").unwrap();
        let seeds: Vec<Url> = seeds.iter().map(|s| Url::parse(s).unwrap()).collect();
        Scope::new(&cfg, &seeds)
    }

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn seed_hosts_are_the_default_scope() {
        let s = scope("[crawl]\nmax_hops = 2", &["https://news.example/"]);
        assert_eq!(s.check(&u("https://news.example/a"), 1, false), Ok(()));
        assert_eq!(
            s.check(&u("https://news.example/a"), 3, false),
            Err(Rejection::TooManyHops)
        );
        assert_eq!(
            s.check(&u("https://other.example/"), 1, false),
            Err(Rejection::OffScope)
        );
        assert_eq!(
            s.check(&u("https://sub.news.example/"), 1, false),
            Err(Rejection::OffScope)
        );
        // Requisites are fetched off scope and past the hop limit of outlinks.
        assert_eq!(s.check(&u("https://cdn.example/a.css"), 2, true), Ok(()));
    }

    #[test]
    fn include_and_exclude_rules() {
        let s = scope(
            r#"
            [scope]
            seed_hosts = false
            include_domains = ["example.org"]
            include_prefixes = ["https://blog.example/2024/"]
            include_regex = ['^https://x\.example/p/\d+$']
            exclude_hosts = ["ads.example.org"]
            exclude_prefixes = ["https://example.org/private/"]
            exclude_regex = ['\.pdf$']
            "#,
            &["https://seed.example/"],
        );
        assert!(s.in_scope(&u("https://www.example.org/")));
        assert!(s.in_scope(&u("https://example.org/")));
        assert!(!s.in_scope(&u("https://badexample.org/")));
        assert!(!s.in_scope(&u("https://seed.example/")));
        assert!(s.in_scope(&u("https://blog.example/2024/post")));
        assert!(!s.in_scope(&u("https://blog.example/2023/post")));
        assert!(s.in_scope(&u("https://x.example/p/12")));
        assert_eq!(
            s.check(&u("https://ads.example.org/x.js"), 0, true),
            Err(Rejection::Excluded("host"))
        );
        assert_eq!(
            s.check(&u("https://example.org/private/a"), 0, false),
            Err(Rejection::Excluded("prefix"))
        );
        assert_eq!(
            s.check(&u("https://example.org/a.pdf"), 0, false),
            Err(Rejection::Excluded("regex"))
        );
    }

    #[test]
    fn requisites_can_be_kept_in_scope() {
        let s = scope(
            "[crawl]\nrequisites_off_scope = false",
            &["https://a.example/"],
        );
        assert_eq!(
            s.check(&u("https://cdn.example/x.png"), 0, true),
            Err(Rejection::OffScope)
        );
    }

    #[test]
    fn redirect_of_a_seed_adds_its_host() {
        let mut s = scope("", &["http://example.com/"]);
        assert!(!s.in_scope(&u("https://www.example.com/")));
        s.add_host("WWW.example.com");
        assert!(s.in_scope(&u("https://www.example.com/")));
    }
}
