//! Revisit decisions within a crawl: the first capture of a payload digest is stored in full;
//! a later response with the same digest becomes a `revisit` record pointing at it.
//!
//! Only complete 2xx responses take part (a truncated body is not the payload its digest
//! would claim, and replay tools only substitute successful payloads), and bodies smaller
//! than `min_bytes` are stored again in full: a revisit record's own headers cost about as
//! much as a small body, and small bodies are what a reader most often wants at hand.
//!
//! The claim is atomic: of two concurrent fetches with one digest, exactly one becomes the
//! original. A revisit only ever points at an original whose records are already in a WARC
//! ([`PayloadDedup::confirm`]); while the original is being written, a second capture waits
//! for it ([`Claim::Wait`]). So a revisit always comes after its original in the files, and cutting a
//! file back to a checkpoint (resume) never leaves a revisit pointing at nothing.
//!
//! Memory: an original is held here only until the crawl's checkpoint commits it to disk
//! ([`PayloadDedup::committed`]; the crawl keeps them in frontier.db). After that only a
//! 64-bit hash of its digest stays, and a capture whose hash matches looks the original up
//! in [`CommittedOriginals`]. So memory grows by a few bytes per distinct payload, not by
//! its URL and record id.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::Mutex;

use super::record::OriginalCapture;
use crate::fetch::Exchange;

/// Originals committed to disk, looked up by payload digest.
pub trait CommittedOriginals: Send + Sync {
    fn original(&self, digest: &str) -> Option<OriginalCapture>;
}

pub struct PayloadDedup {
    enabled: bool,
    min_bytes: u64,
    inner: Mutex<Inner>,
    committed: Option<Box<dyn CommittedOriginals>>,
}

#[derive(Default)]
struct Inner {
    /// Originals being written, or written but not committed yet.
    originals: HashMap<String, Original>,
    /// Hashes of the digests of committed originals (a match is confirmed on disk).
    on_disk: HashSet<u64>,
    hasher: std::hash::RandomState,
}

impl Inner {
    fn hash(&self, digest: &str) -> u64 {
        self.hasher.hash_one(digest)
    }
}

struct Original {
    capture: OriginalCapture,
    written: bool,
    /// Tells waiting captures the original is written (true) or never will be (dropped).
    done: Option<tokio::sync::watch::Sender<bool>>,
}

/// What a capture should be written as.
#[derive(Debug)]
pub enum Claim {
    /// In full; it is the original for later captures of its payload (or takes no part).
    Full,
    /// A revisit of this capture.
    Revisit(OriginalCapture),
    /// The original is being written: wait for this, then claim again.
    Wait(tokio::sync::watch::Receiver<bool>),
}

impl Claim {
    /// The original, for tests and callers that cannot wait.
    pub fn revisit_of(self) -> Option<OriginalCapture> {
        match self {
            Claim::Revisit(o) => Some(o),
            _ => None,
        }
    }
}

impl PayloadDedup {
    /// Originals held in memory only (tests, and crawls without a database).
    pub fn new(enabled: bool, min_bytes: u64) -> PayloadDedup {
        PayloadDedup {
            enabled,
            min_bytes,
            inner: Mutex::new(Inner::default()),
            committed: None,
        }
    }

    /// Originals move to `committed` once [`PayloadDedup::committed`] says they are on disk.
    pub fn with_committed(mut self, committed: Box<dyn CommittedOriginals>) -> PayloadDedup {
        self.committed = Some(committed);
        self
    }

    /// Whether a capture takes part in deduplication within the crawl.
    pub fn eligible(&self, ex: &Exchange) -> bool {
        self.eligible_any_size(ex) && ex.response_body.len() as u64 >= self.min_bytes
    }

    /// Whether a capture may be a revisit of an earlier run of its job: any size, so a job
    /// stores each unchanged page once.
    pub fn eligible_any_size(&self, ex: &Exchange) -> bool {
        self.enabled && (200..300).contains(&ex.status) && ex.truncated.is_none()
    }

