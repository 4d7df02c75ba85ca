//! A loopback HTTP/1.1 server whose every route is a way for a server to misbehave, for
//! testing that a crawl survives them: broken connections, endless and dripping bodies,
//! decompression bombs, bad encodings, header floods, redirect loops and odd targets, and the
//! 429/503 answers a crawler must retry or give up on.
//!
//! Raw responses are written by hand on a tokio `TcpListener` (as `tests/fetch_fidelity/`
//! does), because no HTTP server library would send most of them. One request per connection
//! (`Connection: close`). Every route is linked from [`INDEX_PATH`], together with
//! [`NXDOMAIN_URL`] (a host that never resolves). The server counts the requests for each path
//! ([`FaultServer::hits`]) so tests can assert retries, and stops when dropped.
//!
//! | path | answer |
//! |---|---|
//! | `/reset/` | `Content-Length: 100000`, 1000 bytes, then a TCP reset (`SO_LINGER` 0) |
//! | `/short/` | `Content-Length: 5000`, 100 bytes, then a clean close |
//! | `/endless/` | a chunked body that never ends, a 1 KiB chunk every 5 ms |
//! | `/drip/` | a small body, one byte per 200 ms, ending within 80% of the crawl's timeout |
//! | `/gzip-bomb/` | `Content-Encoding: gzip`, ~1 MiB that inflates to 1 GiB of zeros, HTML |
//! | `/bad-gzip/` | `Content-Encoding: gzip` on a body that is not gzip |
//! | `/bad-utf8/` | `text/html; charset=utf-8` holding invalid UTF-8 |
//! | `/wrong-charset/` | says `charset=utf-8`, is windows-1252 |
//! | `/wrong-charset/latin1/` | says `charset=iso-8859-1`, is UTF-8 |
//! | `/many-headers/` | 10,000 response headers |
//! | `/loop/a/` ↔ `/loop/b/` | 302 to each other |
//! | `/to-ftp/`, `/to-mailto/` | 302 to `ftp://127.0.0.1/x`, to `mailto:x@y` |
//! | `/rate/` | 429 `Retry-After: 2` the first time, then 200 |
//! | `/rate-date/` | 429 with `Retry-After` an HTTP date ~2 s ahead the first time, then 200 |
//! | `/storm/` | 503 `Retry-After: 1`, always |
//! | `/flaky/` | 503 twice, then 200 |
//!
//! Anything else (`/robots.txt` included) is a 404.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use url::Url;

/// The page linking to every fault.
pub const INDEX_PATH: &str = "/faults/";

/// Linked from the index: `.invalid` never resolves (RFC 6761).
pub const NXDOMAIN_URL: &str = "http://does-not-resolve.invalid/";

/// Every route, as the index links them (`/loop/b/` is reached through `/loop/a/`).
pub const ROUTES: &[&str] = &[
    "/reset/",
    "/short/",
    "/endless/",
    "/drip/",
    "/gzip-bomb/",
    "/bad-gzip/",
    "/bad-utf8/",
    "/wrong-charset/",
    "/wrong-charset/latin1/",
    "/many-headers/",
    "/loop/a/",
    "/to-ftp/",
    "/to-mailto/",
    "/rate/",
    "/rate-date/",
    "/storm/",
    "/flaky/",
];

/// One drip byte per this.
pub const DRIP_EVERY: Duration = Duration::from_millis(200);

/// How much the gzip bomb inflates to, and the size of each of its gzip members.
pub const BOMB_INFLATED: usize = 1 << 30;
const BOMB_MEMBER: usize = 1 << 20;

/// Requests per path, with when each arrived.
type Hits = Arc<Mutex<HashMap<String, Vec<Instant>>>>;

pub struct FaultServer {
    addr: std::net::SocketAddr,
    hits: Hits,
    drip_len: usize,
    task: JoinHandle<()>,
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        // Aborting the accept task drops its JoinSet, which aborts every connection task
        // (the endless body's included).
        self.task.abort();
    }
}

/// What every connection task needs.
struct Shared {
    hits: Hits,
    drip_len: usize,
    /// Built once: compressing a gibibyte per request would dominate the test.
    bomb: Arc<Vec<u8>>,
}

