//! The in-memory frontier: the seen set and one FIFO queue per host.
//!
//! Breadth-first within a host (URLs are taken in the order they were found, except redirect
//! targets, which go to the front so a redirect and its target are captured moments apart, as
//! replay tools expect). Hosts take turns, and a host with `max_per_host` requests in flight is
//! skipped until one finishes, so a slow host never blocks the others.
//!
//! Invariants: every URL ever queued has its canonical key in `seen` (so it is queued at most
//! once); a host is in `ready` exactly when it has pending URLs, a free slot, and `in_ready`.

use std::collections::{HashMap, HashSet, VecDeque};

use url::Url;

use crate::canonical::canonical_key;
use crate::scope::CaptureKind;

/// A URL waiting to be fetched, with where it came from.
#[derive(Debug, Clone)]
pub struct QueuedUrl {
    pub url: Url,
    pub hops: u32,
    pub via: Option<Url>,
    pub kind: CaptureKind,
    /// Needed to replay a page (scope treats it as a requisite).
    pub requisite: bool,
}

impl QueuedUrl {
    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or("")
    }
}

#[derive(Default)]
struct HostQueue {
    pending: VecDeque<QueuedUrl>,
    in_flight: usize,
    in_ready: bool,
}

pub struct Frontier {
    seen: HashSet<String>,
    hosts: HashMap<String, HostQueue>,
    ready: VecDeque<String>,
    max_per_host: usize,
    queued: usize,
    in_flight: usize,
    /// Hosts whose queue is held (their robots.txt is being fetched).
    blocked: HashSet<String>,
    /// Handed out before anything else, whatever the host (robots.txt fetches).
    urgent: VecDeque<QueuedUrl>,
}

impl Frontier {
    pub fn new(max_per_host: usize) -> Frontier {
        Frontier {
            seen: HashSet::new(),
            hosts: HashMap::new(),
            ready: VecDeque::new(),
            max_per_host: max_per_host.max(1),
            queued: 0,
            in_flight: 0,
            blocked: HashSet::new(),
            urgent: VecDeque::new(),
        }
    }

    /// Hold `host`'s queue: nothing of it is handed out until [`Frontier::unblock`].
    pub fn block(&mut self, host: &str) {
        self.blocked.insert(host.to_string());
    }

    pub fn unblock(&mut self, host: &str) {
        if self.blocked.remove(host) {
            self.make_ready(host);
        }
    }

    /// Queue a URL ahead of every host queue (and of any hold on its host).
    pub fn add_urgent(&mut self, item: QueuedUrl) -> bool {
        if !self.seen.insert(canonical_key(&item.url)) {
            return false;
        }
        self.urgent.push_back(item);
        self.queued += 1;
        true
    }

    fn make_ready(&mut self, host: &str) {
        if self.blocked.contains(host) {
            return;
        }
        if let Some(q) = self.hosts.get_mut(host)
            && !q.in_ready
            && !q.pending.is_empty()
            && q.in_flight < self.max_per_host
        {
            q.in_ready = true;
            self.ready.push_back(host.to_string());
        }
    }

    /// Queue a URL unless it was seen before. Returns false for a duplicate.
    pub fn add(&mut self, item: QueuedUrl, front: bool) -> bool {
        if !self.seen.insert(canonical_key(&item.url)) {
            return false;
        }
        let host = item.host().to_string();
        let q = self.hosts.entry(host.clone()).or_default();
        if front {
            q.pending.push_front(item);
        } else {
            q.pending.push_back(item);
        }
        self.queued += 1;
        if !q.in_ready && q.in_flight < self.max_per_host && !self.blocked.contains(&host) {
            q.in_ready = true;
            if front {
                self.ready.push_front(host);
            } else {
                self.ready.push_back(host);
            }
        }
        true
    }

    /// Has this URL been queued or fetched already?
    pub fn is_seen(&self, url: &Url) -> bool {
        self.seen.contains(&canonical_key(url))
    }

    /// The next URL whose host has a free slot, taking hosts in turn.
    pub fn next(&mut self) -> Option<QueuedUrl> {
        if let Some(item) = self.urgent.pop_front() {
            let q = self.hosts.entry(item.host().to_string()).or_default();
            q.in_flight += 1;
            self.queued -= 1;
            self.in_flight += 1;
            return Some(item);
        }
        while let Some(host) = self.ready.pop_front() {
            if self.blocked.contains(&host) {
                if let Some(q) = self.hosts.get_mut(&host) {
                    q.in_ready = false;
                }
                continue;
            }
            let Some(q) = self.hosts.get_mut(&host) else {
                continue;
            };
            let Some(item) = q.pending.pop_front() else {
                q.in_ready = false;
                continue;
            };
            q.in_flight += 1;
            self.queued -= 1;
            self.in_flight += 1;
            if !q.pending.is_empty() && q.in_flight < self.max_per_host {
                self.ready.push_back(host);
            } else {
                q.in_ready = false;
            }
            return Some(item);
        }
        None
    }

    /// A URL of `host` finished (whatever the outcome): free its slot.
    pub fn finished(&mut self, host: &str) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if let Some(q) = self.hosts.get_mut(host) {
            q.in_flight = q.in_flight.saturating_sub(1);
        }
        self.make_ready(host);
    }

    pub fn queued(&self) -> usize {
        self.queued
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(s: &str) -> QueuedUrl {
        QueuedUrl {
            url: Url::parse(s).unwrap(),
            hops: 0,
            via: None,
            kind: CaptureKind::Outlink,
            requisite: false,
        }
    }

    #[test]
    fn dedups_and_keeps_order_within_a_host() {
        let mut f = Frontier::new(10);
        assert!(f.add(item("http://a/1"), false));
        assert!(f.add(item("http://a/2"), false));
        assert!(!f.add(item("http://a/1#frag"), false), "same canonical URL");
        assert!(
            f.add(item("http://a/0"), true),
            "redirect targets jump the queue"
        );
        let order: Vec<String> =
            std::iter::from_fn(|| f.next().map(|i| i.url.path().to_string())).collect();
        assert_eq!(order, ["/0", "/1", "/2"]);
    }

    #[test]
    fn a_blocked_host_waits_while_urgent_items_go_first() {
        let mut f = Frontier::new(4);
        f.block("a");
        f.add(item("http://a/1"), false);
        f.add(item("http://b/1"), false);
        assert!(f.add_urgent(item("http://a/robots.txt")));
        assert_eq!(f.next().unwrap().url.as_str(), "http://a/robots.txt");
        assert_eq!(f.next().unwrap().url.as_str(), "http://b/1");
        assert!(f.next().is_none(), "host a is held");
        f.unblock("a");
        assert_eq!(f.next().unwrap().url.as_str(), "http://a/1");
    }

    #[test]
    fn per_host_cap_lets_other_hosts_through() {
        let mut f = Frontier::new(1);
        for s in ["http://a/1", "http://a/2", "http://b/1"] {
            f.add(item(s), false);
        }
        let first = f.next().unwrap();
        assert_eq!(first.url.as_str(), "http://a/1");
        let second = f.next().unwrap();
        assert_eq!(second.url.as_str(), "http://b/1", "host a is at its cap");
        assert!(f.next().is_none());
        f.finished("a");
        assert_eq!(f.next().unwrap().url.as_str(), "http://a/2");
        assert_eq!((f.queued(), f.in_flight()), (0, 2));
    }
}
