//! Turning a resource into an HTTP response the way a typical production server would:
//! `Server` header, `Content-Type` with charset on text, gzip content-coding only when the
//! client asked for it (with `Vary: Accept-Encoding`), `ETag`/`Last-Modified` validators and
//! `304 Not Modified`, and either a `Content-Length` or a chunked body.
//!
//! `HEAD` needs nothing special: the same response is built and hyper omits the body.

use std::io::Write;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};

use super::server::{Body, full, streamed};

/// The `Server` header every response carries.
pub const SERVER: &str = "LanternHTTP/1.4 (demo)";

/// `Last-Modified` of every static file: a fixed date keeps the site deterministic.
pub const LAST_MODIFIED: &str = "Tue, 12 Mar 2024 08:00:00 GMT";

/// What a response depends on from the request.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub method: Method,
    /// Path only, no query.
    pub path: String,
    pub query: Option<String>,
    /// The `Host` header, used for absolute URLs (canonical links, OpenGraph).
    pub host: String,
    pub accepts_gzip: bool,
    pub if_none_match: Option<String>,
}

impl RequestInfo {
    pub fn of<B>(req: &Request<B>) -> RequestInfo {
        let headers = req.headers();
        let text = |name: HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        RequestInfo {
            method: req.method().clone(),
            path: req.uri().path().to_owned(),
            query: req.uri().query().map(str::to_owned),
            host: text(header::HOST).unwrap_or_else(|| "127.0.0.1".to_owned()),
            accepts_gzip: headers
                .get_all(header::ACCEPT_ENCODING)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(accepts_gzip),
            if_none_match: text(header::IF_NONE_MATCH),
        }
    }

    /// Value of query parameter `name`, if present.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then_some(v)
        })
    }
}

/// Whether one `Accept-Encoding` value allows gzip (`gzip`, `x-gzip` or `*`, q not zero).
pub fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let zero_q = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        matches!(coding.as_str(), "gzip" | "x-gzip" | "*") && !zero_q
    })
}

/// Gzip-compresses `data` (no timestamp in the header, so the output is deterministic).
pub fn gzip(data: &[u8]) -> Bytes {
    let mut enc = GzEncoder::new(Vec::with_capacity(data.len() / 2 + 64), Compression::new(6));
    // Writing to a Vec cannot fail; fall back to the identity coding if it somehow does.
    match enc.write_all(data).and_then(|()| enc.finish()) {
        Ok(out) => Bytes::from(out),
        Err(e) => {
            tracing::warn!(error = %e, "gzip failed");
            Bytes::copy_from_slice(data)
        }
    }
}

/// How the body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length`.
    Length,
    /// `Transfer-Encoding: chunked`, the body split into roughly this many pieces.
    Chunked(usize),
}

/// Content coding chosen for a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// gzip when the client accepts it, with `Vary: Accept-Encoding` either way.
    Negotiated,
    /// Never compressed (images, fonts: already compressed).
    Identity,
    /// gzip whatever the client said (a misbehaving server, for tests).
    AlwaysGzip,
}

