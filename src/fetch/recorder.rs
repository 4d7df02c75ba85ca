//! Per-connection byte recorder for the wire fetcher.
//!
//! [`Tee`] wraps a connection (the TLS stream for https, so what it sees is plaintext HTTP) and
//! appends every byte that is read or written to a shared [`Recorder`]. hyper never pipelines
//! HTTP/1.1, so on one connection the bytes form a strict sequence of exchanges: a request is
//! written, its response is read, and the next write starts the next exchange. The recorder
//! numbers exchanges on that rule and hands each one out by number, so a fetch that learned its
//! number while it held the connection gets its own bytes even if the pool has already given the
//! connection to another task.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::ops::Range;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use hyper_util::client::legacy::connect::{Connected, Connection};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Finished exchanges nobody took (their fetch was cancelled, or hyper retried a request on
/// another connection) are kept up to this many per connection, oldest dropped first, so a
/// long-lived keep-alive connection cannot grow without bound.
const MAX_UNTAKEN: usize = 4;

/// The bytes of one exchange, as they crossed the connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Recorded {
    pub sent: Bytes,
    pub received: Bytes,
}

#[derive(Debug, Default)]
struct Current {
    id: u64,
    sent: BytesMut,
    received: BytesMut,
    /// Its fetch already took the bytes; anything still arriving for it (hyper draining the
    /// rest of a body the fetch gave up on) is dropped.
    taken: bool,
}

#[derive(Debug, Default)]
struct Inner {
    current: Option<Current>,
    untaken: VecDeque<(u64, Recorded)>,
    next_id: u64,
}

/// The record of one connection, shared by its [`Tee`] and the responses it carried.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    inner: Mutex<Inner>,
}

impl Recorder {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the buffers half-updated in a way that
        // matters more than losing the record, so a poisoned lock is simply reused.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes written to the connection. A write after the current exchange received anything
    /// is the next request, so it starts a new exchange.
    pub fn on_write(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let mut inner = self.lock();
        let starts_new = match &inner.current {
            None => true,
            Some(cur) => cur.taken || !cur.received.is_empty(),
        };
        if starts_new {
            inner.finish_current();
            let id = inner.next_id;
            inner.next_id += 1;
            inner.current = Some(Current {
                id,
                ..Current::default()
            });
        }
        if let Some(cur) = inner.current.as_mut() {
            cur.sent.extend_from_slice(data);
        }
    }

    /// Bytes read from the connection: they belong to the current exchange.
    pub fn on_read(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let mut inner = self.lock();
        match inner.current.as_mut() {
            Some(cur) if !cur.taken => cur.received.extend_from_slice(data),
            Some(_) => {}
            None => tracing::debug!(len = data.len(), "bytes read before any request; dropped"),
        }
    }

    /// The number of the exchange in progress (the last request written).
    pub fn current_id(&self) -> Option<u64> {
        self.lock().current.as_ref().map(|c| c.id)
    }

    /// Takes exchange `id`'s bytes out of the recorder. `None` when it is unknown, already taken
    /// or dropped for the memory cap.
    pub fn take(&self, id: u64) -> Option<Recorded> {
        let mut inner = self.lock();
        if let Some(cur) = inner.current.as_mut().filter(|c| c.id == id) {
            if cur.taken {
                return None;
            }
            cur.taken = true;
            return Some(Recorded {
                sent: cur.sent.split().freeze(),
                received: cur.received.split().freeze(),
            });
        }
        let pos = inner.untaken.iter().position(|(i, _)| *i == id)?;
        inner.untaken.remove(pos).map(|(_, r)| r)
    }
}

impl Inner {
    fn finish_current(&mut self) {
        let Some(cur) = self.current.take() else {
            return;
        };
        if cur.taken {
            return;
        }
        self.untaken.push_back((
            cur.id,
            Recorded {
                sent: cur.sent.freeze(),
                received: cur.received.freeze(),
            },
        ));
        while self.untaken.len() > MAX_UNTAKEN {
            if let Some((id, _)) = self.untaken.pop_front() {
                tracing::debug!(exchange = id, "dropping an exchange nobody took");
            }
        }
    }
}

/// What the connector attaches to a connection (`Connected::extra`), which hyper-util then
/// copies into every response that connection carries.
#[derive(Debug)]
pub(crate) struct ConnTap {
    pub recorder: Arc<Recorder>,
    pub peer: SocketAddr,
    /// The exchange this copy belongs to.
    pub exchange: Option<u64>,
}

