//! The frontier: what to fetch next. The queue itself lives on disk ([`Store`], SQLite); in
//! memory are only the per-host scheduling state, a short buffer of URLs per host, URLs
//! waiting for a retry, and the seen set as 64-bit hashes of the keys (16 bytes or so per URL
//! ever seen, against a few hundred for a queued URL held in memory).
//!
//! Breadth-first within a host (URLs are taken in the order they were found, except redirect
//! targets, which go to the front so a redirect and its target are captured moments apart, as
//! replay tools expect). Hosts take turns, a host with `max_per_host` requests in flight is
//! skipped until one finishes, and a host told to wait (Retry-After, backoff) sleeps without
//! holding a slot, so a slow or failing host never blocks the others.
//!
//! Invariants: every URL ever queued has its key's hash in `seen` and a row in the store; a
//! URL is in exactly one of: a host buffer, `urgent`, `delayed`, in flight, or the disk queue
//! (`on_disk`); a host is in `ready` only when `in_ready` is set.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use tokio::time::Instant;
use url::Url;

use crate::canonical::canonical_key;
use crate::scope::CaptureKind;

use super::store::{Checkpoint, Store, StoreError, UrlState};

/// URLs of one host held in memory; more wait on disk.
const BUFFER: usize = 64;

/// A URL waiting to be fetched, with where it came from.
#[derive(Debug, Clone)]
pub struct QueuedUrl {
    /// Its key in the seen set (see [`crate::traps::Traps::seen_key`]).
    pub key: String,
    pub url: Url,
    pub hops: u32,
    pub via: Option<Url>,
    pub kind: CaptureKind,
    /// Needed to replay a page (scope treats it as a requisite).
    pub requisite: bool,
    /// Tries made so far.
    pub attempts: u32,
}

impl QueuedUrl {
    /// A URL keyed by its canonical form, not fetched yet.
    pub fn new(url: Url, hops: u32, via: Option<Url>, kind: CaptureKind) -> QueuedUrl {
        let mut item = Self::unkeyed(url, hops, via, kind);
        item.key = canonical_key(&item.url);
        item
    }

    /// A URL to be keyed by [`super::state::CrawlState::offer`], which computes the seen key
    /// with the trap rules anyway: links are the hot path, so the key is computed once.
    pub fn unkeyed(url: Url, hops: u32, via: Option<Url>, kind: CaptureKind) -> QueuedUrl {
        QueuedUrl {
            key: String::new(),
            url,
            hops,
            via,
            kind,
            requisite: matches!(kind, CaptureKind::Requisite | CaptureKind::Robots),
            attempts: 0,
        }
    }

    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or("")
    }
}

fn key_hash(key: &str) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

#[derive(Default)]
struct HostQueue {
    buffer: VecDeque<QueuedUrl>,
    /// Queued rows of this host still on disk.
    on_disk: usize,
    in_flight: usize,
    in_ready: bool,
    /// Nothing of this host is handed out before then (Retry-After, backoff).
    not_before: Option<Instant>,
    /// Failures in a row (network errors, 5xx, 429); reset by any other answer.
    failures: u32,
    given_up: bool,
    /// URLs of this host ever queued (for `crawl.max_per_host`).
    total: u64,
}

pub struct Frontier {
    store: Store,
    seen: HashSet<u64>,
    rejected: HashSet<u64>,
    hosts: HashMap<String, HostQueue>,
    ready: VecDeque<String>,
    max_per_host: usize,
    queued: usize,
    in_flight: usize,
    /// Hosts whose queue is held (their robots.txt is being fetched).
    blocked: HashSet<String>,
    /// Handed out before anything else, whatever the host (robots.txt fetches).
    urgent: VecDeque<QueuedUrl>,
    /// URLs waiting for a retry, by when (and a serial, for a total order).
    delayed: BTreeMap<(Instant, u64), QueuedUrl>,
    /// Hosts sleeping until a time.
    sleeping: BTreeMap<(Instant, u64), String>,
    serial: u64,
    /// Hosts whose buffer ran dry while rows wait on disk.
    refill: Vec<String>,
}

impl Frontier {
    pub fn new(store: Store, max_per_host: usize) -> Frontier {
        Frontier {
            store,
            seen: HashSet::new(),
            rejected: HashSet::new(),
            hosts: HashMap::new(),
            ready: VecDeque::new(),
            max_per_host: max_per_host.max(1),
            queued: 0,
            in_flight: 0,
            blocked: HashSet::new(),
            urgent: VecDeque::new(),
            delayed: BTreeMap::new(),
            sleeping: BTreeMap::new(),
            serial: 0,
            refill: Vec::new(),
        }
    }

