//! Getting a crawl ready to run: a new one in an empty folder, or an interrupted one
//! continued (`--resume`), which first repairs its folder (see `resume.rs`).

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use url::Url;

use crate::archive::{WarcFileInfo, WarcWriter, WriterSettings};
use crate::config::{Config, RawConfig};
use crate::manifest::{CapturesLog, Counts, Manifest, Software};
use crate::scope::{CaptureKind, Scope};

use super::frontier::{Frontier, QueuedUrl};
use super::state::{CrawlState, LiveIndex, QueueLimits};
use super::store::Store;
use super::worker::WorkerContext;
use super::{CrawlError, CrawlOptions, articles, now_rfc3339, resume, retry, robots};

pub(super) struct Prepared {
    pub(super) config: Config,
    pub(super) ctx: Arc<WorkerContext>,
    pub(super) state: CrawlState,
    pub(super) manifest: Manifest,
    pub(super) elapsed_before: std::time::Duration,
}

const DB_NAME: &str = "frontier.db";

fn store_err(e: super::store::StoreError) -> CrawlError {
    CrawlError::Write(e.into())
}

pub(super) async fn fresh(
    config: Config,
    seeds: Vec<Url>,
    opts: &CrawlOptions,
    prior: Option<Arc<crate::job::dedup::JobIndex>>,
) -> Result<Prepared, CrawlError> {
    let out = &opts.out_dir;
    // Never mix two crawls in one folder: their captures.jsonl, index and manifest would
    // describe each other's WARCs.
    if out.join("manifest.json").exists() || out.join(DB_NAME).exists() {
        return Err(CrawlError::OutputInUse { path: out.clone() });
    }
    std::fs::create_dir_all(out.join("warc")).map_err(|source| CrawlError::OutputDir {
        path: out.clone(),
        source,
    })?;
    let store = Store::create(&out.join(DB_NAME)).map_err(store_err)?;
    let started_at = now_rfc3339();
    let seeds_text: Vec<String> = seeds.iter().map(|s| s.to_string()).collect();
    for (k, v) in [
        ("crawl_id", opts.crawl_id.clone()),
        (
            "seeds",
            serde_json::to_string(&seeds_text).unwrap_or_default(),
        ),
        (
            "config",
            serde_json::to_string(&config.raw).unwrap_or_default(),
        ),
        ("started_at", started_at.clone()),
    ] {
        store.set_meta(k, &v).map_err(store_err)?;
    }
    let writer = WarcWriter::new(writer_settings(&config, out, &opts.crawl_id))?;
    let mut p = assemble(
        config,
        &seeds,
        store,
        writer,
        out,
        0,
        0,
        0,
        &opts.crawl_id,
        &started_at,
        prior,
    )
    .await?;
    // Seeds are fetched whatever the scope rules say (they are the crawl's own choice).
    for seed in &seeds {
        let mut item = QueuedUrl::new(seed.clone(), 0, None, CaptureKind::Seed);
        item.key = p.state.traps.seen_key(&item.url).0;
        p.state.queue(item, false);
    }
    // The seeds are on disk before anything is fetched: a crawl killed at once resumes.
    p.state
        .frontier
        .commit(&super::store::Checkpoint::default())
        .map_err(store_err)?;
    p.manifest.write_atomic(&out.join("manifest.json"))?;
    Ok(p)
}

pub(super) async fn resumed(
    config: Option<Config>,
    opts: &CrawlOptions,
) -> Result<Prepared, CrawlError> {
    let out = &opts.out_dir;
    let db = out.join(DB_NAME);
    if !db.exists() {
        return Err(CrawlError::NotACrawl { path: out.clone() });
    }
    let store = Store::open(&db).map_err(store_err)?;
    let meta = |k: &str| -> Result<String, CrawlError> {
        store
            .meta(k)
            .map_err(store_err)?
            .ok_or_else(|| CrawlError::NotACrawl { path: out.clone() })
    };
    let crawl_id = meta("crawl_id")?;
    let started_at = meta("started_at")?;
    let seeds: Vec<Url> = serde_json::from_str::<Vec<String>>(&meta("seeds")?)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| Url::parse(s).ok())
        .collect();
    let config = match config {
        Some(c) => {
            store
                .set_meta("config", &serde_json::to_string(&c.raw).unwrap_or_default())
                .map_err(store_err)?;
            c
        }
        None => {
            let raw: RawConfig = serde_json::from_str(&meta("config")?)
                .map_err(|_| CrawlError::NotACrawl { path: out.clone() })?;
            raw.validate("the crawl's saved config")
                .map_err(|e| CrawlError::Write(std::io::Error::other(e.to_string())))?
        }
    };
    let checkpoint = store.checkpoint().map_err(store_err)?.unwrap_or_default();
    let settings = writer_settings(&config, out, &crawl_id);
    let recovered = resume::recover_warcs(&settings, &checkpoint)?;
    let writer = WarcWriter::resume(settings, recovered.next_serial, recovered.files)?;
    let mut p = assemble(
        config,
        &seeds,
        store,
        writer,
        out,
        checkpoint.captures_len,
        checkpoint.index_len,
        checkpoint.extracted_len,
        &crawl_id,
        &started_at,
        None,
    )
    .await?;
    p.state.counts = checkpoint.counts;
    p.state.warc_ends = checkpoint.warc_ends;
    p.elapsed_before = std::time::Duration::from_secs_f64(checkpoint.elapsed_secs);
    p.state.frontier.load().map_err(store_err)?;
    resume::rebuild(&mut p.state, out)?;
    let dedup = &p.ctx.dedup;
    p.state
        .frontier
        .store()
        .for_each_payload(|digest| dedup.remember_committed(digest))
        .map_err(store_err)?;
    for seed in &seeds {
        if let Some(host) = seed.host_str() {
            p.state.scope.add_host(host);
        }
    }
    eprintln!(
        "resuming crawl {crawl_id}: {} captures so far, {} URLs queued",
        p.state.counts.pages,
        p.state.frontier.queued()
    );
    p.manifest.write_atomic(&out.join("manifest.json"))?;
    Ok(p)
}

