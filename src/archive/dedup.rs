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
//! Memory: one entry per distinct eligible payload of the crawl.

use std::collections::HashMap;
use std::sync::Mutex;

use super::record::OriginalCapture;
use crate::fetch::Exchange;

pub struct PayloadDedup {
    enabled: bool,
    min_bytes: u64,
    originals: Mutex<HashMap<String, Original>>,
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
    pub fn new(enabled: bool, min_bytes: u64) -> PayloadDedup {
        PayloadDedup {
            enabled,
            min_bytes,
            originals: Mutex::new(HashMap::new()),
        }
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
        let mut map = self.map();
        match map.get(digest) {
            Some(orig) if orig.written => Claim::Revisit(orig.capture.clone()),
            Some(orig) => match &orig.done {
                Some(tx) => Claim::Wait(tx.subscribe()),
                None => Claim::Full,
            },
            None => {
                map.insert(
                    digest.to_string(),
                    Original {
                        capture: this,
                        written: false,
                        done: Some(tokio::sync::watch::channel(false).0),
                    },
                );
                Claim::Full
            }
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Original>> {
        // A poisoned lock only means another worker panicked mid-insert; the map is still
        // usable, and losing dedup is better than losing the capture.
        self.originals
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The original claimed under `record_id` is now in a WARC: later captures may point at it.
    pub fn confirm(&self, digest: &str, record_id: &str) {
        if let Some(o) = self.map().get_mut(digest)
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
        let mut map = self.map();
        if map
            .get(digest)
            .is_some_and(|o| o.capture.record_id == record_id)
        {
            map.remove(digest);
        }
    }

    /// An original from an earlier run of the crawl (resume), already written.
    pub fn remember(&self, digest: &str, capture: OriginalCapture) {
        self.map().entry(digest.to_string()).or_insert(Original {
            capture,
            written: true,
            done: None,
        });
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
}
