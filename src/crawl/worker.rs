//! One URL through the pipeline: wait for its host, fetch, archive, find links and the
//! article (both from one parse of the page).
//!
//! Runs as its own task, so fetches, compression and parsing of different URLs proceed in
//! parallel; only the append to the WARC file is serialised (inside the writer).

use std::sync::Arc;

use url::Url;

use crate::archive::dedup::{Claim, PayloadDedup};
use crate::archive::record::{
    OriginalCapture, exchange_records, new_record_id, payload_digest, warc_date,
};
use crate::archive::{RecordLocation, WarcWriter};
use crate::extract::{Link, LinkKind, css, decode, links};
use crate::fetch::{Exchange, FetchError, FetchRequest, Fetcher};

use super::articles::{self, Extraction};
use super::frontier::QueuedUrl;
use super::politeness::HostPoliteness;

/// The parts every worker shares.
pub struct WorkerContext {
    pub fetcher: Box<dyn Fetcher>,
    pub writer: WarcWriter,
    pub politeness: Arc<HostPoliteness>,
    pub dedup: PayloadDedup,
    pub compression_level: u32,
    /// Decoded HTML/CSS beyond this is not parsed for links (caps the work on huge pages).
    pub max_parse_bytes: usize,
    /// Parses at once: one per core. More would only add memory (a DOM is ~10× its page)
    /// and thread switching, as parsing is CPU-bound.
    pub parse_slots: tokio::sync::Semaphore,
    /// A job's earlier runs, when this crawl is a run of a job.
    pub prior: Option<Arc<crate::job::dedup::JobIndex>>,
}

/// What happened to one URL.
pub enum Outcome {
    /// A response was archived.
    Captured(Box<Captured>),
    /// No response: DNS, connect, TLS, timeout before the head, bad HTTP.
    Failed {
        item: QueuedUrl,
        error: FetchError,
        started_at: chrono::DateTime<chrono::Utc>,
    },
    /// The WARC could not be written: the crawl must stop.
    WriteFailed {
        item: QueuedUrl,
        error: std::io::Error,
    },
}

pub struct Captured {
    /// The order in which its records were appended to the WARCs.
    pub seq: u64,
    pub item: QueuedUrl,
    pub exchange: Exchange,
    pub payload_digest: String,
    /// Set when the response was written as a revisit of this earlier capture.
    pub revisit_of: Option<OriginalCapture>,
    /// Set when the response holds its payload in full and later captures of the payload may
    /// be revisits of it (committed to frontier.db with the capture).
    pub original: Option<OriginalCapture>,
    pub request: RecordLocation,
    pub response: RecordLocation,
    /// The WARC-Record-ID of the response (or revisit) record.
    pub record_id: String,
    pub links: Vec<Link>,
    pub redirect_to: Option<Url>,
    /// The `<title>` of an HTML page.
    pub title: Option<String>,
    /// The body could not be decoded or parsed (the capture itself is fine).
    pub extract_error: Option<String>,
    /// The article on the page, from the same parse as the links.
    pub extraction: Extraction,
    /// Links to the article's other comment pages.
    pub comment_pages: Vec<Url>,
}

