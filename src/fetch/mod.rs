//! Fetch: one HTTP exchange per call, returned with the bytes the archive needs.
//!
//! Two fetchers sit behind the [`Fetcher`] trait:
//!
//! * [`wire::WireFetcher`] (the default, `fetcher = "wire"`): hyper-util's client with a
//!   connector that tees every connection's bytes into a recorder, so the request and response
//!   records hold exactly what went over the connection (status line, headers in their original
//!   order and case, chunked framing, compressed payload). HTTP/1.1 only.
//! * [`reconstructed::ReconstructedFetcher`] (`fetcher = "reqwest"`): reqwest, for what the wire
//!   fetcher cannot do (HTTP/2-only servers, HTTP and SOCKS proxies). Its records are rebuilt
//!   from reqwest's parsed view and kept self-consistent for every reader (see that module).
//!
//! Invariants of an [`Exchange`], whichever fetcher made it:
//! * `request` is a complete HTTP/1.x request message (head, and body if any).
//! * `response_head` ends with the blank line; `response_head + response_body` is the response
//!   record's block.
//! * `payload` is `response_body` with any transfer-coding removed (content-coding kept): what
//!   link and content extraction decode. (`WARC-Payload-Digest` covers `response_body`; see
//!   `archive::record` for why.)
//! * When the body was cut (max size, timeout, disconnect), `truncated` says why and both
//!   `response_body` and `payload` hold what was received up to the cut.
//! * Under [`AddressPolicy::PublicOnly`], no connection is ever opened to an address the
//!   policy refuses: both fetchers check the resolved addresses themselves (see `address.rs`).

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use url::Url;

mod address;
pub mod reconstructed;
mod recorder;
pub mod tls;
pub mod wire;

pub use address::{AddressPolicy, is_non_public, seed_addresses};

/// Which protocol carried the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http11,
    Http10,
    /// HTTP/2 (reqwest fetcher only): the records get an `HTTP/1.1` status line and
    /// `WARC-Protocol: h2`.
    H2,
}

/// Why a body was cut short (`WARC-Truncated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truncation {
    /// Longer than `max_body_bytes`.
    Length,
    /// The total timeout ran out while the body was arriving.
    Time,
    /// The server closed or reset the connection mid-body.
    Disconnect,
}

impl Truncation {
    pub fn as_str(self) -> &'static str {
        match self {
            Truncation::Length => "length",
            Truncation::Time => "time",
            Truncation::Disconnect => "disconnect",
        }
    }
}

/// What one HTTP exchange put on the wire.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The URL that was requested.
    pub url: Url,
    /// Exact request bytes sent (head, and body if any).
    pub request: Bytes,
    /// Status line + headers + the blank line, as received.
    pub response_head: Bytes,
    /// The bytes after the head as received: chunk framing and content-coding kept.
    pub response_body: Bytes,
    /// `response_body` without transfer-coding (de-chunked); content-coding kept.
    pub payload: Bytes,
    pub status: u16,
    /// Parsed response headers, for decisions (Location, Content-Type, Content-Encoding...).
    pub headers: http::HeaderMap,
    /// The peer's address, when known.
    pub ip: Option<IpAddr>,
    pub protocol: Protocol,
    pub truncated: Option<Truncation>,
    /// When the request started going out (the WARC-Date of both records).
    pub started_at: DateTime<Utc>,
    /// From start of request to the last body byte.
    pub duration: Duration,
}

impl Exchange {
    /// The response's Content-Type header (media type and parameters), if any.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }
}

/// Why a fetch produced no exchange at all.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("DNS lookup failed: {0}")]
    Dns(String),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("invalid HTTP response: {0}")]
    Protocol(String),
    #[error("unsupported URL: {0}")]
    Unsupported(String),
    /// Every address of the host was refused by the [`AddressPolicy`]; the message names the
    /// host, the addresses and the config key that allows them.
    #[error("blocked address: {0}")]
    BlockedAddress(String),
    #[error("{0}")]
    Other(String),
}

impl FetchError {
    /// A short stable name for the manifest's `error.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Dns(_) => "dns",
            FetchError::Connect(_) => "connect",
            FetchError::Tls(_) => "tls",
            FetchError::Timeout(_) => "timeout",
            FetchError::Protocol(_) => "protocol",
            FetchError::Unsupported(_) => "unsupported",
            FetchError::BlockedAddress(_) => "blocked_address",
            FetchError::Other(_) => "other",
        }
    }
}

/// Which fetcher a crawl uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FetcherKind {
    Wire,
    Reqwest,
}

/// Everything a fetcher needs to know, built from the validated config.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// Whole exchange, connect to last body byte.
    pub total_timeout: Duration,
    /// Longer bodies are cut here and marked `Truncation::Length`.
    pub max_body_bytes: u64,
    /// Extra PEM CA certificates to trust besides the built-in web roots.
    pub extra_ca_pem: Vec<Vec<u8>>,
    /// HTTP or SOCKS proxy URL (reqwest fetcher only).
    pub proxy: Option<String>,
    /// Total connections kept idle per host in the pool.
    pub pool_idle_per_host: usize,
    /// Which addresses may be connected to (the SSRF guard, see `address.rs`). `AllowAll` by
    /// default; a crawl sets `PublicOnly` with its seeds' addresses unless
    /// `fetch.allow_private_addresses` is true.
    pub address_policy: AddressPolicy,
}