impl ConnTap {
    pub fn new(recorder: Arc<Recorder>, peer: SocketAddr) -> Self {
        Self {
            recorder,
            peer,
            exchange: None,
        }
    }
}

/// Cloning takes a snapshot of the exchange number. hyper-util clones the extra into a
/// response's extensions right after that response's head arrived and *before* it hands the
/// connection back to the pool, so the copy a response carries names its own exchange. Reading
/// the number later, in the fetch task, could race with the next request on the connection.
impl Clone for ConnTap {
    fn clone(&self) -> Self {
        Self {
            recorder: Arc::clone(&self.recorder),
            peer: self.peer,
            exchange: self.recorder.current_id(),
        }
    }
}

/// A stream that copies every byte read or written into a [`Recorder`].
pub(crate) struct Tee<S> {
    inner: S,
    tap: ConnTap,
}

impl<S> Tee<S> {
    pub fn new(inner: S, tap: ConnTap) -> Self {
        Self { inner, tap }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tee<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            self.tap.recorder.on_read(&buf.filled()[before..]);
        }
        res
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tee<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = res {
            // Only what the stream accepted went out; the rest is offered again later.
            self.tap.recorder.on_write(&buf[..n.min(buf.len())]);
        }
        res
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = res {
            let mut left = n;
            for b in bufs {
                if left == 0 {
                    break;
                }
                let take = left.min(b.len());
                self.tap.recorder.on_write(&b[..take]);
                left -= take;
            }
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S> Connection for Tee<S> {
    fn connected(&self) -> Connected {
        Connected::new().extra(self.tap.clone())
    }
}

/// The byte range of the final response head in `raw`: the status line through the blank line.
/// Interim `1xx` heads (which hyper skips) are stepped over unless `final_status` is itself 1xx.
pub(crate) fn final_head(raw: &[u8], final_status: u16) -> Option<Range<usize>> {
    let mut start = 0;
    loop {
        // HTTP parsers tolerate blank lines before a status line; they are not part of it.
        while raw.get(start).is_some_and(|b| *b == b'\r' || *b == b'\n') {
            start += 1;
        }
        let end = start + head_end(&raw[start..])?;
        let code = status_code(&raw[start..end]);
        if code.is_some_and(|c| (100..200).contains(&c)) && code != Some(final_status) {
            start = end;
            continue;
        }
        return Some(start..end);
    }
}

/// Length of the head at the start of `buf`, blank line included (CRLF or bare LF endings).
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == b'\n' {
            if buf[i + 1..].starts_with(b"\r\n") {
                return Some(i + 3);
            }
            if buf.get(i + 1) == Some(&b'\n') {
                return Some(i + 2);
            }
        }
        i += 1;
    }
    None
}

fn status_code(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let code = line.split(|b| *b == b' ').nth(1)?;
    std::str::from_utf8(code).ok()?.trim().parse().ok()
}

/// How many bytes of a chunked body `raw` (framing included) carry the first `limit` payload
/// bytes; with no limit, the whole message through the last chunk and trailers. Used to cut
/// the recorded body where the payload was cut, and to leave out anything read past the end.
/// Malformed framing keeps everything: hyper has already judged the body, this only trims.
pub(crate) fn chunked_prefix_len(raw: &[u8], limit: Option<usize>) -> usize {
    let mut pos = 0usize;
    let mut remaining = limit;
    loop {
        if remaining == Some(0) {
            return pos;
        }
        let Some(nl) = find_lf(raw, pos) else {
            return raw.len();
        };
        let Some(size) = chunk_size(&raw[pos..nl]) else {
            return raw.len();
        };
        pos = nl + 1;
        if size == 0 {
            // Last chunk: trailer fields up to the blank line.
            loop {
                let Some(nl) = find_lf(raw, pos) else {
                    return raw.len();
                };
                let blank = nl == pos || (nl == pos + 1 && raw[pos] == b'\r');
                pos = nl + 1;
                if blank {
                    return pos;
                }
            }
        }
        let want = remaining.map_or(size, |r| r.min(size));
        let take = want.min(raw.len() - pos);
        pos += take;
        if let Some(r) = remaining.as_mut() {
            *r -= take;
        }
        if take < size {
            return pos;
        }
        if raw[pos..].starts_with(b"\r\n") {
            pos += 2;
        } else if raw[pos..].starts_with(b"\n") {
            pos += 1;
        }
    }
}

