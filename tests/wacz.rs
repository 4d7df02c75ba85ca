//! WACZ packaging of a real crawl of the loopback test site, judged by py-wacz's
//! `wacz validate` (pinned in tests/tools/requirements.txt) and by our own reading of the zip:
//! stored WARCs byte-identical to the crawl's, every resource hash and size, pages.jsonl,
//! the datapackage digest, and the ZipNum index blocks.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};
use warcrow::archive::wacz::{self, PackageOptions};

/// A console script of the test venv (next to its python).
fn venv_tool(name: &str) -> PathBuf {
    support::test_python().parent().unwrap().join(name)
}

/// Crawls the test site into `dir/<name>/` and indexes it with the pinned cdxj-indexer.
async fn crawl_and_index(root: &Path, name: &str) -> (PathBuf, String) {
    let site = support::TestSite::start().await;
    let dir = root.join(name);
    let seed = site.index_url();
    support::crawl_into(seed.clone(), &dir, "wacz-test").await;
    site.shutdown().await;

    // The crawl wrote index.cdxj as it went; it must be what the reference indexer writes
    // for the same WARCs, line for line.
    let warcs: Vec<PathBuf> = warc_files(&dir);
    let out = Command::new(venv_tool("cdxj-indexer"))
        .args(&warcs)
        .arg("--sort")
        .arg("--dir-root")
        .arg(dir.join("warc"))
        .arg("-o")
        .arg(root.join("reference.cdxj"))
        .output()
        .expect("run cdxj-indexer (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = std::fs::read_to_string(dir.join("index.cdxj")).unwrap();
    let reference = std::fs::read_to_string(root.join("reference.cdxj")).unwrap();
    assert_eq!(
        ours, reference,
        "the crawl's live index differs from cdxj-indexer's"
    );
    (dir, seed.to_string())
}

fn warc_files(dir: &Path) -> Vec<PathBuf> {
    let mut warcs: Vec<PathBuf> = std::fs::read_dir(dir.join("warc"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".warc.gz"))
        .collect();
    warcs.sort();
    assert!(!warcs.is_empty());
    warcs
}

fn validate(wacz: &Path) {
    let out = Command::new(venv_tool("wacz"))
        .arg("validate")
        .arg("--file")
        .arg(wacz)
        .output()
        .expect("run wacz validate (scripts/test.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("Validation succeeded"),
        "wacz validate failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

type Zip = zip::ZipArchive<std::fs::File>;

fn open(wacz: &Path) -> Zip {
    zip::ZipArchive::new(std::fs::File::open(wacz).unwrap()).unwrap()
}

fn entry(zip: &mut Zip, name: &str) -> (Vec<u8>, zip::CompressionMethod) {
    let mut f = zip
        .by_name(name)
        .unwrap_or_else(|_| panic!("no {name} in the WACZ"));
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).unwrap();
    (bytes, f.compression())
}

fn sha256(bytes: &[u8]) -> String {
    format!(
        "sha256:{}",
        data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
    )
}

/// Our own checks, common to both index forms; returns the datapackage.
fn check_package(wacz: &Path, dir: &Path, seed: &str) -> Value {
    let mut zip = open(wacz);

    // WARCs: stored, byte-identical.
    for warc in warc_files(dir) {
        let name = format!("archive/{}", warc.file_name().unwrap().to_string_lossy());
        let (bytes, method) = entry(&mut zip, &name);
        assert_eq!(method, zip::CompressionMethod::Stored, "{name}");
        assert!(bytes == std::fs::read(&warc).unwrap(), "{name} differs");
    }

    // Every entry but the datapackage files is a resource whose hash and size match.
    let (package_bytes, _) = entry(&mut zip, "datapackage.json");
    let package: Value = serde_json::from_slice(&package_bytes).unwrap();
    assert_eq!(package["profile"], "data-package");
    assert_eq!(package["wacz_version"], "1.1.1");
    assert!(
        package["software"]
            .as_str()
            .unwrap()
            .starts_with("warcrow ")
    );
    assert_eq!(package["mainPageUrl"], seed);
    assert!(package["created"].as_str().unwrap().ends_with('Z'));
    let resources = package["resources"].as_array().unwrap().clone();
    let mut listed: Vec<String> = Vec::new();
    for r in &resources {
        let path = r["path"].as_str().unwrap();
        let (bytes, _) = entry(&mut zip, path);
        assert_eq!(r["bytes"].as_u64().unwrap(), bytes.len() as u64, "{path}");
        assert_eq!(r["hash"].as_str().unwrap(), sha256(&bytes), "{path}");
        listed.push(path.to_owned());
    }
    let mut in_zip: Vec<String> = zip
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .filter(|n| !n.starts_with("datapackage"))
        .collect();
    listed.sort();
    in_zip.sort();
    assert_eq!(listed, in_zip);

    // The digest file covers datapackage.json as stored.
    let (digest_bytes, _) = entry(&mut zip, "datapackage-digest.json");
    let digest: Value = serde_json::from_slice(&digest_bytes).unwrap();
    assert_eq!(digest["path"], "datapackage.json");
    assert_eq!(digest["hash"].as_str().unwrap(), sha256(&package_bytes));

    // pages.jsonl: the header, then one line per 200 HTML capture, the seed first.
    let (pages, _) = entry(&mut zip, "pages/pages.jsonl");
    let pages: Vec<Value> = String::from_utf8(pages)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        pages[0],
        serde_json::json!({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"})
    );
    let html_200: Vec<Value> = std::fs::read_to_string(dir.join("captures.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|c| {
            c["status"] == 200
                && c["content_type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("text/html"))
        })
        .collect();
    assert!(html_200.len() > 5, "the test site has many pages");
    assert_eq!(pages.len(), html_200.len() + 1);
    assert_eq!(pages[1]["url"], seed);
    let mut ids = std::collections::BTreeSet::new();
    for p in &pages[1..] {
        assert!(ids.insert(p["id"].as_str().unwrap().to_owned()), "dup id");
        let ts = p["ts"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok(), "{ts}");
        assert!(!p["title"].as_str().unwrap().is_empty());
        assert!(html_200.iter().any(|c| c["url"] == p["url"]));
    }
    package
}

#[tokio::test]
async fn wacz_of_a_crawl_validates_in_both_index_forms() {
    let root = tempfile::tempdir().unwrap();
    let (dir, seed) = crawl_and_index(root.path(), "site-crawl").await;
    let cdxj = std::fs::read_to_string(dir.join("index.cdxj")).unwrap();
    let cdxj_lines: Vec<&str> = cdxj.lines().collect();
    assert!(cdxj_lines.len() > 10);

    // A plain indexes/index.cdxj when asked for (the default is ZipNum, which pywb needs).
    let plain_opts = PackageOptions {
        zipnum_min_lines: usize::MAX,
        zipnum_min_bytes: usize::MAX,
        ..PackageOptions::default()
    };
    let plain = wacz::package_with(&dir, None, &plain_opts).unwrap();
    assert_eq!(plain, dir.join("site-crawl.wacz"));
    assert!(!dir.join("site-crawl.wacz.part").exists());
    validate(&plain);
    check_package(&plain, &dir, &seed);
    let mut zip = open(&plain);
    let (index, _) = entry(&mut zip, "indexes/index.cdxj");
    assert_eq!(String::from_utf8(index).unwrap(), cdxj);
    assert!(zip.by_name("indexes/index.idx").is_err());

    // Forced ZipNum, small blocks so there are several.
    let opts = PackageOptions {
        zipnum_min_lines: 0,
        zipnum_block_lines: 7,
        ..PackageOptions::default()
    };
    let zipnum = wacz::package_with(&dir, Some(root.path()), &opts).unwrap();
    assert_eq!(zipnum, root.path().join("site-crawl.wacz"));
    validate(&zipnum);
    check_package(&zipnum, &dir, &seed);
    let mut zip = open(&zipnum);
    assert!(zip.by_name("indexes/index.cdxj").is_err());
    let (cdx_gz, method) = entry(&mut zip, "indexes/index.cdx.gz");
    assert_eq!(method, zip::CompressionMethod::Stored);
    let (idx, _) = entry(&mut zip, "indexes/index.idx");
    let idx = String::from_utf8(idx).unwrap();
    let mut idx_lines = idx.lines();
    let meta = idx_lines.next().unwrap();
    assert!(meta.starts_with("!meta 0 {"), "{meta}");
    let mut inflated_all = String::new();
    let mut blocks = 0;
    let mut next_offset = 0;
    for line in idx_lines {
        let (key, json) = line.split_at(line.find(" {").unwrap());
        let info: Value = serde_json::from_str(json.trim()).unwrap();
        let offset = info["offset"].as_u64().unwrap() as usize;
        let length = info["length"].as_u64().unwrap() as usize;
        assert_eq!(offset, next_offset, "blocks are contiguous");
        assert_eq!(info["filename"], "index.cdx.gz");
        let member = &cdx_gz[offset..offset + length];
        assert_eq!(info["digest"].as_str().unwrap(), sha256(member));
        let mut block = String::new();
        flate2::read::GzDecoder::new(member)
            .read_to_string(&mut block)
            .unwrap();
        assert!(block.starts_with(&format!("{key} {{")), "{key} vs {block}");
        assert!(block.lines().count() <= 7);
        inflated_all.push_str(&block);
        next_offset = offset + length;
        blocks += 1;
    }
    assert_eq!(next_offset, cdx_gz.len());
    assert_eq!(blocks, cdxj_lines.len().div_ceil(7));
    assert_eq!(
        inflated_all, cdxj,
        "the blocks hold the whole index, in order"
    );
}

#[test]
fn missing_or_bad_index_says_what_to_do() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("c");
    std::fs::create_dir_all(dir.join("warc")).unwrap();
    std::fs::write(dir.join("captures.jsonl"), "").unwrap();
    std::fs::write(dir.join("warc/a.warc.gz"), b"not really").unwrap();
    let err = wacz::package(&dir, None).unwrap_err().to_string();
    assert!(err.contains("warcrow index"), "{err}");

    std::fs::write(
        dir.join("index.cdxj"),
        "com,b)/ 20240101000000 {\"filename\": \"a.warc.gz\"}\n\
         com,a)/ 20240101000000 {\"filename\": \"a.warc.gz\"}\n",
    )
    .unwrap();
    let err = wacz::package(&dir, None).unwrap_err().to_string();
    assert!(err.contains("line 2 is out of order"), "{err}");
    assert!(!dir.join("c.wacz").exists() && !dir.join("c.wacz.part").exists());

    std::fs::write(
        dir.join("index.cdxj"),
        "com,a)/ 20240101000000 {\"filename\": \"other.warc.gz\"}\n",
    )
    .unwrap();
    let err = wacz::package(&dir, None).unwrap_err().to_string();
    assert!(
        err.contains("other.warc.gz") && err.contains("stale"),
        "{err}"
    );
}