    /// How to write this capture: in full (then it becomes the original for later ones,
    /// under `this`), as a revisit, or after waiting for the original to be written.
    pub fn claim(&self, ex: &Exchange, digest: &str, this: OriginalCapture) -> Claim {
        if !self.eligible(ex) {
            return Claim::Full;
        }
        let mut inner = self.lock();
        match inner.originals.get(digest) {
            Some(orig) if orig.written => return Claim::Revisit(orig.capture.clone()),
            Some(orig) => {
                return match &orig.done {
                    Some(tx) => Claim::Wait(tx.subscribe()),
                    None => Claim::Full,
                };
            }
            None => {}
        }
        let hash = inner.hash(digest);
        if inner.on_disk.contains(&hash)
            && let Some(original) = self.committed.as_ref().and_then(|c| c.original(digest))
        {
            return Claim::Revisit(original);
        }
        inner.originals.insert(
            digest.to_string(),
            Original {
                capture: this,
                written: false,
                done: Some(tokio::sync::watch::channel(false).0),
            },
        );
        Claim::Full
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means another worker panicked mid-insert; the map is still
        // usable, and losing dedup is better than losing the capture.
        self.inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The original claimed under `record_id` is now in a WARC: later captures may point at it.
    pub fn confirm(&self, digest: &str, record_id: &str) {
        if let Some(o) = self.lock().originals.get_mut(digest)
            && o.capture.record_id == record_id
        {
            o.written = true;
            if let Some(tx) = o.done.take() {
                let _ = tx.send(true);
            }
        }
    }

    /// The original claimed under `record_id` was never written.
    pub fn forget(&self, digest: &str, record_id: &str) {
        let mut inner = self.lock();
        if inner
            .originals
            .get(digest)
            .is_some_and(|o| o.capture.record_id == record_id)
        {
            inner.originals.remove(digest);
        }
    }

    /// These originals are committed to the [`CommittedOriginals`] store: keep only their
    /// hashes. Without a store they stay in memory.
    pub fn committed<'a>(&self, digests: impl IntoIterator<Item = &'a str>) {
        if self.committed.is_none() {
            return;
        }
        let mut inner = self.lock();
        for digest in digests {
            let hash = inner.hash(digest);
            inner.on_disk.insert(hash);
            if inner.originals.get(digest).is_some_and(|o| o.written) {
                inner.originals.remove(digest);
            }
        }
    }

    /// An original from an earlier run of the crawl (resume), already committed.
    pub fn remember_committed(&self, digest: &str) {
        let mut inner = self.lock();
        let hash = inner.hash(digest);
        inner.on_disk.insert(hash);
    }

