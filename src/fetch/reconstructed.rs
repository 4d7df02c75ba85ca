//! The reqwest fetcher: records rebuilt from reqwest's parsed view.
//!
//! Used where the wire fetcher cannot go: HTTP/2-only servers and HTTP/HTTPS/SOCKS5 proxies.
//! reqwest never shows the bytes it exchanged, so both records are rebuilt, and rebuilt so that
//! every WARC reader sees a consistent HTTP/1.1 message:
//!
//! * `request`: `GET <path?query> HTTP/1.1`, `Host`, then the headers this fetcher set, in
//!   order. Headers reqwest or a proxy add on their own (e.g. proxy credentials) are not shown.
//! * `response_head`: an `HTTP/1.1 <code> <reason>` status line (also for HTTP/2, where
//!   `protocol` is [`Protocol::H2`]; HTTP/1.0 keeps `HTTP/1.0`), then the headers as reqwest
//!   parsed them — names lowercased, original order across different names not guaranteed.
//! * reqwest has already removed the chunked framing, so `response_body` is the de-chunked body
//!   and equals `payload`. A `Transfer-Encoding` header would make readers try to de-chunk it
//!   again, so it is renamed `X-Warcrow-Orig-Transfer-Encoding`; a `Content-Length` that does
//!   not match the stored body (cut body, or HEAD-style mismatch) is renamed
//!   `X-Warcrow-Orig-Content-Length`, and a matching `Content-Length` is added when missing.
//! * Content-coding is kept: no decompression feature of reqwest is allowed to run.
//!
//! The [`AddressPolicy`] is applied in this fetcher's DNS resolver, on the addresses reqwest
//! will connect to (also the target's, when a `socks5://` proxy has us resolve it). reqwest
//! hands IP-literal hosts to no resolver, so those are checked before the request. The
//! proxy's own host name is exempt: the operator chose it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use chrono::Utc;
use http::header::{CONTENT_LENGTH, HeaderName, HeaderValue, TRANSFER_ENCODING};
use http::{HeaderMap, Version};

use super::{
    AddressPolicy, Exchange, FetchError, FetchRequest, FetchSettings, Fetcher, Protocol,
    Truncation, host_header, request_headers, request_uri, tls,
};

/// Renamed transfer-coding header (the body is stored de-chunked).
pub const ORIG_TRANSFER_ENCODING: &str = "X-Warcrow-Orig-Transfer-Encoding";
/// Renamed content length that does not match the stored body.
pub const ORIG_CONTENT_LENGTH: &str = "X-Warcrow-Orig-Content-Length";

/// Fetcher on reqwest (HTTP/2, proxies), with rebuilt records.
#[derive(Debug)]
pub struct ReconstructedFetcher {
    client: reqwest::Client,
    settings: FetchSettings,
}

impl ReconstructedFetcher {
    pub fn new(settings: &FetchSettings) -> Result<Self, FetchError> {
        let tls = tls::client_config(settings, tls::ALPN_H2_HTTP1)?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.connect_timeout)
            .pool_max_idle_per_host(settings.pool_idle_per_host)
            // We archive bodies as sent: never let reqwest decode them, whatever its features.
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .no_zstd()
            .tls_backend_preconfigured(tls)
            .dns_resolver(Arc::new(GuardedResolver {
                policy: Arc::new(settings.address_policy.clone()),
                proxy_host: settings
                    .proxy
                    .as_deref()
                    .and_then(|p| url::Url::parse(p).ok())
                    .and_then(|u| u.host_str().map(str::to_ascii_lowercase)),
            }));
        builder = match &settings.proxy {
            Some(p) => builder.proxy(
                reqwest::Proxy::all(p.as_str())
                    .map_err(|e| FetchError::Other(format!("proxy {p:?}: {e}")))?,
            ),
            None => builder.no_proxy(),
        };
        let client = builder.build().map_err(|e| {
            FetchError::Other(format!("building HTTP client: {}", super::error_chain(&e)))
        })?;
        Ok(Self {
            client,
            settings: settings.clone(),
        })
    }
}