impl Default for FetchSettings {
    /// Conservative defaults, mainly for tests and tools; crawls build settings from config.
    fn default() -> Self {
        Self {
            user_agent: concat!("warcrow/", env!("CARGO_PKG_VERSION")).to_string(),
            connect_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(60),
            max_body_bytes: 64 * 1024 * 1024,
            extra_ca_pem: Vec::new(),
            proxy: None,
            pool_idle_per_host: 8,
            address_policy: AddressPolicy::AllowAll,
        }
    }
}

/// One request to make.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub url: Url,
    /// Extra request headers (Referer, later conditional headers), in order.
    pub headers: Vec<(String, String)>,
}

/// Makes HTTP exchanges. Implementations never follow redirects and never decode the body.
#[async_trait::async_trait]
pub trait Fetcher: Send + Sync {
    async fn fetch(&self, req: &FetchRequest) -> Result<Exchange, FetchError>;
}

/// Builds the fetcher `kind` from `settings` (TLS roots and client set up once, shared by all
/// fetches).
pub fn build(kind: FetcherKind, settings: &FetchSettings) -> Result<Box<dyn Fetcher>, FetchError> {
    match kind {
        FetcherKind::Wire => {
            if settings.proxy.is_some() {
                // Silently going direct would surprise whoever configured the proxy.
                return Err(FetchError::Unsupported(
                    "the wire fetcher cannot use a proxy; use fetcher = \"reqwest\"".into(),
                ));
            }
            Ok(Box::new(wire::WireFetcher::new(settings)?))
        }
        FetcherKind::Reqwest => Ok(Box::new(reconstructed::ReconstructedFetcher::new(
            settings,
        )?)),
    }
}

/// The request headers every fetch sends, in order: ours first, asking like a browser does
/// (compressed bodies are archived as sent; nothing here ever decodes them), then the caller's.
/// A caller's header replaces one of ours with the same name, in place.
pub(crate) fn request_headers(
    settings: &FetchSettings,
    extra: &[(String, String)],
) -> Vec<(String, String)> {
    let mut out = vec![
        ("User-Agent".to_string(), settings.user_agent.clone()),
        (
            "Accept".to_string(),
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8".to_string(),
        ),
        ("Accept-Encoding".to_string(), "gzip, br".to_string()),
    ];
    let ours = out.len();
    for (name, value) in extra {
        match out[..ours]
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value.clone(),
            None => out.push((name.clone(), value.clone())),
        }
    }
    out
}

/// `url` minus its fragment as an `http::Uri`, for http and https only.
pub(crate) fn request_uri(url: &Url) -> Result<http::Uri, FetchError> {
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(FetchError::Unsupported(format!(
                "scheme {other:?} in {url}"
            )));
        }
    }
    if url.host_str().is_none() {
        return Err(FetchError::Unsupported(format!("no host in {url}")));
    }
    let mut u = url.clone();
    // Fragments never go on the wire; credentials in URLs are not sent either.
    u.set_fragment(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.as_str()
        .parse::<http::Uri>()
        .map_err(|e| FetchError::Unsupported(format!("{url}: {e}")))
}

/// The Host header value for `url`: host, plus the port when it is not the scheme's default.
pub(crate) fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// An error and all its sources, "outer: inner: innermost", for one-line messages.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// Join body frames into one buffer; a single frame is returned as it is (no copy).
pub(crate) fn concat_bytes(mut frames: Vec<Bytes>, len: usize) -> Bytes {
    match frames.len() {
        0 => Bytes::new(),
        1 => frames.pop().unwrap_or_default(),
        _ => {
            let mut out = bytes::BytesMut::with_capacity(len);
            for f in frames {
                out.extend_from_slice(&f);
            }
            out.freeze()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_uri_rejects_other_schemes_and_drops_fragment() {
        let ftp = Url::parse("ftp://example.com/x").expect("url");
        assert!(matches!(request_uri(&ftp), Err(FetchError::Unsupported(_))));
        let u = Url::parse("http://a:b@example.com:8080/p?q=1#frag").expect("url");
        assert_eq!(
            request_uri(&u).expect("uri").to_string(),
            "http://example.com:8080/p?q=1"
        );
        assert_eq!(host_header(&u), "example.com:8080");
        let d = Url::parse("https://example.com:443/").expect("url");
        assert_eq!(host_header(&d), "example.com");
    }

    #[test]
    fn wire_fetcher_refuses_a_proxy() {
        let settings = FetchSettings {
            proxy: Some("http://127.0.0.1:3128".into()),
            ..FetchSettings::default()
        };
        assert!(matches!(
            build(FetcherKind::Wire, &settings),
            Err(FetchError::Unsupported(_))
        ));
    }

    #[test]
    fn caller_headers_follow_ours_and_override_by_name() {
        let settings = FetchSettings::default();
        let extra = vec![
            ("Referer".to_string(), "http://a/".to_string()),
            ("accept".to_string(), "*/*".to_string()),
        ];
        let h = request_headers(&settings, &extra);
        let names: Vec<_> = h.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["User-Agent", "Accept", "Accept-Encoding", "Referer"]
        );
        assert_eq!(h[1].1, "*/*");
    }
}
