//! Per-host request rate with `governor`: one keyed limiter, a token bucket per host name.
//! A host whose robots.txt asks for a `Crawl-delay` gets at least that long between the starts
//! of two requests as well (the wider of the two intervals wins). The per-host and global caps
//! on requests in flight live in the frontier and the crawl loop; Retry-After and backoff
//! holds live in the frontier too (a held host takes no worker slot).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

pub struct HostPoliteness {
    /// None when `requests_per_second = 0` (no limit: loopback benchmarks and the demo).
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    /// Hosts with a Crawl-delay: the delay, and when the next request may start.
    delays: Mutex<HashMap<String, (Duration, Instant)>>,
}

/// The longest Crawl-delay honoured; longer ones are capped (a typo of 86400 would otherwise
/// stall a host for a day per page).
pub const MAX_CRAWL_DELAY: Duration = Duration::from_secs(60);

impl HostPoliteness {
    pub fn new(requests_per_second: f64, burst: u32) -> HostPoliteness {
        let limiter = (requests_per_second > 0.0)
            .then(|| Quota::with_period(Duration::from_secs_f64(1.0 / requests_per_second)))
            .flatten()
            .map(|q| {
                let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
                RateLimiter::keyed(q.allow_burst(burst))
            });
        HostPoliteness {
            limiter,
            delays: Mutex::new(HashMap::new()),
        }
    }

    /// robots.txt asked for this much time between requests to `host`.
    pub fn set_crawl_delay(&self, host: &str, delay: Duration) {
        let delay = delay.min(MAX_CRAWL_DELAY);
        if let Ok(mut d) = self.delays.lock() {
            d.insert(host.to_string(), (delay, Instant::now()));
        }
    }

    /// Wait until `host` may get another request.
    pub async fn wait(&self, host: &str) {
        // Take the next Crawl-delay slot (slots are handed out in call order, so concurrent
        // requests to the host queue up one delay apart).
        let slot = self.delays.lock().ok().and_then(|mut d| {
            let (delay, next) = d.get_mut(host)?;
            let now = Instant::now();
            let at = (*next).max(now);
            *next = at + *delay;
            Some(at)
        });
        if let Some(at) = slot {
            tokio::time::sleep_until(at).await;
        }
        if let Some(l) = &self.limiter {
            l.until_key_ready(&host.to_string()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hosts_are_limited_separately() {
        let p = HostPoliteness::new(5.0, 1);
        let start = std::time::Instant::now();
        p.wait("a").await;
        p.wait("b").await;
        // A second request to "a" waits about 200 ms (one token per 1/5 s).
        p.wait("a").await;
        // (A lower bound only: it cannot be faster than the rate, whatever the machine.)
        assert!(
            start.elapsed() >= Duration::from_millis(150),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn crawl_delay_spaces_requests_to_its_host_only() {
        let p = HostPoliteness::new(0.0, 1);
        p.set_crawl_delay("slow.example", Duration::from_secs(5));
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..3 {
            p.wait("slow.example").await;
            starts.push(Instant::now() - t0);
        }
        assert_eq!(
            starts,
            [
                Duration::ZERO,
                Duration::from_secs(5),
                Duration::from_secs(10)
            ]
        );
        let before = Instant::now();
        p.wait("other.example").await;
        assert_eq!(Instant::now(), before, "other hosts do not wait");
        p.set_crawl_delay("typo.example", Duration::from_secs(86_400));
        p.wait("typo.example").await;
        let before = Instant::now();
        p.wait("typo.example").await;
        assert_eq!(Instant::now() - before, MAX_CRAWL_DELAY);
    }

    #[tokio::test]
    async fn zero_means_unlimited() {
        let p = HostPoliteness::new(0.0, 1);
        for _ in 0..1000 {
            p.wait("a").await;
        }
    }
}