pub async fn process(ctx: Arc<WorkerContext>, item: QueuedUrl) -> Outcome {
    ctx.politeness.wait(item.host()).await;
    let mut headers = Vec::new();
    if let Some(via) = &item.via {
        headers.push(("Referer".to_string(), via.as_str().to_string()));
    }
    // A run of a job asks only for what changed since the job's last capture of the URL.
    let prior = ctx.prior.as_ref().and_then(|p| p.prior(item.url.as_str()));
    if let Some(p) = &prior {
        if let Some(etag) = &p.etag {
            headers.push(("If-None-Match".to_string(), etag.clone()));
        }
        if let Some(date) = &p.last_modified {
            headers.push(("If-Modified-Since".to_string(), date.clone()));
        }
    }
    let started_at = chrono::Utc::now();
    let req = FetchRequest {
        url: item.url.clone(),
        headers,
    };
    let exchange = match ctx.fetcher.fetch(&req).await {
        Ok(ex) => ex,
        Err(error) => {
            return Outcome::Failed {
                item,
                error,
                started_at,
            };
        }
    };
    // Parse before writing: once the records are appended, nothing may fail or wait before
    // the outcome is handed back, so every group written reaches the crawl loop.
    // Decoding and parsing are CPU work (a hostile page can take seconds): on the blocking
    // pool, so the runtime's timers and other fetches are not held up.
    let max_parse = ctx.max_parse_bytes;
    // A 304's links are those of the payload it confirms: parse the earlier capture.
    let not_modified = prior.as_ref().filter(|_| exchange.status == 304);
    let for_parse = match not_modified {
        Some(p) => earlier_exchange(&exchange, p).unwrap_or_else(|| exchange.clone()),
        None => exchange.clone(),
    };
    let slot = ctx.parse_slots.acquire().await;
    let parsed = tokio::task::spawn_blocking(move || discover(&for_parse, max_parse)).await;
    drop(slot);
    let found = match parsed {
        Ok(found) => found,
        Err(e) => Discovered {
            error: Some(format!("parsing the body failed: {e}")),
            ..Discovered::default()
        },
    };
    let mut digest = payload_digest(&exchange);
    let response_id = new_record_id();
    let this = OriginalCapture {
        uri: exchange.url.to_string(),
        date: warc_date(exchange.started_at),
        record_id: response_id.clone(),
    };
    // An earlier run's capture: a 304 confirms it (a server-not-modified revisit carrying its
    // digest), and a payload stored before is pointed at (identical-payload-digest).
    let earlier = match not_modified {
        Some(p) => {
            digest = p.digest.clone();
            Some(p.original.clone())
        }
        None => ctx
            .prior
            .as_ref()
            .filter(|_| ctx.dedup.eligible_any_size(&exchange))
            .and_then(|index| index.payload(&digest)),
    };
    let revisit_of = if earlier.is_some() {
        earlier
    } else {
        loop {
            match ctx.dedup.claim(&exchange, &digest, this.clone()) {
                Claim::Full => break None,
                Claim::Revisit(original) => break Some(original),
                // Another worker is writing the same payload: its record must be in the WARC
                // before this one may point at it. Bounded, in case that worker is stuck.
                Claim::Wait(mut written) => {
                    let wait = written.wait_for(|w| *w);
                    if tokio::time::timeout(std::time::Duration::from_secs(30), wait)
                        .await
                        .is_err()
                    {
                        break None;
                    }
                }
            }
        }
    };
    let records = exchange_records(&exchange, response_id.clone(), digest, revisit_of.as_ref());
    let response_level = if already_compressed(&exchange) {
        1
    } else {
        ctx.compression_level
    };
    let encoded = records
        .request
        .encode(ctx.compression_level)
        .and_then(|rq| Ok([rq, records.response.encode(response_level)?]))
        .and_then(|group| ctx.writer.write_group(&group));
    let written = match encoded {
        Ok(w) => w,
        Err(error) => {
            ctx.dedup.forget(&records.payload_digest, &response_id);
            return Outcome::WriteFailed { item, error };
        }
    };
    ctx.dedup.confirm(&records.payload_digest, &response_id);
    let original = (revisit_of.is_none() && ctx.dedup.eligible(&exchange)).then_some(this);
    let mut locations = written.locations;
    let (Some(response), Some(request)) = (locations.pop(), locations.pop()) else {
        let error = std::io::Error::other("WARC writer returned no locations");
        return Outcome::WriteFailed { item, error };
    };
    Outcome::Captured(Box::new(Captured {
        seq: written.seq,
        item,
        payload_digest: records.payload_digest,
        revisit_of,
        original,
        exchange,
        request,
        response,
        record_id: response_id,
        links: found.links,
        redirect_to: found.redirect_to,
        title: found.title,
        extract_error: found.error,
        extraction: found.extraction,
        comment_pages: found.comment_pages,
    }))
}

