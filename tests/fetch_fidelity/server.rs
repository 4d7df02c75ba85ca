//! Loopback HTTP/1.1 test server that writes hand-made raw responses and logs the exact bytes
//! of every request it read and response it wrote.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use url::Url;

/// What the server does after reading one request.
#[derive(Clone)]
pub enum Reply {
    /// Write these bytes and wait for the next request on the same connection.
    KeepAlive(Vec<u8>),
    /// Write these bytes and close.
    Close(Vec<u8>),
    /// Write these bytes, then neither write nor close until the client goes away.
    Stall(Vec<u8>),
    /// Never answer.
    Silent,
}

/// One request as the server read it and the response it wrote.
#[derive(Clone, Debug)]
pub struct Logged {
    /// Which accepted connection (0, 1, ...) carried it.
    pub conn: usize,
    pub request: Vec<u8>,
    pub response: Vec<u8>,
}

pub struct Server {
    pub addr: std::net::SocketAddr,
    pub log: Arc<Mutex<Vec<Logged>>>,
    pub connections: Arc<Mutex<usize>>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        // Aborting the accept task drops its JoinSet, which aborts every connection task.
        self.task.abort();
    }
}

impl Server {
    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{}", self.addr, path)).expect("url")
    }

    pub fn logged(&self, path: &str) -> Logged {
        let prefix = format!("GET {path} ");
        let log = self.log.lock().expect("log");
        let hits: Vec<_> = log
            .iter()
            .filter(|l| l.request.starts_with(prefix.as_bytes()))
            .collect();
        assert_eq!(hits.len(), 1, "exactly one request for {path}");
        hits[0].clone()
    }

    /// The most requests any one connection carried (more than one proves keep-alive reuse).
    pub fn max_requests_per_connection(&self) -> usize {
        let log = self.log.lock().expect("log");
        let mut counts = std::collections::HashMap::new();
        for l in log.iter() {
            *counts.entry(l.conn).or_insert(0usize) += 1;
        }
        counts.values().copied().max().unwrap_or(0)
    }
}

type Respond = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

/// Reads requests (head only: the fetchers only send GETs) and answers via `respond(path)`.
async fn serve_conn<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    conn: usize,
    respond: Respond,
    log: Arc<Mutex<Vec<Logged>>>,
) {
    let mut buf = Vec::new();
    for _ in 0..64 {
        let request = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break buf.drain(..end + 4).collect::<Vec<u8>>();
            }
            let mut chunk = [0u8; 4096];
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let path = String::from_utf8_lossy(&request)
            .split(' ')
            .nth(1)
            .unwrap_or("")
            .to_string();
        let reply = respond(&path);
        let bytes = match &reply {
            Reply::KeepAlive(b) | Reply::Close(b) | Reply::Stall(b) => b.clone(),
            Reply::Silent => Vec::new(),
        };
        log.lock().expect("log").push(Logged {
            conn,
            request,
            response: bytes.clone(),
        });
        if s.write_all(&bytes).await.is_err() || s.flush().await.is_err() {
            return;
        }
        match reply {
            Reply::KeepAlive(_) => {}
            Reply::Close(_) => {
                let _ = s.shutdown().await;
                return;
            }
            Reply::Stall(_) | Reply::Silent => {
                // Wait for the client to give up and close; no timer involved.
                let mut sink = [0u8; 1024];
                while matches!(s.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
        }
    }
}

pub async fn start_server(respond: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Server {
    start_server_with(respond, None).await
}

pub async fn start_server_with(
    respond: impl Fn(&str) -> Reply + Send + Sync + 'static,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let log = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(Mutex::new(0usize));
    let respond: Respond = Arc::new(respond);
    let (log2, conns2) = (Arc::clone(&log), Arc::clone(&connections));
    let task = tokio::spawn(async move {
        let mut tasks = JoinSet::new();
        for _ in 0..128 {
            let Ok((stream, _)) = listener.accept().await else {
                break;
            };
            let conn = {
                let mut n = conns2.lock().expect("count");
                *n += 1;
                *n - 1
            };
            let (respond, log) = (Arc::clone(&respond), Arc::clone(&log2));
            let tls = tls.clone();
            tasks.spawn(async move {
                match tls {
                    Some(acceptor) => {
                        if let Ok(s) = acceptor.accept(stream).await {
                            serve_conn(s, conn, respond, log).await;
                        }
                    }
                    None => serve_conn(stream, conn, respond, log).await,
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    });
    Server {
        addr,
        log,
        connections,
        task,
    }
}
