//! Byte fidelity of the fetchers against hand-written loopback servers.
//!
//! Every server binds 127.0.0.1:0, serves a bounded number of connections, and is aborted when
//! its handle drops at the end of the test.

#[path = "fetch_fidelity/server.rs"]
mod server;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use server::{Reply, start_server, start_server_with};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use url::Url;
use warcrow::fetch::{
    self, Exchange, FetchError, FetchRequest, FetchSettings, Fetcher, FetcherKind, Protocol,
    Truncation,
};

fn settings() -> FetchSettings {
    FetchSettings {
        user_agent: "warcrow-test/1".into(),
        connect_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(20),
        max_body_bytes: 10 * 1024 * 1024,
        extra_ca_pem: Vec::new(),
        proxy: None,
        pool_idle_per_host: 4,
        // These servers are on loopback.
        address_policy: fetch::AddressPolicy::AllowAll,
    }
}

fn get(url: Url) -> FetchRequest {
    FetchRequest {
        url,
        headers: vec![("Referer".into(), "http://example.test/".into())],
    }
}

fn block(ex: &Exchange) -> Vec<u8> {
    [&ex.response_head[..], &ex.response_body[..]].concat()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

const MIXED: &[u8] = b"HTTP/1.1 200 OK\r\nX-MiXeD-CaSe: Yes\r\nSet-Cookie: a=1; Path=/\r\nContent-Type: text/plain\r\nSet-Cookie: b=2\r\nContent-Length: 5\r\n\r\nhello";
const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n";

fn gzip_response() -> Vec<u8> {
    let body = gzip(b"<html>compressed and kept compressed</html>");
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(&body);
    r
}

fn fidelity_responder(path: &str) -> Reply {
    match path {
        "/mixed" => Reply::KeepAlive(MIXED.to_vec()),
        "/chunked" => Reply::KeepAlive(CHUNKED.to_vec()),
        "/gzip" => Reply::KeepAlive(gzip_response()),
        _ => Reply::Close(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec()),
    }
}

#[tokio::test]
async fn wire_records_exact_bytes_on_one_keep_alive_connection() {
    let server = start_server(fidelity_responder).await;
    let fetcher = fetch::build(FetcherKind::Wire, &settings()).expect("fetcher");

    let mixed = fetcher
        .fetch(&get(server.url("/mixed")))
        .await
        .expect("mixed");
    let chunked = fetcher
        .fetch(&get(server.url("/chunked")))
        .await
        .expect("chunked");
    let gz = fetcher
        .fetch(&get(server.url("/gzip")))
        .await
        .expect("gzip");

    for (ex, path) in [(&mixed, "/mixed"), (&chunked, "/chunked"), (&gz, "/gzip")] {
        let logged = server.logged(path);
        assert_eq!(block(ex), logged.response, "response bytes for {path}");
        assert_eq!(
            &ex.request[..],
            &logged.request[..],
            "request bytes for {path}"
        );
        assert_eq!(ex.status, 200);
        assert_eq!(ex.protocol, Protocol::Http11);
        assert_eq!(ex.truncated, None);
        assert_eq!(ex.ip, Some(server.addr.ip()));
        assert!(ex.response_head.ends_with(b"\r\n\r\n"));
    }
    // Whether hyper reused the connection or raced a new one against the pool is its business;
    // the pooled test below checks reuse over many fetches.

    // Request: our headers in order, Host first, the caller's header last.
    let req = String::from_utf8(mixed.request.to_vec()).expect("utf8");
    let expected = format!(
        "GET /mixed HTTP/1.1\r\nHost: {}\r\nUser-Agent: warcrow-test/1\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Encoding: gzip, br\r\nReferer: http://example.test/\r\n\r\n",
        server.addr
    );
    assert_eq!(req, expected);

    assert_eq!(&mixed.payload[..], b"hello");
    assert_eq!(mixed.headers.get_all("set-cookie").iter().count(), 2);
    assert_eq!(
        mixed.headers.get("x-mixed-case").map(|v| v.as_bytes()),
        Some(&b"Yes"[..])
    );
    assert_eq!(mixed.content_type(), Some("text/plain"));

    assert_eq!(&chunked.payload[..], b"hello world");
    assert!(chunked.response_body.starts_with(b"5;ext=1\r\n"));
    assert!(chunked.response_body.ends_with(b"X-Checksum: abc\r\n\r\n"));

    let gz_body = gzip(b"<html>compressed and kept compressed</html>");
    assert_eq!(
        &gz.payload[..],
        &gz_body[..],
        "payload stays gzip-compressed"
    );
    // Not chunked: payload and body are the same bytes, not a copy.
    assert_eq!(gz.payload.as_ptr(), gz.response_body.as_ptr());
}

// Several worker threads, so a released connection can be reused while its previous fetch is
// still collecting its record.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wire_pooled_concurrent_fetches_stay_matched() {
    let server = start_server(|path| {
        let n: usize = path
            .rsplit('/')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = format!("{path} ").repeat(n * 7 + 1);
        if n.is_multiple_of(3) {
            let mut r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            for piece in body.as_bytes().chunks(13) {
                r.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                r.extend_from_slice(piece);
                r.extend_from_slice(b"\r\n");
            }
            r.extend_from_slice(b"0\r\n\r\n");
            Reply::KeepAlive(r)
        } else {
            Reply::KeepAlive(
                format!(
                    "HTTP/1.1 200 OK\r\nX-Path: {path}\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes(),
            )
        }
    })
    .await;
    let fetcher: Arc<dyn Fetcher> =
        Arc::from(fetch::build(FetcherKind::Wire, &settings()).expect("fetcher"));

    for round in 0..3 {
        let mut set = JoinSet::new();
        for i in 0..24 {
            let fetcher = Arc::clone(&fetcher);
            let url = server.url(&format!("/r{round}/p/{i}"));
            set.spawn(async move { (url.clone(), fetcher.fetch(&get(url)).await) });
        }
        while let Some(joined) = set.join_next().await {
            let (url, result) = joined.expect("task");
            let ex = result.expect("fetch");
            let logged = server.logged(url.path());
            assert_eq!(ex.url, url);
            assert_eq!(&ex.request[..], &logged.request[..], "request of {url}");
            assert_eq!(block(&ex), logged.response, "response of {url}");
            let expected = format!("{} ", url.path()).repeat(
                url.path()
                    .rsplit('/')
                    .next()
                    .and_then(|s| s.parse::<usize>().ok())
                    .unwrap_or(0)
                    * 7
                    + 1,
            );
            assert_eq!(&ex.payload[..], expected.as_bytes(), "payload of {url}");
        }
    }
    let conns = *server.connections.lock().expect("count");
    assert!(
        conns < 72,
        "connections were reused ({conns} for 72 fetches)"
    );
    assert!(
        server.max_requests_per_connection() >= 2,
        "some connection carried several exchanges"
    );
}

fn self_signed() -> (Vec<u8>, tokio_rustls::TlsAcceptor) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("cert");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![ck.cert.der().clone()], key)
        .expect("server config");
    (
        ck.cert.pem().into_bytes(),
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    )
}