    /// Rebuild the in-memory part from the store (resume).
    pub fn load(&mut self) -> Result<(), StoreError> {
        let mut on_disk: HashMap<String, usize> = HashMap::new();
        let Frontier {
            store,
            seen,
            rejected,
            hosts,
            ..
        } = self;
        store.for_each_key(|k| {
            let h = key_hash(&k.key);
            if k.state == UrlState::Rejected {
                rejected.insert(h);
                return;
            }
            seen.insert(h);
            let q = hosts.entry(k.host.clone()).or_default();
            q.total += 1;
            if k.state == UrlState::Queued {
                *on_disk.entry(k.host).or_default() += 1;
            }
        })?;
        for (host, n) in on_disk {
            if let Some(q) = self.hosts.get_mut(&host) {
                q.on_disk = n;
            }
            self.queued += n;
            self.refill.push(host);
        }
        Ok(())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
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
        if !self.seen.insert(key_hash(&item.key)) {
            return false;
        }
        self.store.insert(&item, UrlState::Claimed, true);
        self.hosts.entry(item.host().to_string()).or_default().total += 1;
        self.urgent.push_back(item);
        self.queued += 1;
        true
    }

    fn make_ready(&mut self, host: &str) {
        if self.blocked.contains(host) {
            return;
        }
        let Some(q) = self.hosts.get_mut(host) else {
            return;
        };
        if q.in_ready || q.in_flight >= self.max_per_host || q.given_up {
            return;
        }
        if !q.buffer.is_empty() {
            q.in_ready = true;
            self.ready.push_back(host.to_string());
        } else if q.on_disk > 0 && !self.refill.iter().any(|h| h == host) {
            self.refill.push(host.to_string());
        }
    }

    /// Queue a URL unless it was seen before. Returns false for a duplicate.
    pub fn add(&mut self, item: QueuedUrl, front: bool) -> bool {
        if !self.seen.insert(key_hash(&item.key)) {
            return false;
        }
        let host = item.host().to_string();
        let q = self.hosts.entry(host.clone()).or_default();
        q.total += 1;
        if front || (q.on_disk == 0 && q.buffer.len() < BUFFER) {
            self.store.insert(&item, UrlState::Claimed, front);
            if front {
                q.buffer.push_front(item);
            } else {
                q.buffer.push_back(item);
            }
        } else {
            self.store.insert(&item, UrlState::Queued, false);
            q.on_disk += 1;
        }
        self.queued += 1;
        self.make_ready(&host);
        true
    }

    /// Has this key been queued or fetched already?
    pub fn is_seen(&self, key: &str) -> bool {
        self.seen.contains(&key_hash(key))
    }

    /// Remember a rejected URL; false if it was rejected before.
    pub fn reject(&mut self, item: &QueuedUrl, reason: &str) -> bool {
        if !self.rejected.insert(key_hash(&item.key)) {
            return false;
        }
        self.store.insert_rejected(item, reason);
        true
    }

    /// URLs of `host` ever queued.
    pub fn host_total(&self, host: &str) -> u64 {
        self.hosts.get(host).map_or(0, |q| q.total)
    }

    pub fn host_given_up(&self, host: &str) -> bool {
        self.hosts.get(host).is_some_and(|q| q.given_up)
    }