fn find_lf(raw: &[u8], from: usize) -> Option<usize> {
    raw.get(from..)?
        .iter()
        .position(|b| *b == b'\n')
        .map(|i| from + i)
}

/// The hex size at the start of a chunk-size line (before any `;extension`).
fn chunk_size(line: &[u8]) -> Option<usize> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return None;
    }
    let hex = std::str::from_utf8(&line[..digits]).ok()?;
    // A size too large for memory is cut by the caller's limit anyway.
    Some(usize::from_str_radix(hex, 16).unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_after_read_starts_next_exchange() {
        let r = Recorder::new();
        r.on_write(b"GET /a");
        r.on_write(b" HTTP/1.1\r\n\r\n");
        r.on_read(b"HTTP/1.1 200 OK\r\n");
        r.on_read(b"\r\n");
        assert_eq!(r.current_id(), Some(0));
        r.on_write(b"GET /b HTTP/1.1\r\n\r\n");
        assert_eq!(r.current_id(), Some(1));
        r.on_read(b"HTTP/1.1 404 Not Found\r\n\r\n");

        let b = r.take(1).expect("exchange 1");
        assert_eq!(&b.sent[..], b"GET /b HTTP/1.1\r\n\r\n");
        assert_eq!(&b.received[..], b"HTTP/1.1 404 Not Found\r\n\r\n");
        let a = r.take(0).expect("exchange 0");
        assert_eq!(&a.sent[..], b"GET /a HTTP/1.1\r\n\r\n");
        assert_eq!(&a.received[..], b"HTTP/1.1 200 OK\r\n\r\n");
        assert!(r.take(0).is_none());
    }

    #[test]
    fn bytes_after_take_are_dropped_and_untaken_are_capped() {
        let r = Recorder::new();
        r.on_write(b"req0");
        r.on_read(b"resp0");
        assert!(r.take(0).is_some());
        r.on_read(b"late");
        // The next write still starts a new exchange even though nothing new was read.
        r.on_write(b"req1");
        assert_eq!(r.current_id(), Some(1));
        for i in 1..10u64 {
            r.on_read(format!("resp{i}").as_bytes());
            r.on_write(format!("req{}", i + 1).as_bytes());
        }
        assert!(r.lock().untaken.len() <= MAX_UNTAKEN);
        assert!(r.take(1).is_none(), "oldest untaken exchange was dropped");
        let last = r.take(9).expect("recent exchange kept");
        assert_eq!(&last.sent[..], b"req9");
        assert_eq!(&last.received[..], b"resp9");
    }

    #[test]
    fn clone_snapshots_the_exchange_number() {
        let r = Recorder::new();
        let tap = ConnTap::new(Arc::clone(&r), "127.0.0.1:80".parse().expect("addr"));
        r.on_write(b"a");
        let first = tap.clone();
        r.on_read(b"b");
        r.on_write(b"c");
        let second = tap.clone();
        assert_eq!(first.exchange, Some(0));
        assert_eq!(second.exchange, Some(1));
    }

    #[test]
    fn final_head_skips_interim_responses() {
        let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nA: b\r\n\r\nbody";
        let r = final_head(raw, 200).expect("head");
        assert_eq!(&raw[r], b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n");
        let lf = b"HTTP/1.0 200 OK\nA: b\n\nrest";
        assert_eq!(final_head(lf, 200), Some(0..22));
        assert_eq!(final_head(b"HTTP/1.1 200 OK\r\n", 200), None);
    }

    #[test]
    fn chunked_prefix_cuts_at_payload_and_keeps_trailers() {
        let raw = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\nJUNK";
        assert_eq!(chunked_prefix_len(raw, None), raw.len() - 4);
        assert_eq!(
            &raw[..chunked_prefix_len(raw, Some(5))],
            b"5;ext=1\r\nhello\r\n"
        );
        assert_eq!(
            &raw[..chunked_prefix_len(raw, Some(7))],
            b"5;ext=1\r\nhello\r\n6\r\n w"
        );
        // Data that stops early (a disconnect) keeps what is there.
        assert_eq!(chunked_prefix_len(b"a\r\nabc", Some(10)), 6);
        assert_eq!(chunked_prefix_len(b"zz\r\n", None), 4);
    }
}