#[tokio::test]
async fn https_records_plaintext_and_checks_certificates() {
    let (pem, acceptor) = self_signed();
    let server = start_server_with(fidelity_responder, Some(acceptor)).await;
    let url =
        Url::parse(&format!("https://localhost:{}/chunked", server.addr.port())).expect("url");

    let trusting = FetchSettings {
        extra_ca_pem: vec![pem],
        ..settings()
    };
    for kind in [FetcherKind::Wire, FetcherKind::Reqwest] {
        let untrusting = fetch::build(kind, &settings()).expect("fetcher");
        let err = untrusting
            .fetch(&get(url.clone()))
            .await
            .expect_err("untrusted cert");
        assert!(matches!(err, FetchError::Tls(_)), "{kind:?}: {err:?}");
    }

    let wire = fetch::build(FetcherKind::Wire, &trusting).expect("fetcher");
    let ex = wire.fetch(&get(url.clone())).await.expect("https fetch");
    let logged = server.logged("/chunked");
    assert_eq!(block(&ex), logged.response);
    assert_eq!(&ex.request[..], &logged.request[..]);
    assert!(
        ex.request
            .starts_with(b"GET /chunked HTTP/1.1\r\nHost: localhost:")
    );
    assert_eq!(&ex.payload[..], b"hello world");

    let reqwest = fetch::build(FetcherKind::Reqwest, &trusting).expect("fetcher");
    let url = Url::parse(&format!("https://localhost:{}/gzip", server.addr.port())).expect("url");
    // The server above is https-only, so this also proves reqwest used the preconfigured TLS.
    let ex = reqwest.fetch(&get(url)).await.expect("reqwest https");
    assert_eq!(
        &ex.payload[..],
        &gzip(b"<html>compressed and kept compressed</html>")[..]
    );
}

