//! Running a crawl of the test site in-process, with the one config the tests share.

use std::path::Path;

use url::Url;
use warcrow::config::{Config, RawConfig};
use warcrow::crawl::{self, CrawlOptions, CrawlSummary};

/// Limits lifted for the loopback site, a short timeout so `/slow/` fails fast, and one quick
/// retry.
pub fn test_config(fetcher: &str) -> Config {
    RawConfig::parse(&test_config_toml(fetcher, ""), "test")
        .unwrap()
        .validate("test")
        .unwrap()
}

/// [`test_config`] as TOML, with `warc_extra` lines added to its `[warc]` section (for tests
/// that run the binary with a config file).
pub fn test_config_toml(fetcher: &str, warc_extra: &str) -> String {
    format!(
        r#"
        [crawl]
        max_hops = 10
        [politeness]
        requests_per_second = 0.0
        max_connections_per_host = 4
        max_connections = 8
        contact_url = "https://example.invalid/test"
        [fetch]
        fetcher = "{fetcher}"
        timeout_secs = 2.0
        connect_timeout_secs = 2.0
        [warc]
        prefix = "test"
        {warc_extra}
        [retry]
        max_attempts = 2
        base_delay_secs = 0.05
        max_delay_secs = 0.2
        "#
    )
}

/// Crawl from `seed` into `out_dir` with [`test_config`] and the wire fetcher; the crawl
/// must finish.
pub async fn crawl_into(seed: Url, out_dir: &Path, crawl_id: &str) -> CrawlSummary {
    let summary = crawl::run(
        test_config("wire"),
        vec![seed],
        CrawlOptions {
            out_dir: out_dir.to_path_buf(),
            crawl_id: crawl_id.into(),
            progress: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(summary.exit_reason, "finished");
    summary
}
