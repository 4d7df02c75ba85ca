//! The sections of a config file as serde reads them, each with its defaults. Every key is
//! documented in `config/default.toml`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::fetch::FetcherKind;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct RawConfig {
    pub crawl: CrawlSection,
    pub scope: ScopeSection,
    pub politeness: PolitenessSection,
    pub fetch: FetchSection,
    pub warc: WarcSection,
    pub retry: RetrySection,
    pub traps: TrapsSection,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct CrawlSection {
    /// Links followed from a seed: outlinks add one hop; requisites and redirects keep it.
    pub max_hops: u32,
    /// Stop after this many captures (0 = no limit).
    pub max_pages: u64,
    /// Fetch images, CSS, JS, fonts and media of in-scope pages even when they are off-scope.
    pub requisites_off_scope: bool,
    /// Stop once this many payload bytes were archived (0 = no limit).
    pub max_bytes: u64,
    /// Stop after this many seconds of crawling (0 = no limit).
    pub max_duration_secs: f64,
    /// Fetch at most this many URLs of one host (0 = no limit).
    pub max_per_host: u64,
    /// URLs longer than this are not queued.
    pub max_url_length: usize,
    /// Queue the URLs of the sitemaps that robots.txt names (and of sitemap indexes).
    pub sitemaps: bool,
}