#[tokio::test]
async fn wire_truncates_long_bodies_at_max_size() {
    let server = start_server(|path| {
        let body = vec![b'a'; 5000];
        if path.ends_with("/chunked") {
            let mut r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            for piece in body.chunks(300) {
                r.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                r.extend_from_slice(piece);
                r.extend_from_slice(b"\r\n");
            }
            r.extend_from_slice(b"0\r\n\r\n");
            Reply::KeepAlive(r)
        } else {
            let mut r = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n".to_vec();
            r.extend_from_slice(&body);
            Reply::KeepAlive(r)
        }
    })
    .await;
    let small = FetchSettings {
        max_body_bytes: 1000,
        ..settings()
    };
    for kind in [FetcherKind::Wire, FetcherKind::Reqwest] {
        let fetcher = fetch::build(kind, &small).expect("fetcher");
        for path in ["/plain", "/chunked"] {
            let ex = fetcher
                .fetch(&get(server.url(&format!("/{kind:?}{path}"))))
                .await
                .expect("fetch");
            assert_eq!(ex.truncated, Some(Truncation::Length), "{kind:?} {path}");
            assert_eq!(ex.payload.len(), 1000, "{kind:?} {path}");
            assert!(ex.payload.iter().all(|b| *b == b'a'));
        }
    }
    let log = server.log.lock().expect("log").clone();
    let wire_chunked = &log[1].response;
    let fetcher = fetch::build(FetcherKind::Wire, &small).expect("fetcher");
    let ex = fetcher
        .fetch(&get(server.url("/chunked")))
        .await
        .expect("fetch");
    let got = block(&ex);
    assert!(
        wire_chunked.starts_with(&got),
        "recorded bytes are a prefix of what was sent"
    );
    // 3 full chunks (300 each) and 100 bytes of the fourth, with their framing.
    assert_eq!(ex.response_body.len(), 3 * (5 + 300 + 2) + 5 + 100);
}

#[tokio::test]
async fn wire_and_reqwest_keep_partial_body_on_timeout_and_disconnect() {
    let server = start_server(|path| {
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n0123456789".to_vec();
        match path {
            "/stall" => Reply::Stall(head),
            "/close" => Reply::Close(head),
            _ => Reply::Silent,
        }
    })
    .await;
    let quick = FetchSettings {
        total_timeout: Duration::from_millis(800),
        ..settings()
    };
    for kind in [FetcherKind::Wire, FetcherKind::Reqwest] {
        let fetcher = fetch::build(kind, &quick).expect("fetcher");

        let ex = fetcher
            .fetch(&get(server.url("/stall")))
            .await
            .expect("stall");
        assert_eq!(ex.truncated, Some(Truncation::Time), "{kind:?}");
        assert_eq!(&ex.payload[..], b"0123456789", "{kind:?}");
        assert_eq!(ex.response_body, ex.payload);

        let ex = fetcher
            .fetch(&get(server.url("/close")))
            .await
            .expect("close");
        assert_eq!(ex.truncated, Some(Truncation::Disconnect), "{kind:?}");
        assert_eq!(&ex.payload[..], b"0123456789", "{kind:?}");

        let err = fetcher
            .fetch(&get(server.url("/silent")))
            .await
            .expect_err("silent");
        assert!(matches!(err, FetchError::Timeout(_)), "{kind:?}: {err:?}");
    }
}

