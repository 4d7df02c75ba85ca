//! Per-host request rate with `governor`: one keyed limiter, a token bucket per host name.
//! The per-host and global caps on requests in flight live in the frontier and the crawl loop.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct HostPoliteness {
    /// None when `requests_per_second = 0` (no limit: loopback benchmarks and the demo).
    limiter: Option<DefaultKeyedRateLimiter<String>>,
}

impl HostPoliteness {
    pub fn new(requests_per_second: f64, burst: u32) -> HostPoliteness {
        let limiter = (requests_per_second > 0.0)
            .then(|| Quota::with_period(Duration::from_secs_f64(1.0 / requests_per_second)))
            .flatten()
            .map(|q| {
                let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
                RateLimiter::keyed(q.allow_burst(burst))
            });
        HostPoliteness { limiter }
    }

    /// Wait until `host` may get another request.
    pub async fn wait(&self, host: &str) {
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

    #[tokio::test]
    async fn zero_means_unlimited() {
        let p = HostPoliteness::new(0.0, 1);
        for _ in 0..1000 {
            p.wait("a").await;
        }
    }
}