    /// Originals held in memory (being written, or not committed yet).
    pub fn held(&self) -> usize {
        self.lock().originals.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn ex(status: u16, body: &'static [u8]) -> Exchange {
        Exchange {
            url: url::Url::parse("http://a/").unwrap(),
            request: Bytes::new(),
            response_head: Bytes::from_static(b"HTTP/1.1 200 OK\r\n\r\n"),
            response_body: Bytes::from_static(body),
            payload: Bytes::from_static(body),
            status,
            headers: http::HeaderMap::new(),
            ip: None,
            protocol: crate::fetch::Protocol::Http11,
            truncated: None,
            started_at: chrono::Utc::now(),
            duration: std::time::Duration::ZERO,
        }
    }

    fn cap(uri: &str) -> OriginalCapture {
        OriginalCapture {
            uri: uri.into(),
            date: "d".into(),
            record_id: format!("<{uri}>"),
        }
    }

    #[test]
    fn first_is_original_later_ones_revisit() {
        let d = PayloadDedup::new(true, 4);
        let e = ex(200, b"same body");
        assert!(matches!(d.claim(&e, "sha1:X", cap("a")), Claim::Full));
        let Claim::Wait(rx) = d.claim(&e, "sha1:X", cap("b")) else {
            panic!("the original is not written yet: wait for it");
        };
        d.confirm("sha1:X", "<a>");
        assert!(*rx.borrow(), "the waiting capture is told");
        assert_eq!(d.claim(&e, "sha1:X", cap("b")).revisit_of(), Some(cap("a")));
        assert!(matches!(d.claim(&e, "sha1:Y", cap("c")), Claim::Full));
        // An original that is never written lets the next capture take its place.
        let Claim::Wait(rx) = d.claim(&e, "sha1:Y", cap("d")) else {
            panic!()
        };
        d.forget("sha1:Y", "<c>");
        assert!(rx.has_changed().is_err(), "sender gone: claim again");
        assert!(matches!(d.claim(&e, "sha1:Y", cap("d")), Claim::Full));
    }

    #[test]
    fn small_errors_and_disabled_are_stored_in_full() {
        let d = PayloadDedup::new(true, 4);
        let full = |c: Claim| matches!(c, Claim::Full);
        assert!(full(d.claim(&ex(200, b"abc"), "sha1:S", cap("a"))));
        d.confirm("sha1:S", "<a>");
        assert!(
            full(d.claim(&ex(200, b"abc"), "sha1:S", cap("b"))),
            "below min size"
        );
        assert!(full(d.claim(&ex(404, b"not found"), "sha1:N", cap("a"))));
        assert!(
            full(d.claim(&ex(404, b"not found"), "sha1:N", cap("b"))),
            "not 2xx"
        );
        let off = PayloadDedup::new(false, 0);
        assert!(full(off.claim(&ex(200, b"body"), "sha1:B", cap("a"))));
        assert!(full(off.claim(&ex(200, b"body"), "sha1:B", cap("b"))));
    }

    /// A store of committed originals, in memory, counting its lookups.
    #[derive(Default)]
    struct Disk {
        rows: Mutex<HashMap<String, OriginalCapture>>,
        lookups: std::sync::atomic::AtomicUsize,
    }

    impl CommittedOriginals for std::sync::Arc<Disk> {
        fn original(&self, digest: &str) -> Option<OriginalCapture> {
            self.lookups
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.rows.lock().unwrap().get(digest).cloned()
        }
    }

    #[test]
    fn committed_originals_leave_memory_and_are_looked_up_on_disk() {
        let disk = std::sync::Arc::new(Disk::default());
        let d = PayloadDedup::new(true, 4).with_committed(Box::new(disk.clone()));
        let e = ex(200, b"same body");
        assert!(matches!(d.claim(&e, "sha1:X", cap("a")), Claim::Full));
        // Not written yet: committing it (another capture with its digest) keeps it held.
        d.committed(["sha1:X"]);
        assert_eq!(d.held(), 1);
        d.confirm("sha1:X", "<a>");
        disk.rows.lock().unwrap().insert("sha1:X".into(), cap("a"));
        d.committed(["sha1:X"]);
        assert_eq!(d.held(), 0, "committed originals are not held in memory");
        assert_eq!(d.claim(&e, "sha1:X", cap("b")).revisit_of(), Some(cap("a")));
        // A digest never committed is not looked up on disk.
        let before = disk.lookups.load(std::sync::atomic::Ordering::Relaxed);
        assert!(matches!(d.claim(&e, "sha1:Y", cap("c")), Claim::Full));
        assert_eq!(
            disk.lookups.load(std::sync::atomic::Ordering::Relaxed),
            before
        );
        // After a resume: only the hash is known, the original is read from disk.
        let resumed = PayloadDedup::new(true, 4).with_committed(Box::new(disk.clone()));
        resumed.remember_committed("sha1:X");
        assert_eq!(
            resumed.claim(&e, "sha1:X", cap("d")).revisit_of(),
            Some(cap("a"))
        );
        assert_eq!(resumed.held(), 0);
    }
}
