//! A minimal HTTP/1.1 server core: an accept loop that hands every request to one handler.
//!
//! It exists so the demo site and the integration-test site share one server (the test site
//! wraps [`crate::demo::respond`] in a handler that adds fault routes). There is no routing
//! table: a handler is a plain async function of the request, which is all either site needs.
//!
//! Shutdown stops accepting at once (the listening socket is closed, so new connections are
//! refused), asks every open connection to finish its current response, and aborts whatever
//! is still running after a short grace period, so a slow route cannot keep a test alive.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

/// Response body type of every handler.
pub type Body = BoxBody<Bytes, Infallible>;

/// The future a handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

/// Answers one request. Handlers cannot fail: errors become error responses.
pub type Handler = Arc<dyn Fn(Request<Incoming>) -> HandlerFuture + Send + Sync>;

/// How long open connections get to finish after shutdown before they are aborted.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// Wraps an async function as a [`Handler`].
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    Arc::new(move |req| Box::pin(f(req)) as HandlerFuture)
}

/// A body sent whole, with a known length (hyper writes `Content-Length`).
pub fn full(bytes: impl Into<Bytes>) -> Body {
    http_body_util::Full::new(bytes.into()).boxed()
}

/// A body streamed as the given pieces with no length known in advance, so HTTP/1.1
/// responses carrying it use `Transfer-Encoding: chunked` (one chunk per non-empty piece).
pub fn streamed(pieces: Vec<Bytes>) -> Body {
    Pieces {
        pieces: pieces.into_iter().filter(|p| !p.is_empty()).collect(),
    }
    .boxed()
}

/// Body over a queue of pieces; it deliberately keeps the default (unknown) size hint.
struct Pieces {
    pieces: std::collections::VecDeque<Bytes>,
}

impl hyper::body::Body for Pieces {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.pieces.pop_front().map(|p| Ok(Frame::data(p))))
    }

    fn is_end_stream(&self) -> bool {
        self.pieces.is_empty()
    }
}

/// Accepts connections on `listener` and serves each with `handler` until `shutdown`
/// completes; then stops accepting, lets open connections finish within a short grace
/// period, and aborts the rest before returning.
pub async fn serve(
    listener: TcpListener,
    handler: Handler,
    shutdown: impl Future<Output = ()> + Send,
) {
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let handler = handler.clone();
                    let closing = closing_rx.clone();
                    conns.spawn(serve_connection(stream, peer, handler, closing));
                }
                Err(e) => {
                    // Usually EMFILE or a connection reset before accept; back off briefly
                    // rather than spinning, and keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            // Reap finished connection tasks so the set does not grow without bound.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    // Closing the socket first makes new connection attempts fail immediately.
    drop(listener);
    let _ = closing_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::debug!(
            remaining = conns.len(),
            "aborting connections after shutdown grace"
        );
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    handler: Handler,
    mut closing: watch::Receiver<bool>,
) {
    let service = service_fn(move |req: Request<Incoming>| {
        let handler = handler.clone();
        async move {
            tracing::trace!(method = %req.method(), uri = %req.uri(), "request");
            Ok::<_, Infallible>(handler(req).await)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        // The watch guard is not Send, so it is dropped inside this block.
        () = async { let _ = closing.wait_for(|c| *c).await; } => {
            conn.as_mut().graceful_shutdown();
            conn.as_mut().await
        }
    };
    if let Err(e) = result {
        // Clients hanging up mid-response are normal for a crawler under test.
        tracing::debug!(%peer, error = %e, "connection ended with error");
    }
}

/// A server running in a background task: [`serve`] plus its shutdown handle.
///
/// Dropping it stops the server too (the task is aborted, which closes the listening socket
/// and every connection as soon as the runtime gets to it); [`Server::shutdown`] does the
/// same gracefully and returns only once everything is closed.
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds `addr` (use port 0 for an ephemeral port) and starts serving.
    pub async fn bind(addr: SocketAddr, handler: Handler) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        Server::from_listener(listener, handler)
    }

    /// Starts serving on an already bound listener.
    pub fn from_listener(listener: TcpListener, handler: Handler) -> io::Result<Server> {
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, handler, async move {
            // Either an explicit stop or the sender being dropped ends the server.
            let _ = stopped.await;
        }));
        tracing::debug!(%addr, "server started");
        Ok(Server {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, ends open connections (after a short grace) and waits until done.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
            && e.is_panic()
        {
            tracing::warn!(addr = %self.addr, "server task panicked");
        }
        tracing::debug!(addr = %self.addr, "server stopped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Drop cannot wait, so abort: dropping the task drops the listener and the JoinSet,
        // which aborts every connection task (a slow handler included).
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