impl Default for CrawlSection {
    fn default() -> Self {
        CrawlSection {
            max_hops: 3,
            max_pages: 0,
            requisites_off_scope: true,
            max_bytes: 0,
            max_duration_secs: 0.0,
            max_per_host: 0,
            max_url_length: 2048,
            sitemaps: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ScopeSection {
    /// In scope besides the seeds' hosts: exact host names.
    pub include_hosts: Vec<String>,
    /// In scope: these domains and all their subdomains.
    pub include_domains: Vec<String>,
    /// In scope: URLs starting with one of these.
    pub include_prefixes: Vec<String>,
    /// In scope: URLs matching one of these regular expressions.
    pub include_regex: Vec<String>,
    pub exclude_hosts: Vec<String>,
    pub exclude_domains: Vec<String>,
    pub exclude_prefixes: Vec<String>,
    pub exclude_regex: Vec<String>,
    /// The seeds' hosts are in scope (false: only what the include rules name).
    pub seed_hosts: bool,
}

impl Default for ScopeSection {
    fn default() -> Self {
        ScopeSection {
            include_hosts: Vec::new(),
            include_domains: Vec::new(),
            include_prefixes: Vec::new(),
            include_regex: Vec::new(),
            exclude_hosts: Vec::new(),
            exclude_domains: Vec::new(),
            exclude_prefixes: Vec::new(),
            exclude_regex: Vec::new(),
            seed_hosts: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct PolitenessSection {
    /// Requests per second to one host (0 = no limit).
    pub requests_per_second: f64,
    /// Requests a host may get at once after being idle (governor's burst).
    pub burst: u32,
    /// Requests in flight to one host at a time.
    pub max_connections_per_host: usize,
    /// Requests in flight in all.
    pub max_connections: usize,
    /// Product token of the User-Agent.
    pub user_agent: String,
    /// Where a site owner can learn about the crawl and reach its operator.
    pub contact_url: String,
    /// Follow each host's robots.txt ("obey") or not ("ignore").
    pub robots: RobotsMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RobotsMode {
    Obey,
    Ignore,
}

impl Default for PolitenessSection {
    fn default() -> Self {
        PolitenessSection {
            requests_per_second: 1.0,
            burst: 1,
            max_connections_per_host: 2,
            max_connections: 32,
            user_agent: format!("warcrow/{}", env!("CARGO_PKG_VERSION")),
            contact_url: "https://github.com/warcrow/warcrow#contact".to_string(),
            robots: RobotsMode::Obey,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct FetchSection {
    /// "wire" (exact bytes, HTTP/1.1) or "reqwest" (HTTP/2, proxies; records rebuilt).
    pub fetcher: FetcherKind,
    pub connect_timeout_secs: f64,
    pub timeout_secs: f64,
    pub max_body_bytes: u64,
    /// PEM files of extra CA certificates to trust.
    pub extra_ca_files: Vec<PathBuf>,
    /// http://, https:// or socks5:// proxy (reqwest fetcher only).
    pub proxy: Option<String>,
    /// Fetch from loopback, private, link-local and unspecified addresses even when no seed is
    /// on that address.
    pub allow_private_addresses: bool,
}

impl Default for FetchSection {
    fn default() -> Self {
        FetchSection {
            fetcher: FetcherKind::Wire,
            connect_timeout_secs: 10.0,
            timeout_secs: 60.0,
            max_body_bytes: 256 * 1024 * 1024,
            extra_ca_files: Vec::new(),
            proxy: None,
            allow_private_addresses: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct WarcSection {
    /// File names are `<prefix>-<timestamp>-<serial>.warc.gz`.
    pub prefix: String,
    /// Start a new file once the current one reaches this size.
    pub rollover_bytes: u64,
    /// gzip level of each record (1 fastest, 9 smallest).
    pub compression_level: u32,
    /// Write a repeated payload as a `revisit` record pointing at its first capture.
    pub revisits: bool,
    /// Bodies smaller than this are stored again in full rather than as revisits.
    pub revisit_min_bytes: u64,
}

impl Default for WarcSection {
    fn default() -> Self {
        WarcSection {
            prefix: "warcrow".to_string(),
            rollover_bytes: 1_000_000_000,
            compression_level: 1,
            revisits: true,
            revisit_min_bytes: 256,
        }
    }
}

/// Retries of failed fetches, and backing off from hosts that fail.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct RetrySection {
    /// Tries per URL in all (1 = no retry) for network errors, 5xx, 429.
    pub max_attempts: u32,
    /// Delay before the first retry; doubled for each further one, with jitter.
    pub base_delay_secs: f64,
    /// The longest delay between two tries of a URL, and the most a host is backed off.
    pub max_delay_secs: f64,
    /// A Retry-After longer than this gives the URL up instead of waiting.
    pub max_retry_after_secs: f64,
    /// Consecutive failures of one host after which its remaining URLs are given up.
    pub host_give_up_after: u32,
}

impl Default for RetrySection {
    fn default() -> Self {
        RetrySection {
            max_attempts: 3,
            base_delay_secs: 2.0,
            max_delay_secs: 300.0,
            max_retry_after_secs: 3600.0,
            host_give_up_after: 20,
        }
    }
}

/// Crawler traps: URL shapes that multiply without end or repeat the same page.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct TrapsSection {
    /// A path segment appearing more than this many times (/a/b/a/b/a/...) is a trap.
    pub max_segment_repeats: u32,
    /// Path segments at most.
    pub max_path_depth: u32,
    /// Query parameters at most.
    pub max_query_params: u32,
    /// Dates in a URL (path or query) further than this many years in the past are a
    /// calendar trap.
    pub calendar_years_back: u32,
    /// ... and further than this many years in the future.
    pub calendar_years_ahead: u32,
    /// A page number above this (?page=N, /page/N/) is endless pagination.
    pub max_page_number: u64,
    /// URLs with any of these query parameters are not fetched (WordPress `replytocom`
    /// repeats the article once per comment).
    pub reject_params: Vec<String>,
    /// Session-id parameters: URLs that differ only in these are the same page.
    pub session_params: Vec<String>,
    /// Sort and filter parameters: URLs that differ only in these are the same page.
    pub ignore_params: Vec<String>,
}

impl Default for TrapsSection {
    fn default() -> Self {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        TrapsSection {
            max_segment_repeats: 2,
            max_path_depth: 30,
            max_query_params: 12,
            calendar_years_back: 30,
            calendar_years_ahead: 2,
            max_page_number: 5000,
            reject_params: strings(&["replytocom"]),
            session_params: strings(&[
                "jsessionid",
                "phpsessid",
                "aspsessionid",
                "sessionid",
                "session_id",
                "sid",
                "cfid",
                "cftoken",
            ]),
            ignore_params: strings(&["sort", "order", "orderby", "dir", "direction"]),
        }
    }
}