/// Whether the body is compressed already (a content-coding, or a media type that is
/// compressed by nature): its record is gzipped at level 1, as a higher level would spend CPU
/// for next to nothing.
fn already_compressed(ex: &Exchange) -> bool {
    if ex
        .headers
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("identity"))
    {
        return true;
    }
    let ct = ex
        .content_type()
        .unwrap_or("")
        .trim_start()
        .to_ascii_lowercase();
    [
        "image/",
        "video/",
        "audio/",
        "font/woff",
        "application/zip",
        "application/gzip",
        "application/pdf",
    ]
    .iter()
    .any(|p| ct.starts_with(p))
        && !ct.starts_with("image/svg")
        && !ct.starts_with("image/bmp")
}

/// The exchange as it was when the job's earlier run captured `prior` (its head and payload,
/// read back from that run's WARC), to find the links of a page answered by a 304.
fn earlier_exchange(ex: &Exchange, prior: &crate::job::dedup::PriorUrl) -> Option<Exchange> {
    let (head, payload) = crate::archive::reader::http_response_at(&prior.warc_path, prior.offset)?;
    let mut headers = http::HeaderMap::new();
    for (name, value) in head.headers.iter() {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            headers.append(n, v);
        }
    }
    let mut earlier = ex.clone();
    earlier.status = head.status()?;
    earlier.headers = headers;
    earlier.payload = payload.into();
    Some(earlier)
}

/// What a response leads to.
#[derive(Default)]
struct Discovered {
    links: Vec<Link>,
    redirect_to: Option<Url>,
    title: Option<String>,
    error: Option<String>,
    extraction: Extraction,
    comment_pages: Vec<Url>,
}

fn title_selector() -> &'static scraper::Selector {
    static SELECTOR: std::sync::OnceLock<scraper::Selector> = std::sync::OnceLock::new();
    SELECTOR.get_or_init(|| {
        // A constant, valid selector: parsing cannot fail.
        scraper::Selector::parse("title").unwrap_or_else(|_| unreachable!())
    })
}

/// Links in a response: the redirect target, a page's links and title, a stylesheet's url()s.
fn discover(ex: &Exchange, max_parse: usize) -> Discovered {
    if (300..400).contains(&ex.status) {
        let target = ex
            .headers
            .get(http::header::LOCATION)
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
            .and_then(|loc| crate::canonical::parse_link(&ex.url, loc));
        return Discovered {
            redirect_to: target,
            ..Discovered::default()
        };
    }
    if !(200..300).contains(&ex.status) || ex.payload.is_empty() {
        return Discovered::default();
    }
    let content_type = ex.content_type();
    let is_css = content_type
        .map(|ct| ct.trim_start().to_ascii_lowercase().starts_with("text/css"))
        .unwrap_or_else(|| ex.url.path().ends_with(".css"));
    let is_html = !is_css && links::is_html(content_type, &ex.payload[..ex.payload.len().min(512)]);
    if !is_css && !is_html {
        return Discovered::default();
    }
    let encoding = ex
        .headers
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let decoded = match decode::decode_content(&ex.payload, encoding, max_parse) {
        Ok(d) => d,
        Err(e) => {
            let error = format!("cannot decode body: {e}");
            return Discovered {
                extraction: if is_html {
                    Extraction::Failed(error.clone())
                } else {
                    Extraction::Skipped
                },
                error: Some(error),
                ..Discovered::default()
            };
        }
    };
    let (text, _) = decode::decode_text(&decoded.bytes, content_type);
    if is_css {
        let links = css::css_urls(&text, &ex.url)
            .into_iter()
            .map(|url| Link {
                url,
                kind: LinkKind::Requisite,
            })
            .collect();
        return Discovered {
            links,
            ..Discovered::default()
        };
    }
    let doc = scraper::Html::parse_document(&text);
    let title = doc.select(title_selector()).next().map(|t| {
        t.text()
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    });
    let (extraction, comment_pages) = articles::extract(&doc, &ex.url, ex.started_at);
    Discovered {
        links: links::page_links(&doc, &ex.url),
        title,
        extraction,
        comment_pages,
        ..Discovered::default()
    }
}