impl FaultServer {
    /// Starts on `127.0.0.1:0`. `/drip/` sends its last byte within 80% of `crawl_timeout`
    /// (the fetch timeout of the crawl under test), so a crawler that honours its timeout
    /// still gets it whole.
    pub async fn start(crawl_timeout: Duration) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let hits: Hits = Arc::default();
        // n bytes take (n - 1) intervals: the first goes out with the head.
        let drip_len =
            ((crawl_timeout.mul_f64(0.8).as_millis() / DRIP_EVERY.as_millis()) as usize).max(1);
        let shared = Arc::new(Shared {
            hits: Arc::clone(&hits),
            drip_len,
            bomb: Arc::new(gzip_bomb()),
        });
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                conns.spawn(serve(stream, Arc::clone(&shared)));
                // Reap finished connections so the set does not grow with the crawl.
                while conns.try_join_next().is_some() {}
            }
        });
        FaultServer {
            addr,
            hits,
            drip_len,
            task,
        }
    }

    /// `http://127.0.0.1:PORT{path}`
    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.addr)).expect("valid URL")
    }

    /// The crawl seed: the index page linking to every fault.
    pub fn index_url(&self) -> Url {
        self.url(INDEX_PATH)
    }

    /// Requests received for `path` (path and query as in the request line).
    pub fn hits(&self, path: &str) -> usize {
        self.hit_times(path).len()
    }

    /// When each request for `path` arrived, in order.
    pub fn hit_times(&self, path: &str) -> Vec<Instant> {
        self.hits
            .lock()
            .expect("hits")
            .get(path)
            .cloned()
            .unwrap_or_default()
    }

    /// The length of `/drip/`'s body.
    pub fn drip_len(&self) -> usize {
        self.drip_len
    }
}

/// 1 GiB of zeros as ~1 KiB gzip members of 1 MiB each, repeated (a gzip stream may hold
/// several members): deflate cannot compress better than ~1:1000, so this is about as small
/// as a 1 GiB bomb gets, and it is cheap to build.
fn gzip_bomb() -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&vec![0u8; BOMB_MEMBER]).expect("gzip");
    let member = enc.finish().expect("gzip");
    member.repeat(BOMB_INFLATED / BOMB_MEMBER)
}

/// Reads one request head, counts it, answers it.
async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 64 * 1024 {
            return;
        }
    }
    let path = String::from_utf8_lossy(&head)
        .split(' ')
        .nth(1)
        .unwrap_or("")
        .to_string();
    let hit = {
        let mut hits = shared.hits.lock().expect("hits");
        let times = hits.entry(path.clone()).or_default();
        times.push(Instant::now());
        times.len()
    };
    // Write errors mean the client went away: nothing to do but stop.
    let _ = answer(&mut stream, &path, hit, &shared).await;
}