    /// Move due retries back to the front of their hosts and wake sleeping hosts.
    pub fn wake(&mut self, now: Instant) {
        while let Some(entry) = self.delayed.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let item = entry.remove();
            let host = item.host().to_string();
            self.hosts
                .entry(host.clone())
                .or_default()
                .buffer
                .push_front(item);
            self.make_ready(&host);
        }
        while let Some(entry) = self.sleeping.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let host = entry.remove();
            if let Some(q) = self.hosts.get_mut(&host)
                && q.not_before.is_some_and(|t| t <= now)
            {
                q.not_before = None;
            }
            self.make_ready(&host);
        }
    }

    /// When something waiting becomes eligible, if anything waits.
    pub fn next_wake(&self) -> Option<Instant> {
        let a = self.delayed.keys().next().map(|k| k.0);
        let b = self.sleeping.keys().next().map(|k| k.0);
        a.into_iter().chain(b).min()
    }

    /// The next URL whose host has a free slot, taking hosts in turn.
    pub fn next(&mut self, now: Instant) -> Option<QueuedUrl> {
        if let Some(item) = self.urgent.pop_front() {
            self.hosts
                .entry(item.host().to_string())
                .or_default()
                .in_flight += 1;
            self.queued -= 1;
            self.in_flight += 1;
            return Some(item);
        }
        while let Some(host) = self.ready.pop_front() {
            let blocked = self.blocked.contains(&host);
            let Some(q) = self.hosts.get_mut(&host) else {
                continue;
            };
            q.in_ready = false;
            if blocked || q.given_up {
                continue;
            }
            if let Some(t) = q.not_before.filter(|t| *t > now) {
                self.serial += 1;
                self.sleeping.insert((t, self.serial), host);
                continue;
            }
            let Some(item) = q.buffer.pop_front() else {
                continue;
            };
            q.in_flight += 1;
            self.queued -= 1;
            self.in_flight += 1;
            self.make_ready(&host);
            return Some(item);
        }
        None
    }

    /// Hosts wait for [`Frontier::refill`] (which needs pending changes committed first).
    pub fn wants_refill(&self) -> bool {
        !self.refill.is_empty()
    }

    /// Load the next rows of every host whose buffer ran dry.
    pub fn refill(&mut self) -> Result<(), StoreError> {
        for host in std::mem::take(&mut self.refill) {
            let items = self.store.claim(&host, BUFFER)?;
            let Some(q) = self.hosts.get_mut(&host) else {
                continue;
            };
            q.on_disk = q.on_disk.saturating_sub(items.len());
            if items.is_empty() {
                // The count was off (rows were changed behind it): trust the disk.
                self.queued = self.queued.saturating_sub(q.on_disk);
                q.on_disk = 0;
            }
            q.buffer.extend(items);
            self.make_ready(&host);
        }
        Ok(())
    }

    /// Changes not yet committed.
    pub fn pending(&self) -> usize {
        self.store.pending()
    }

    /// Returns the payload digests committed (see [`Store::commit`]).
    pub fn commit(&mut self, checkpoint: &Checkpoint) -> Result<Vec<String>, StoreError> {
        self.store.commit(checkpoint)
    }

    fn release(&mut self, host: &str) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if let Some(q) = self.hosts.get_mut(host) {
            q.in_flight = q.in_flight.saturating_sub(1);
        }
    }

    /// A URL handed out is done with (`Done`, `Failed` or `Rejected`): free its slot.
    pub fn finished(&mut self, item: &QueuedUrl, state: UrlState, reason: Option<&str>) {
        self.store.set_state(item, state, reason);
        let host = item.host().to_string();
        self.release(&host);
        self.make_ready(&host);
    }

    /// A URL handed out goes back to the front of its host's queue (its host was found to
    /// need robots.txt first).
    pub fn put_back(&mut self, item: QueuedUrl) {
        let host = item.host().to_string();
        self.release(&host);
        self.queued += 1;
        self.hosts
            .entry(host.clone())
            .or_default()
            .buffer
            .push_front(item);
        self.make_ready(&host);
    }

    /// Try `item` again at `at` (its `attempts` already counts the failed try).
    pub fn retry(&mut self, item: QueuedUrl, at: Instant) {
        self.store.set_state(&item, UrlState::Claimed, None);
        let host = item.host().to_string();
        self.release(&host);
        self.queued += 1;
        self.serial += 1;
        self.delayed.insert((at, self.serial), item);
        self.make_ready(&host);
    }

    /// A failure of `host` (network error, 5xx, 429): returns how many in a row.
    pub fn host_failed(&mut self, host: &str) -> u32 {
        let q = self.hosts.entry(host.to_string()).or_default();
        q.failures += 1;
        q.failures
    }

    /// Any other answer from `host`.
    pub fn host_answered(&mut self, host: &str) {
        if let Some(q) = self.hosts.get_mut(host) {
            q.failures = 0;
        }
    }

    /// Nothing of `host` before `until` (later of this and any earlier hold).
    pub fn hold_host(&mut self, host: &str, until: Instant) {
        let q = self.hosts.entry(host.to_string()).or_default();
        q.not_before = Some(q.not_before.map_or(until, |t| t.max(until)));
    }

    /// Give up `host`: its queued URLs (in memory, waiting for a retry, and on disk) are
    /// marked failed. Returns how many.
    pub fn give_up_host(&mut self, host: &str, reason: &str) -> usize {
        let Some(q) = self.hosts.get_mut(host) else {
            return 0;
        };
        q.given_up = true;
        let buffered: Vec<QueuedUrl> = q.buffer.drain(..).collect();
        let on_disk = std::mem::take(&mut q.on_disk);
        let retries: Vec<(Instant, u64)> = self
            .delayed
            .iter()
            .filter(|(_, i)| i.host() == host)
            .map(|(k, _)| *k)
            .collect();
        let mut n = on_disk;
        for item in buffered
            .into_iter()
            .chain(retries.iter().filter_map(|k| self.delayed.remove(k)))
        {
            self.store.set_state(&item, UrlState::Failed, Some(reason));
            n += 1;
        }
        self.store.set_host_queued(host, UrlState::Failed, reason);
        self.refill.retain(|h| h != host);
        self.queued = self.queued.saturating_sub(n);
        n
    }

    pub fn queued(&self) -> usize {
        self.queued
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight
    }
}

#[cfg(test)]
mod tests;