#[async_trait::async_trait]
impl Fetcher for ReconstructedFetcher {
    async fn fetch(&self, req: &FetchRequest) -> Result<Exchange, FetchError> {
        let total = self.settings.total_timeout;
        let uri = request_uri(&req.url)?;
        self.settings.address_policy.check_literal(&req.url)?;
        let mut url = req.url.clone();
        url.set_fragment(None);
        let headers = request_headers(&self.settings, &req.headers);
        let mut header_map = HeaderMap::with_capacity(headers.len());
        for (name, value) in &headers {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| FetchError::Other(format!("request header name {name:?}: {e}")))?;
            let v = HeaderValue::from_str(value)
                .map_err(|e| FetchError::Other(format!("request header {name}: {e}")))?;
            header_map.append(n, v);
        }
        let request = build_request_record(&uri, &host_header(&req.url), &headers);

        let started_at = Utc::now();
        let start = Instant::now();
        let deadline = tokio::time::Instant::from_std(start) + total;
        let send = self.client.get(url).headers(header_map).send();
        let mut resp = match tokio::time::timeout_at(deadline, send).await {
            Err(_) => return Err(FetchError::Timeout(total)),
            Ok(Err(e)) => return Err(map_reqwest_error(&e)),
            Ok(Ok(r)) => r,
        };
        let status = resp.status();
        let version = resp.version();
        let ip = resp.remote_addr().map(|a| a.ip());
        let reason = resp
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| r.as_bytes().to_vec())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("").as_bytes().to_vec());
        let response_headers = resp.headers().clone();

        let max = self.settings.max_body_bytes;
        let mut got: u64 = 0;
        let mut chunks: Vec<Bytes> = Vec::new();
        let mut truncated = None;
        loop {
            match tokio::time::timeout_at(deadline, resp.chunk()).await {
                Err(_) => {
                    truncated = Some(Truncation::Time);
                    break;
                }
                Ok(Ok(None)) => break,
                Ok(Err(e)) => {
                    tracing::debug!(url = %req.url, error = %super::error_chain(&e), "body cut short");
                    truncated = Some(Truncation::Disconnect);
                    break;
                }
                Ok(Ok(Some(mut data))) => {
                    let room = max.saturating_sub(got);
                    if data.len() as u64 > room {
                        data.truncate(room as usize);
                        truncated = Some(Truncation::Length);
                    }
                    got += data.len() as u64;
                    if !data.is_empty() {
                        chunks.push(data);
                    }
                    if truncated.is_some() {
                        break;
                    }
                }
            }
        }
        let duration = start.elapsed();
        // Dropping an unfinished response makes hyper close (not reuse) that connection.
        drop(resp);
        let payload = super::concat_bytes(chunks, got as usize);
        let (protocol, version_str) = match version {
            Version::HTTP_2 => (Protocol::H2, "HTTP/1.1"),
            Version::HTTP_10 => (Protocol::Http10, "HTTP/1.0"),
            _ => (Protocol::Http11, "HTTP/1.1"),
        };
        let response_head = build_response_head(
            version_str,
            status.as_u16(),
            &reason,
            &response_headers,
            payload.len(),
        );
        tracing::debug!(
            url = %req.url,
            status = status.as_u16(),
            bytes = payload.len(),
            ms = duration.as_millis() as u64,
            "fetched"
        );
        Ok(Exchange {
            url: req.url.clone(),
            request,
            response_head,
            response_body: payload.clone(),
            payload,
            status: status.as_u16(),
            headers: response_headers,
            ip,
            protocol,
            truncated,
            started_at,
            duration,
        })
    }
}

fn build_request_record(uri: &http::Uri, host: &str, headers: &[(String, String)]) -> Bytes {
    let target = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut out = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n");
    for (name, value) in headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    Bytes::from(out)
}

