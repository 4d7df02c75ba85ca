//! A buffered reader that counts the bytes consumed from it and can look ahead a few bytes.
//!
//! `std::io::BufReader` cannot guarantee `n` bytes of look-ahead (it refills only when
//! empty), which detecting a gzip header needs, and does not count; hence this small one.

use std::io::{self, BufRead, Read};

use super::GZIP_MAGIC;

const CAPACITY: usize = 64 * 1024;

pub struct Counted<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    pos: u64,
}

impl<R: Read> Counted<R> {
    pub fn new(inner: R) -> Self {
        Counted {
            inner,
            buf: vec![0; CAPACITY],
            start: 0,
            end: 0,
            pos: 0,
        }
    }

    /// Bytes consumed so far.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// Up to `n` (≤ capacity) buffered bytes without consuming them; fewer only at the end.
    pub fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        let n = n.min(CAPACITY);
        if self.end - self.start < n {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            while self.end < n {
                match self.inner.read(&mut self.buf[self.end..]) {
                    Ok(0) => break,
                    Ok(k) => self.end += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let avail = (self.end - self.start).min(n);
        Ok(&self.buf[self.start..self.start + avail])
    }

    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            loop {
                match self.inner.read(&mut self.buf) {
                    Ok(k) => {
                        self.end = k;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.start..self.end])
    }

    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.end - self.start);
        self.start += amt;
        self.pos += amt as u64;
    }
}

/// Advances past bytes up to the next gzip header (or the end).
pub fn skip_to_gzip<R: Read>(src: &mut Counted<R>) -> io::Result<()> {
    loop {
        let buf = src.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        // Step over the first byte always: the caller saw no gzip header here.
        let skip = buf[1..]
            .iter()
            .position(|&b| b == GZIP_MAGIC[0])
            .map_or(buf.len(), |i| i + 1);
        src.consume(skip);
        let head = src.peek(GZIP_MAGIC.len())?;
        if head.is_empty() || head.starts_with(&GZIP_MAGIC) {
            return Ok(());
        }
    }
}

pub fn skip_blank_lines<R: Read>(src: &mut Counted<R>) -> io::Result<()> {
    loop {
        let buf = src.fill_buf()?;
        let n = buf
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if n == 0 {
            return Ok(());
        }
        src.consume(n);
    }
}

/// One header line (without its line ending), at most `limit` bytes; `None` at end of input.
pub fn read_line<R: Read>(src: &mut Counted<R>, limit: usize) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    loop {
        let buf = src.fill_buf()?;
        if buf.is_empty() {
            return Ok((!line.is_empty()).then_some(line));
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        line.extend_from_slice(&buf[..take]);
        src.consume(take);
        if line.len() > limit {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
        if done {
            while matches!(line.last(), Some(b'\n' | b'\r')) {
                line.pop();
            }
            return Ok(Some(line));
        }
    }
}