fn writer_settings(config: &Config, out: &Path, crawl_id: &str) -> WriterSettings {
    let raw = &config.raw;
    WriterSettings {
        dir: out.join("warc"),
        prefix: raw.warc.prefix.clone(),
        rollover_bytes: raw.warc.rollover_bytes,
        compression_level: raw.warc.compression_level,
        info_fields: vec![
            (
                "software",
                format!("warcrow/{} (Rust)", env!("CARGO_PKG_VERSION")),
            ),
            ("format", "WARC File Format 1.1".into()),
            (
                "conformsTo",
                "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
                    .into(),
            ),
            ("isPartOf", crawl_id.to_string()),
            ("http-header-user-agent", config.fetch.user_agent.clone()),
            (
                "robots",
                match raw.politeness.robots {
                    crate::config::RobotsMode::Obey => "obey".into(),
                    crate::config::RobotsMode::Ignore => "ignore".into(),
                },
            ),
        ],
    }
}

#[allow(clippy::too_many_arguments)]
async fn assemble(
    config: Config,
    seeds: &[Url],
    store: Store,
    writer: WarcWriter,
    out: &Path,
    captures_len: u64,
    index_len: u64,
    extracted_len: u64,
    crawl_id: &str,
    started_at: &str,
    prior: Option<Arc<crate::job::dedup::JobIndex>>,
) -> Result<Prepared, CrawlError> {
    let raw = &config.raw;
    let mut fetch_settings = config.fetch.clone();
    if !raw.fetch.allow_private_addresses {
        // The seeds' own addresses may be private (an intranet crawl, the demo): those are
        // allowed; a public page linking into a private network is not.
        fetch_settings.address_policy = crate::fetch::AddressPolicy::PublicOnly {
            allowed: crate::fetch::seed_addresses(seeds).await,
        };
    }
    let fetcher = crate::fetch::build(raw.fetch.fetcher, &fetch_settings)?;
    let politeness = Arc::new(super::worker_politeness(&config));
    let ctx = Arc::new(WorkerContext {
        fetcher,
        writer,
        politeness: politeness.clone(),
        dedup: crate::archive::dedup::PayloadDedup::new(
            raw.warc.revisits,
            raw.warc.revisit_min_bytes,
        )
        .with_committed(Box::new(
            super::store::PayloadReader::open(&out.join(DB_NAME)).map_err(store_err)?,
        )),
        compression_level: raw.warc.compression_level,
        max_parse_bytes: 32 * 1024 * 1024,
        prior,
        parse_slots: tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(2, |n| n.get()),
        ),
    });
    let state = CrawlState {
        scope: Scope::new(&config, seeds),
        traps: crate::traps::Traps::new(&raw.traps, chrono::Datelike::year(&Utc::now())),
        limits: QueueLimits {
            max_url_length: raw.crawl.max_url_length,
            max_per_host: raw.crawl.max_per_host,
            sitemaps: raw.crawl.sitemaps,
        },
        frontier: Frontier::new(store, raw.politeness.max_connections_per_host),
        captures: CapturesLog::open(&out.join("captures.jsonl"), captures_len)?,
        index: LiveIndex::open(&out.join("index.cdxj"), index_len)?,
        articles: articles::ArticleLog::open(&out.join("extracted.jsonl"), extracted_len)?,
        counts: Counts::default(),
        failures: Vec::new(),
        robots: (raw.politeness.robots == crate::config::RobotsMode::Obey)
            .then(|| robots::RobotsPolicy::new(&config.fetch.user_agent)),
        retry: retry::RetryPolicy::new(&raw.retry),
        politeness,
        warc_ends: Default::default(),
    };
    let manifest = Manifest {
        crawl_id: crawl_id.to_string(),
        software: Software {
            name: "warcrow",
            version: env!("CARGO_PKG_VERSION"),
        },
        seeds: seeds.iter().map(|s| s.to_string()).collect(),
        started_at: started_at.to_string(),
        ended_at: None,
        exit_reason: "running".into(),
        counts: Counts::default(),
        failures: Vec::new(),
        warc_files: Vec::<WarcFileInfo>::new(),
        config: serde_json::to_value(raw).unwrap_or(serde_json::Value::Null),
    };
    Ok(Prepared {
        config,
        ctx,
        state,
        manifest,
        elapsed_before: std::time::Duration::ZERO,
    })
}
