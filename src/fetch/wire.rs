//! The wire fetcher: records exactly what crossed the connection.
//!
//! reqwest cannot show the bytes it sent or received, so this fetcher drives hyper-util's
//! legacy client (HTTP/1.1 only) through its own connector. The connector resolves, drops the
//! addresses the [`AddressPolicy`] refuses (checked on every new connection, after DNS, so a
//! rebinding name cannot slip past), connects, does the TLS handshake for https, and wraps the
//! stream — the TLS stream, so the record is plaintext HTTP — in a [`Tee`] that copies every
//! byte into a per-connection [`Recorder`]. See `recorder.rs` for how a pooled keep-alive
//! connection's bytes are split into exchanges.
//!
//! What is exact: `request` (the bytes hyper wrote), `response_head` (status line and headers
//! in their original order, case and repetition), and `response_body` (chunk sizes, chunk
//! extensions, trailers and content-coding as received). `payload` is what hyper de-chunked;
//! for a body that was not chunked it is the very same bytes as `response_body`.
//!
//! What is not exact: an interim `1xx` response before the final one is left out of
//! `response_head` (hyper skips it, and a WARC response record holds one response). When the
//! body is cut (size, time, disconnect), `response_body` stops at the byte matching the end of
//! `payload`, even if a few more bytes had been read from the socket.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use http::header::{HOST, HeaderName, HeaderValue};
use http::{Request, Uri, Version};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::capture_connection;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::recorder::{ConnTap, Recorder, Tee, chunked_prefix_len, final_head};
use super::{
    AddressPolicy, Exchange, FetchError, FetchRequest, FetchSettings, Fetcher, Protocol,
    Truncation, host_header, request_headers, request_uri, tls,
};

/// HTTP/1.1 fetcher whose records are the bytes on the wire.
pub struct WireFetcher {
    client: Client<WireConnector, Empty<Bytes>>,
    settings: FetchSettings,
}

impl std::fmt::Debug for WireFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireFetcher").finish_non_exhaustive()
    }
}

impl WireFetcher {
    pub fn new(settings: &FetchSettings) -> Result<Self, FetchError> {
        let tls = tls::client_config(settings, tls::ALPN_HTTP1)?;
        let connector = WireConnector {
            tls: TlsConnector::from(Arc::new(tls)),
            connect_timeout: settings.connect_timeout,
            policy: Arc::new(settings.address_policy.clone()),
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(settings.pool_idle_per_host)
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_timer(TokioTimer::new())
            // Browsers send Title-Case names over HTTP/1.1; hyper would otherwise lowercase.
            .http1_title_case_headers(true)
            .build(connector);
        Ok(Self {
            client,
            settings: settings.clone(),
        })
    }

    fn build_request(&self, req: &FetchRequest) -> Result<Request<Empty<Bytes>>, FetchError> {
        let uri = request_uri(&req.url)?;
        let mut request = Request::get(uri)
            .body(Empty::new())
            .map_err(|e| FetchError::Other(format!("building request: {e}")))?;
        let headers = request.headers_mut();
        // Host first, as browsers do; hyper-util would append it last.
        let host = HeaderValue::from_str(&host_header(&req.url))
            .map_err(|e| FetchError::Unsupported(format!("host of {}: {e}", req.url)))?;
        headers.insert(HOST, host);
        for (name, value) in request_headers(&self.settings, &req.headers) {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| FetchError::Other(format!("request header name {name:?}: {e}")))?;
            let value = HeaderValue::from_str(&value)
                .map_err(|e| FetchError::Other(format!("request header {name}: {e}")))?;
            headers.append(name, value);
        }
        Ok(request)
    }
}