/// A resource about to become a response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: Bytes,
    pub coding: Coding,
    pub framing: Framing,
    /// Send `ETag` and `Last-Modified` and honour `If-None-Match`.
    pub validators: bool,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Reply {
    pub fn new(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
        Reply {
            status,
            content_type,
            body: body.into(),
            coding: Coding::Identity,
            framing: Framing::Length,
            validators: false,
            headers: Vec::new(),
        }
    }

    /// An HTML page: UTF-8, compressible.
    pub fn html(status: StatusCode, html: String) -> Reply {
        Reply {
            coding: Coding::Negotiated,
            ..Reply::new(status, "text/html; charset=utf-8", html)
        }
    }

    /// A redirect with a small HTML body, as most servers send.
    pub fn redirect(status: StatusCode, location: &str) -> Reply {
        let body = format!(
            "<!DOCTYPE html>\n<html><head><title>{code} {reason}</title></head><body>\
             <h1>{reason}</h1><p>The document has moved <a href=\"{loc}\">here</a>.</p>\
             </body></html>\n",
            code = status.as_u16(),
            reason = status.canonical_reason().unwrap_or("Redirect"),
            loc = super::html::esc(location),
        );
        Reply::html(status, body).header(header::LOCATION, location)
    }

    pub fn chunked(mut self, pieces: usize) -> Reply {
        self.framing = Framing::Chunked(pieces.max(1));
        self
    }

    pub fn coding(mut self, coding: Coding) -> Reply {
        self.coding = coding;
        self
    }

    pub fn with_validators(mut self) -> Reply {
        self.validators = true;
        self
    }

    /// Adds a header; a value that is not a valid header value is skipped (and logged).
    pub fn header(mut self, name: HeaderName, value: &str) -> Reply {
        match HeaderValue::from_str(value) {
            Ok(v) => self.headers.push((name, v)),
            Err(_) => tracing::warn!(%name, value, "invalid header value skipped"),
        }
        self
    }

    /// Builds the response for `req`.
    pub fn into_response(self, req: &RequestInfo) -> Response<Body> {
        let gzipped = match self.coding {
            Coding::Identity => false,
            Coding::Negotiated => req.accepts_gzip,
            Coding::AlwaysGzip => true,
        };
        let etag = self.validators.then(|| {
            // Like Apache, the compressed variant gets its own entity tag.
            let suffix = if gzipped { "-gzip" } else { "" };
            format!("\"{:016x}{suffix}\"", fnv1a(&self.body))
        });

        let mut builder = Response::builder()
            .status(self.status)
            .header(header::SERVER, SERVER)
            .header(header::CONTENT_TYPE, self.content_type);
        if let Some(etag) = &etag {
            builder = builder
                .header(header::ETAG, etag.as_str())
                .header(header::LAST_MODIFIED, LAST_MODIFIED);
        }
        if self.coding == Coding::Negotiated {
            builder = builder.header(header::VARY, "Accept-Encoding");
        }
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }

        let not_modified = match (&etag, &req.if_none_match) {
            (Some(etag), Some(inm)) => inm.split(',').any(|t| {
                let t = t.trim();
                t == "*" || t.trim_start_matches("W/") == etag
            }),
            _ => false,
        };
        if not_modified {
            builder = builder.status(StatusCode::NOT_MODIFIED);
            return finish(builder, full(Bytes::new()));
        }

        let payload = if gzipped {
            builder = builder.header(header::CONTENT_ENCODING, "gzip");
            gzip(&self.body)
        } else {
            self.body
        };
        let body = match self.framing {
            Framing::Length => full(payload),
            Framing::Chunked(pieces) => streamed(split(payload, pieces)),
        };
        finish(builder, body)
    }
}

fn finish(builder: http::response::Builder, body: Body) -> Response<Body> {
    builder.body(body).unwrap_or_else(|e| {
        // Only reachable through a bad header name or value, which `Reply` filters out.
        tracing::error!(error = %e, "could not build response");
        let mut resp = Response::new(full("internal error\n"));
        *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        resp
    })
}

/// Splits `data` into `pieces` nearly equal parts (zero-copy).
fn split(data: Bytes, pieces: usize) -> Vec<Bytes> {
    let size = data.len().div_ceil(pieces).max(1);
    (0..data.len())
        .step_by(size)
        .map(|start| data.slice(start..(start + size).min(data.len())))
        .collect()
}

/// FNV-1a, 64 bit: a stable content hash for entity tags and for seeding asset bytes.
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_negotiation() {
        assert!(accepts_gzip("gzip"));
        assert!(accepts_gzip("deflate, gzip;q=0.5"));
        assert!(accepts_gzip("*"));
        assert!(accepts_gzip("x-gzip"));
        assert!(!accepts_gzip("identity"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("br, deflate"));
    }

    #[test]
    fn split_covers_everything() {
        let data = Bytes::from_static(b"abcdefghij");
        let parts = split(data.clone(), 3);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.concat(), data.to_vec());
        assert_eq!(split(Bytes::new(), 3).len(), 0);
    }
}
