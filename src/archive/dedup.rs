//! Revisit decisions within a crawl: the first capture of a payload digest is stored in full;
//! a later response with the same digest becomes a `revisit` record pointing at it.
//!
//! Only complete 2xx responses take part (a truncated body is not the payload its digest
//! would claim, and replay tools only substitute successful payloads), and bodies smaller
//! than `min_bytes` are stored again in full: a revisit record's own headers cost about as
//! much as a small body, and small bodies are what a reader most often wants at hand.
//!
//! The claim is atomic: of two concurrent fetches with one digest, exactly one becomes the
//! original. Memory: one entry per distinct eligible payload of the crawl.

use std::collections::HashMap;
use std::sync::Mutex;

use super::record::OriginalCapture;
use crate::fetch::Exchange;

pub struct PayloadDedup {
    enabled: bool,
    min_bytes: u64,
    originals: Mutex<HashMap<String, OriginalCapture>>,
}

impl PayloadDedup {
    pub fn new(enabled: bool, min_bytes: u64) -> PayloadDedup {
        PayloadDedup {
            enabled,
            min_bytes,
            originals: Mutex::new(HashMap::new()),
        }
    }

    fn eligible(&self, ex: &Exchange) -> bool {
        self.enabled
            && (200..300).contains(&ex.status)
            && ex.truncated.is_none()
            && ex.response_body.len() as u64 >= self.min_bytes
    }

    /// The capture this one should point at, or None when it is to be stored in full (in which
    /// case it becomes the original for later ones, under `this`).
    pub fn claim(
        &self,
        ex: &Exchange,
        digest: &str,
        this: OriginalCapture,
    ) -> Option<OriginalCapture> {
        if !self.eligible(ex) {
            return None;
        }
        // A poisoned lock only means another worker panicked mid-insert; the map is still
        // usable, and losing dedup is better than losing the capture.
        let mut map = self
            .originals
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        match map.get(digest) {
            Some(orig) => Some(orig.clone()),
            None => {
                map.insert(digest.to_string(), this);
                None
            }
        }
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
        assert_eq!(d.claim(&e, "sha1:X", cap("a")), None);
        assert_eq!(d.claim(&e, "sha1:X", cap("b")), Some(cap("a")));
        assert_eq!(d.claim(&e, "sha1:Y", cap("c")), None);
    }

    #[test]
    fn small_errors_and_disabled_are_stored_in_full() {
        let d = PayloadDedup::new(true, 4);
        assert_eq!(d.claim(&ex(200, b"abc"), "sha1:S", cap("a")), None);
        assert_eq!(
            d.claim(&ex(200, b"abc"), "sha1:S", cap("b")),
            None,
            "below min size"
        );
        assert_eq!(d.claim(&ex(404, b"not found"), "sha1:N", cap("a")), None);
        assert_eq!(
            d.claim(&ex(404, b"not found"), "sha1:N", cap("b")),
            None,
            "not 2xx"
        );
        let off = PayloadDedup::new(false, 0);
        assert_eq!(off.claim(&ex(200, b"body"), "sha1:B", cap("a")), None);
        assert_eq!(off.claim(&ex(200, b"body"), "sha1:B", cap("b")), None);
    }
}