#[async_trait::async_trait]
impl Fetcher for WireFetcher {
    async fn fetch(&self, req: &FetchRequest) -> Result<Exchange, FetchError> {
        let total = self.settings.total_timeout;
        let request = self.build_request(req)?;
        let started_at = Utc::now();
        let start = Instant::now();
        let deadline = tokio::time::Instant::from_std(start) + total;
        let mut request = request;
        let capture = capture_connection(&mut request);

        let mut resp = match tokio::time::timeout_at(deadline, self.client.request(request)).await {
            Err(_) => return Err(FetchError::Timeout(total)),
            Ok(Err(e)) => return Err(map_client_error(&e)),
            Ok(Ok(r)) => r,
        };
        // `remove`, not a clone: cloning a tap re-reads the exchange number (see recorder.rs).
        let tap = resp.extensions_mut().remove::<ConnTap>();
        let (parts, mut body) = resp.into_parts();
        let chunked = is_chunked(&parts.headers);

        let max = self.settings.max_body_bytes;
        let mut got: u64 = 0;
        // Only a chunked body needs hyper's frames: otherwise the payload is a slice of the
        // recorded bytes and the frames are dropped as they come.
        let mut frames: Vec<Bytes> = Vec::new();
        let mut truncated = None;
        loop {
            match tokio::time::timeout_at(deadline, body.frame()).await {
                Err(_) => {
                    truncated = Some(Truncation::Time);
                    break;
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    tracing::debug!(url = %req.url, error = %e, "body cut short");
                    truncated = Some(Truncation::Disconnect);
                    break;
                }
                Ok(Some(Ok(frame))) => {
                    // Trailers are in the recorded bytes already; only data counts here.
                    let Ok(mut data) = frame.into_data() else {
                        continue;
                    };
                    let room = max.saturating_sub(got);
                    if data.len() as u64 > room {
                        data.truncate(room as usize);
                        truncated = Some(Truncation::Length);
                    }
                    got += data.len() as u64;
                    if chunked && !data.is_empty() {
                        frames.push(data);
                    }
                    if truncated.is_some() {
                        break;
                    }
                }
            }
        }
        let duration = start.elapsed();
        if truncated.is_some() {
            // The rest of this body must not be read as the start of the next response.
            if let Some(conn) = &*capture.connection_metadata() {
                conn.poison();
            }
        }

        let tap =
            tap.ok_or_else(|| FetchError::Other("response without connection record".into()))?;
        let recorded = tap
            .exchange
            .and_then(|id| tap.recorder.take(id))
            .ok_or_else(|| FetchError::Other("exchange bytes missing from recorder".into()))?;
        drop(body);

        let received = recorded.received;
        let head = final_head(&received, parts.status.as_u16()).ok_or_else(|| {
            FetchError::Protocol("response head not found in recorded bytes".into())
        })?;
        let response_head = received.slice(head.clone());
        let raw_body = received.slice(head.end..);
        let got = got as usize;
        let (response_body, payload) = if chunked {
            let limit = truncated.map(|_| got);
            let body = raw_body.slice(..chunked_prefix_len(&raw_body, limit));
            (body, super::concat_bytes(frames, got))
        } else {
            let body = raw_body.slice(..got.min(raw_body.len()));
            (body.clone(), body)
        };
        if let Some(t) = truncated {
            tracing::debug!(url = %req.url, truncated = t.as_str(), bytes = got, "truncated body");
        }
        let protocol = match parts.version {
            Version::HTTP_10 => Protocol::Http10,
            _ => Protocol::Http11,
        };
        tracing::debug!(
            url = %req.url,
            status = parts.status.as_u16(),
            bytes = payload.len(),
            ms = duration.as_millis() as u64,
            "fetched"
        );
        Ok(Exchange {
            url: req.url.clone(),
            request: recorded.sent,
            response_head,
            response_body,
            payload,
            status: parts.status.as_u16(),
            headers: parts.headers,
            ip: Some(tap.peer.ip()),
            protocol,
            truncated,
            started_at,
            duration,
        })
    }
}

/// Whether hyper reads this body with the chunked decoder (chunked is the final coding).
fn is_chunked(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
}

/// Turns a hyper-util client error into the most specific [`FetchError`]: the connector's own
/// errors are found in the source chain as they were returned.
fn map_client_error(err: &hyper_util::client::legacy::Error) -> FetchError {
    let mut message = err.to_string();
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    let mut io_seen = false;
    while let Some(e) = src {
        if let Some(fe) = e.downcast_ref::<FetchError>() {
            return fe.clone();
        }
        if let Some(he) = e.downcast_ref::<hyper::Error>()
            && (he.is_parse() || he.is_parse_status() || he.is_incomplete_message())
        {
            return FetchError::Protocol(super::error_chain(e));
        }
        io_seen |= e.downcast_ref::<io::Error>().is_some();
        message = super::error_chain(e);
        src = e.source();
    }
    if io_seen {
        FetchError::Connect(message)
    } else {
        FetchError::Other(message)
    }
}