/// Rebuilds a head that is consistent with a stored body of `body_len` de-chunked bytes.
fn build_response_head(
    version: &str,
    code: u16,
    reason: &[u8],
    headers: &HeaderMap,
    body_len: usize,
) -> Bytes {
    let len = body_len.to_string();
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(format!("{version} {code} ").as_bytes());
    out.extend_from_slice(reason);
    out.extend_from_slice(b"\r\n");
    let mut length_written = false;
    for (name, value) in headers {
        let name_out = if name == TRANSFER_ENCODING {
            ORIG_TRANSFER_ENCODING
        } else if name == CONTENT_LENGTH {
            if !length_written && value.as_bytes() == len.as_bytes() {
                length_written = true;
                "Content-Length"
            } else {
                ORIG_CONTENT_LENGTH
            }
        } else {
            name.as_str()
        };
        out.extend_from_slice(name_out.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !length_written {
        out.extend_from_slice(format!("Content-Length: {len}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    Bytes::from(out)
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A lookup failure, told apart from other connect errors by its type.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct DnsFailure(String);

/// reqwest's default resolver hides lookup failures among connect errors; this one marks them,
/// and drops the addresses the policy refuses.
struct GuardedResolver {
    policy: Arc<AddressPolicy>,
    /// The configured proxy's host name (lowercase), resolved without the policy.
    proxy_host: Option<String>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let policy = match &self.proxy_host {
            Some(p) if p.eq_ignore_ascii_case(&host) => Arc::new(AddressPolicy::AllowAll),
            _ => Arc::clone(&self.policy),
        };
        Box::pin(async move {
            let failed = |msg: String| -> BoxError { Box::new(DnsFailure(msg)) };
            let addrs = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| failed(format!("{host}: {e}")))?;
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.is_empty() {
                return Err(failed(format!("{host}: no addresses")));
            }
            // The FetchError travels boxed through reqwest and is found again by its type.
            let addrs = policy
                .filter(&host, addrs, |a| a.ip())
                .map_err(|e| -> BoxError { Box::new(e) })?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

fn map_reqwest_error(err: &reqwest::Error) -> FetchError {
    let message = super::error_chain(err);
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = src {
        if let Some(fe @ FetchError::BlockedAddress(_)) = e.downcast_ref::<FetchError>() {
            return fe.clone();
        }
        if e.downcast_ref::<DnsFailure>().is_some() {
            return FetchError::Dns(message);
        }
        if e.downcast_ref::<rustls::Error>().is_some() {
            return FetchError::Tls(message);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io_wraps_rustls(io)
        {
            return FetchError::Tls(message);
        }
        if let Some(he) = e.downcast_ref::<hyper::Error>()
            && (he.is_parse() || he.is_parse_status() || he.is_incomplete_message())
        {
            return FetchError::Protocol(message);
        }
        src = e.source();
    }
    if err.is_connect() {
        FetchError::Connect(message)
    } else if err.is_builder() {
        FetchError::Unsupported(message)
    } else if err.is_request() || err.is_body() || err.is_decode() {
        FetchError::Protocol(message)
    } else {
        FetchError::Other(message)
    }
}

/// io::Error::source skips the error it wraps, and the TLS error arrives wrapped in an
/// io::Error inside another io::Error, so look inside explicitly.
fn io_wraps_rustls(io: &std::io::Error) -> bool {
    let mut inner = io.get_ref();
    for _ in 0..4 {
        let Some(e) = inner else {
            return false;
        };
        if e.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref());
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_renames_transfer_encoding_and_fixes_length() {
        let mut h = HeaderMap::new();
        h.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        h.insert("x-a", HeaderValue::from_static("1"));
        let head = build_response_head("HTTP/1.1", 200, b"OK", &h, 11);
        assert_eq!(
            &head[..],
            b"HTTP/1.1 200 OK\r\nX-Warcrow-Orig-Transfer-Encoding: chunked\r\nx-a: 1\r\nContent-Length: 11\r\n\r\n"
        );

        let mut h = HeaderMap::new();
        h.insert(CONTENT_LENGTH, HeaderValue::from_static("100"));
        let head = build_response_head("HTTP/1.1", 206, b"Partial", &h, 40);
        assert_eq!(
            &head[..],
            b"HTTP/1.1 206 Partial\r\nX-Warcrow-Orig-Content-Length: 100\r\nContent-Length: 40\r\n\r\n"
        );

        let mut h = HeaderMap::new();
        h.insert(CONTENT_LENGTH, HeaderValue::from_static("4"));
        let head = build_response_head("HTTP/1.1", 200, b"OK", &h, 4);
        assert_eq!(&head[..], b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n");
    }

    #[test]
    fn request_record_is_origin_form() {
        let uri: http::Uri = "http://example.com:8080/a/b?c=1".parse().expect("uri");
        let rec = build_request_record(
            &uri,
            "example.com:8080",
            &[("User-Agent".into(), "x".into())],
        );
        assert_eq!(
            &rec[..],
            b"GET /a/b?c=1 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: x\r\n\r\n"
        );
    }
}