async fn answer(s: &mut TcpStream, path: &str, hit: usize, shared: &Shared) -> std::io::Result<()> {
    match path {
        INDEX_PATH => {
            let links: String = ROUTES
                .iter()
                .copied()
                .chain([NXDOMAIN_URL])
                .map(|p| format!("<li><a href=\"{p}\">{p}</a></li>\n"))
                .collect();
            send(
                s,
                200,
                &[HTML],
                page("Faults", &format!("<ul>\n{links}</ul>")).as_bytes(),
            )
            .await
        }
        "/reset/" => {
            s.write_all(&head(200, &[HTML, ("Content-Length", "100000")]))
                .await?;
            s.write_all(&[b'r'; 1000]).await?;
            s.flush().await?;
            // Closing with a zero linger sends RST instead of FIN.
            s.set_zero_linger()?;
            Ok(())
        }
        "/short/" => {
            s.write_all(&head(200, &[HTML, ("Content-Length", "5000")]))
                .await?;
            s.write_all(&[b's'; 100]).await?;
            s.shutdown().await
        }
        "/endless/" => {
            s.write_all(&head(200, &[HTML, ("Transfer-Encoding", "chunked")]))
                .await?;
            let data: String = "<p>endless</p>\n".chars().cycle().take(1024).collect();
            let chunk = format!("400\r\n{data}\r\n");
            loop {
                s.write_all(chunk.as_bytes()).await?;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        "/drip/" => {
            let len = shared.drip_len.to_string();
            s.write_all(&head(
                200,
                &[("Content-Type", "text/plain"), ("Content-Length", &len)],
            ))
            .await?;
            for i in 0..shared.drip_len {
                if i > 0 {
                    tokio::time::sleep(DRIP_EVERY).await;
                }
                s.write_all(b"d").await?;
            }
            s.shutdown().await
        }
        "/gzip-bomb/" => send(s, 200, &[HTML, ("Content-Encoding", "gzip")], &shared.bomb).await,
        "/bad-gzip/" => {
            let body = b"this is not gzip at all, whatever the header says";
            send(s, 200, &[HTML, ("Content-Encoding", "gzip")], body).await
        }
        "/bad-utf8/" => {
            let mut body = page("Bad UTF-8", "<p>caf\u{e9}</p>").into_bytes();
            // Lone continuation bytes, an overlong form, a truncated sequence.
            body.extend_from_slice(b"<p>\x80\xbf \xc0\xaf \xe2\x82</p>\xff\xfe\n");
            send(s, 200, &[HTML], &body).await
        }
        "/wrong-charset/" => {
            // windows-1252: e-acute, curly quotes, euro sign.
            let mut body = b"<!DOCTYPE html><title>Wrong charset</title><p>caf".to_vec();
            body.extend_from_slice(b"\xe9 \x93quoted\x94 \x80 5</p>\n");
            send(s, 200, &[HTML], &body).await
        }
        "/wrong-charset/latin1/" => {
            let body = page("Wrong charset", "<p>café “quoted” € 5</p>");
            send(
                s,
                200,
                &[("Content-Type", "text/html; charset=iso-8859-1")],
                body.as_bytes(),
            )
            .await
        }
        "/many-headers/" => {
            let mut out = head(200, &[HTML]);
            out.truncate(out.len() - 2); // reopen the head
            for i in 0..10_000 {
                out.extend_from_slice(format!("X-Fault-{i}: value {i}\r\n").as_bytes());
            }
            let body = page("Many headers", "<p>10,000 of them.</p>");
            out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
            out.extend_from_slice(body.as_bytes());
            s.write_all(&out).await?;
            s.shutdown().await
        }
        "/loop/a/" => redirect(s, "/loop/b/").await,
        "/loop/b/" => redirect(s, "/loop/a/").await,
        "/to-ftp/" => redirect(s, "ftp://127.0.0.1/x").await,
        "/to-mailto/" => redirect(s, "mailto:x@y").await,
        "/rate/" if hit == 1 => busy(s, 429, "2").await,
        "/rate-date/" if hit == 1 => {
            let when = chrono::Utc::now() + chrono::Duration::seconds(2);
            let date = when.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            busy(s, 429, &date).await
        }
        "/storm/" => busy(s, 503, "1").await,
        "/flaky/" if hit <= 2 => {
            let body = page("Service Unavailable", "<p>Try again.</p>");
            send(s, 503, &[HTML], body.as_bytes()).await
        }
        "/rate/" | "/rate-date/" | "/flaky/" => {
            send(
                s,
                200,
                &[HTML],
                page("Recovered", "<p>Fine now.</p>").as_bytes(),
            )
            .await
        }
        _ => {
            send(
                s,
                404,
                &[HTML],
                page("Not Found", "<p>No such fault.</p>").as_bytes(),
            )
            .await
        }
    }
}

const HTML: (&str, &str) = ("Content-Type", "text/html; charset=utf-8");

fn reason(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown")
}

/// A status line and `headers`, plus `Connection: close`, ending with the blank line.
fn head(status: u16, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

/// A complete response with `Content-Length`, then a clean close.
async fn send(
    s: &mut TcpStream,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<()> {
    let len = body.len().to_string();
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    all.push(("Content-Length", &len));
    s.write_all(&head(status, &all)).await?;
    s.write_all(body).await?;
    s.shutdown().await
}

async fn redirect(s: &mut TcpStream, location: &str) -> std::io::Result<()> {
    send(
        s,
        302,
        &[HTML, ("Location", location)],
        page("Found", "<p>Moved.</p>").as_bytes(),
    )
    .await
}

async fn busy(s: &mut TcpStream, status: u16, retry_after: &str) -> std::io::Result<()> {
    let body = page(reason(status), "<p>Not now.</p>");
    send(
        s,
        status,
        &[HTML, ("Retry-After", retry_after)],
        body.as_bytes(),
    )
    .await
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n{body}\n</body></html>\n"
    )
}