#[tokio::test]
async fn connection_errors_are_classified() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    for kind in [FetcherKind::Wire, FetcherKind::Reqwest] {
        let fetcher = fetch::build(kind, &settings()).expect("fetcher");
        let refused = Url::parse(&format!("http://{addr}/")).expect("url");
        let err = fetcher.fetch(&get(refused)).await.expect_err("refused");
        assert!(matches!(err, FetchError::Connect(_)), "{kind:?}: {err:?}");

        let nxdomain = Url::parse("http://nonexistent.invalid/").expect("url");
        let err = fetcher.fetch(&get(nxdomain)).await.expect_err("dns");
        assert!(matches!(err, FetchError::Dns(_)), "{kind:?}: {err:?}");

        let ftp = Url::parse("ftp://example.com/").expect("url");
        let err = fetcher.fetch(&get(ftp)).await.expect_err("scheme");
        assert!(
            matches!(err, FetchError::Unsupported(_)),
            "{kind:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn wire_rejects_garbage_responses_as_protocol_errors() {
    let server = start_server(|_| Reply::Close(b"SSH-2.0-OpenSSH\r\n\r\n".to_vec())).await;
    let fetcher = fetch::build(FetcherKind::Wire, &settings()).expect("fetcher");
    let err = fetcher
        .fetch(&get(server.url("/")))
        .await
        .expect_err("garbage");
    assert!(matches!(err, FetchError::Protocol(_)), "{err:?}");
}

#[tokio::test]
async fn reqwest_rebuilds_a_consistent_head_for_chunked_bodies() {
    let server = start_server(fidelity_responder).await;
    let fetcher = fetch::build(FetcherKind::Reqwest, &settings()).expect("fetcher");
    let ex = fetcher
        .fetch(&get(server.url("/chunked")))
        .await
        .expect("fetch");
    let head = String::from_utf8(ex.response_head.to_vec()).expect("utf8");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("X-Warcrow-Orig-Transfer-Encoding: chunked\r\n"),
        "{head}"
    );
    assert!(
        !head.to_ascii_lowercase().contains("\r\ntransfer-encoding:"),
        "{head}"
    );
    assert!(
        head.contains(&format!("Content-Length: {}\r\n", ex.response_body.len())),
        "{head}"
    );
    assert!(head.ends_with("\r\n\r\n"));
    assert_eq!(&ex.response_body[..], b"hello world");
    assert_eq!(ex.response_body, ex.payload);
    assert_eq!(ex.protocol, Protocol::Http11);
    assert_eq!(ex.truncated, None);
    let req = String::from_utf8(ex.request.to_vec()).expect("utf8");
    assert!(
        req.starts_with(&format!(
            "GET /chunked HTTP/1.1\r\nHost: {}\r\nUser-Agent: warcrow-test/1\r\n",
            server.addr
        )),
        "{req}"
    );
    assert!(
        req.ends_with("Referer: http://example.test/\r\n\r\n"),
        "{req}"
    );

    let gz = fetcher
        .fetch(&get(server.url("/gzip")))
        .await
        .expect("gzip");
    assert_eq!(
        &gz.payload[..],
        &gzip(b"<html>compressed and kept compressed</html>")[..],
        "never decoded"
    );
}
