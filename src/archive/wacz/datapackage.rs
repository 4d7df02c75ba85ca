//! `datapackage.json` (a frictionless data package with the WACZ 1.1.1 fields) and
//! `datapackage-digest.json` (the sha256 of the former, byte for byte as written).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::WaczError;
use super::pages::MainPage;
use super::zipout::{Resource, sha256_of};

pub const WACZ_VERSION: &str = "1.1.1";

/// What the crawl's `manifest.json` tells about it; the WACZ is still made without one.
#[derive(Debug, Default)]
pub struct CrawlMeta {
    pub title: String,
    pub crawl_id: Option<String>,
    pub seeds: Vec<String>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ManifestFields {
    crawl_id: Option<String>,
    #[serde(default)]
    seeds: Vec<String>,
    started_at: Option<String>,
    ended_at: Option<String>,
}

impl CrawlMeta {
    /// Reads `manifest.json`; `name` (the crawl folder's) is the title.
    pub fn read(manifest: &Path, name: &str) -> CrawlMeta {
        let parsed = std::fs::read(manifest)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<ManifestFields>(&b).map_err(|e| e.to_string()));
        match parsed {
            Ok(m) => CrawlMeta {
                title: name.to_owned(),
                crawl_id: m.crawl_id,
                seeds: m.seeds,
                started_at: m.started_at,
                ended_at: m.ended_at,
            },
            Err(e) => {
                tracing::warn!(path = %manifest.display(), error = %e,
                    "no usable manifest.json: the WACZ will say less about the crawl");
                CrawlMeta {
                    title: name.to_owned(),
                    ..CrawlMeta::default()
                }
            }
        }
    }

    /// Plain text (valid Markdown, as the spec asks for `description`).
    fn description(&self) -> String {
        let mut d = String::from("Web crawl by warcrow");
        if let Some(id) = &self.crawl_id {
            d.push_str(&format!(" (crawl {id})"));
        }
        if let Some(start) = &self.started_at {
            d.push_str(&format!(", started {start}"));
        }
        if let Some(end) = &self.ended_at {
            d.push_str(&format!(", ended {end}"));
        }
        d.push('.');
        if !self.seeds.is_empty() {
            d.push_str(&format!(" Seeds: {}.", self.seeds.join(", ")));
        }
        d
    }
}

#[derive(Debug, Serialize)]
pub struct DataPackage<'a> {
    profile: &'static str,
    wacz_version: &'static str,
    title: String,
    description: String,
    created: &'a str,
    modified: &'a str,
    software: String,
    #[serde(rename = "mainPageUrl", skip_serializing_if = "Option::is_none")]
    main_page_url: Option<String>,
    #[serde(rename = "mainPageDate", skip_serializing_if = "Option::is_none")]
    main_page_date: Option<String>,
    /// Custom property (allowed by the spec): the seeds the crawl started from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    seeds: Vec<String>,
    resources: &'a [Resource],
}

pub fn build<'a>(
    meta: &CrawlMeta,
    created: &'a str,
    main_page: Option<MainPage>,
    resources: &'a [Resource],
) -> DataPackage<'a> {
    let (main_page_url, main_page_date) = match main_page {
        Some(p) => (Some(p.url), Some(p.ts)),
        None => (None, None),
    };
    DataPackage {
        profile: "data-package",
        wacz_version: WACZ_VERSION,
        title: meta.title.clone(),
        description: meta.description(),
        created,
        modified: created,
        software: format!("warcrow {}", env!("CARGO_PKG_VERSION")),
        main_page_url,
        main_page_date,
        seeds: meta.seeds.clone(),
        resources,
    }
}

/// The bytes of `datapackage.json`; the digest file hashes exactly these.
pub fn to_bytes(package: &DataPackage<'_>, zip_path: &Path) -> Result<Vec<u8>, WaczError> {
    let mut bytes = serde_json::to_vec_pretty(package)
        .map_err(|e| WaczError::io("write datapackage.json into", zip_path)(e.into()))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// `datapackage-digest.json` for `package_bytes`.
pub fn digest_bytes(package_bytes: &[u8], zip_path: &Path) -> Result<Vec<u8>, WaczError> {
    let digest = serde_json::json!({
        "path": "datapackage.json",
        "hash": sha256_of(package_bytes),
    });
    let mut bytes = serde_json::to_vec_pretty(&digest)
        .map_err(|e| WaczError::io("write datapackage-digest.json into", zip_path)(e.into()))?;
    bytes.push(b'\n');
    Ok(bytes)
}