/// Connects for the legacy client and wraps the connection in a recording [`Tee`].
#[derive(Clone)]
pub(crate) struct WireConnector {
    tls: TlsConnector,
    connect_timeout: Duration,
    /// Shared: the connector is cloned for every connection.
    policy: Arc<AddressPolicy>,
}

impl tower_service::Service<Uri> for WireConnector {
    type Response = TokioIo<Tee<Stream>>;
    type Error = FetchError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, FetchError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), FetchError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.connect(uri).await })
    }
}

impl WireConnector {
    async fn connect(self, uri: Uri) -> Result<TokioIo<Tee<Stream>>, FetchError> {
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            other => return Err(FetchError::Unsupported(format!("scheme {other:?}"))),
        };
        let host = uri
            .host()
            .ok_or_else(|| FetchError::Unsupported(format!("no host in {uri}")))?;
        // IPv6 literals come bracketed in URIs; resolvers and SNI want them bare.
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });

        let addrs: Vec<_> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| FetchError::Dns(format!("{host}: {e}")))?
            .collect();
        if addrs.is_empty() {
            return Err(FetchError::Dns(format!("{host}: no addresses")));
        }
        // Here, on what was resolved, and nowhere earlier: see `address.rs`.
        let addrs = self.policy.filter(host, addrs, |a| a.ip())?;
        let mut last_err = String::new();
        let mut connected = None;
        for addr in addrs {
            match tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => {
                    connected = Some((s, addr));
                    break;
                }
                Ok(Err(e)) => last_err = format!("{addr}: {e}"),
                Err(_) => last_err = format!("{addr}: timed out after {:?}", self.connect_timeout),
            }
            tracing::debug!(host, error = %last_err, "connect attempt failed");
        }
        let (tcp, peer) = connected.ok_or(FetchError::Connect(last_err))?;
        if let Err(e) = tcp.set_nodelay(true) {
            // Only latency suffers; the exchange itself is fine.
            tracing::debug!(%peer, error = %e, "could not set TCP_NODELAY");
        }

        let stream = if https {
            let name = rustls::pki_types::ServerName::try_from(host.to_string())
                .map_err(|e| FetchError::Tls(format!("{host}: invalid server name: {e}")))?;
            let tls = tokio::time::timeout(self.connect_timeout, self.tls.connect(name, tcp))
                .await
                .map_err(|_| FetchError::Tls(format!("{host}: handshake timed out")))?
                .map_err(|e| FetchError::Tls(format!("{host}: {e}")))?;
            Stream::Tls(Box::new(tls))
        } else {
            Stream::Plain(tcp)
        };
        tracing::trace!(%peer, https, "connected");
        let tap = ConnTap::new(Recorder::new(), peer);
        Ok(TokioIo::new(Tee::new(stream, tap)))
    }
}

/// A plain or TLS connection.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_detection_uses_the_final_coding() {
        let mut h = http::HeaderMap::new();
        assert!(!is_chunked(&h));
        h.insert(
            http::header::TRANSFER_ENCODING,
            HeaderValue::from_static("gzip, Chunked"),
        );
        assert!(is_chunked(&h));
        h.insert(
            http::header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked, gzip"),
        );
        assert!(!is_chunked(&h));
    }

    #[test]
    fn concat_reuses_a_single_frame() {
        let one = Bytes::from_static(b"abc");
        assert_eq!(
            crate::fetch::concat_bytes(vec![one.clone()], 3).as_ptr(),
            one.as_ptr()
        );
        let two = crate::fetch::concat_bytes(
            vec![Bytes::from_static(b"ab"), Bytes::from_static(b"c")],
            3,
        );
        assert_eq!(&two[..], b"abc");
    }
}
