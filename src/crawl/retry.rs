//! When to try a URL again, and how long a host is left alone.
//!
//! Retried: network errors (refused, reset, timeout, bad HTTP), 5xx and 429 responses. Not
//! retried: DNS failures (a name that does not resolve now rarely does a second later),
//! TLS failures, blocked addresses and unsupported URLs, and every other status.
//!
//! Delay for try n+1: `base × 2^(n-1)`, at most `max`, times a random factor in [0.75, 1.25)
//! so many URLs failing together do not come back together. A 429 or 503 with `Retry-After`
//! (seconds or an HTTP date) waits that long instead, and the whole host waits with it. A
//! host that fails again and again is held for the same backoff as its URLs, counted in
//! failures in a row, and given up after `host_give_up_after` of them.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::RetrySection;
use crate::fetch::FetchError;

/// What to do after a try.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Done with this URL (success, or a failure not worth repeating).
    Final,
    /// Try again after this long; `hold_host` says whether the host waits too.
    Retry { after: Duration, hold_host: bool },
    /// It failed and will not be tried again: `reason` says why (for the manifest).
    GiveUp { reason: &'static str },
}

pub struct RetryPolicy {
    max_attempts: u32,
    base: Duration,
    max: Duration,
    max_retry_after: Duration,
    pub host_give_up_after: u32,
}

/// Whether a try failed in a way worth repeating.
pub enum Failure<'a> {
    Network(&'a FetchError),
    Status {
        status: u16,
        retry_after: Option<&'a str>,
    },
}

impl RetryPolicy {
    pub fn new(c: &RetrySection) -> RetryPolicy {
        RetryPolicy {
            max_attempts: c.max_attempts.max(1),
            base: Duration::from_secs_f64(c.base_delay_secs),
            max: Duration::from_secs_f64(c.max_delay_secs),
            max_retry_after: Duration::from_secs_f64(c.max_retry_after_secs),
            host_give_up_after: c.host_give_up_after.max(1),
        }
    }

    /// Does this outcome count as a failure of the host (and may the URL be retried)?
    pub fn is_retryable(f: &Failure) -> bool {
        match f {
            Failure::Network(e) => matches!(
                e,
                FetchError::Connect(_)
                    | FetchError::Timeout(_)
                    | FetchError::Protocol(_)
                    | FetchError::Other(_)
            ),
            Failure::Status { status, .. } => *status == 429 || (500..600).contains(status),
        }
    }

    /// The backoff before try `attempts + 1`, jitter included.
    pub fn backoff(&self, attempts: u32, jitter: f64) -> Duration {
        let exp = 2f64.powi(attempts.saturating_sub(1).min(30) as i32);
        let d = self.base.mul_f64(exp).min(self.max);
        d.mul_f64(jitter.clamp(0.75, 1.25))
    }

    /// What to do after try number `attempts` ended in `failure` (None: it did not fail).
    pub fn verdict(
        &self,
        attempts: u32,
        failure: Option<&Failure>,
        now: DateTime<Utc>,
        jitter: f64,
    ) -> Verdict {
        let Some(f) = failure.filter(|f| Self::is_retryable(f)) else {
            return Verdict::Final;
        };
        if let Failure::Status {
            status: 429 | 503,
            retry_after: Some(value),
        } = f
            && let Some(wait) = parse_retry_after(value, now)
        {
            if wait > self.max_retry_after {
                return Verdict::GiveUp {
                    reason: "retry_after_too_long",
                };
            }
            if attempts >= self.max_attempts {
                return Verdict::GiveUp {
                    reason: "max_attempts",
                };
            }
            return Verdict::Retry {
                after: wait,
                hold_host: true,
            };
        }
        if attempts >= self.max_attempts {
            return Verdict::GiveUp {
                reason: "max_attempts",
            };
        }
        Verdict::Retry {
            after: self.backoff(attempts, jitter),
            hold_host: matches!(f, Failure::Status { status: 429, .. }),
        }
    }

    /// How long a host that failed `in_a_row` times in a row is left alone.
    pub fn host_backoff(&self, in_a_row: u32, jitter: f64) -> Duration {
        self.backoff(in_a_row, jitter)
    }
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3). A date in the past is 0.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    Some((date - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::new(&RetrySection {
            max_attempts: 3,
            base_delay_secs: 2.0,
            max_delay_secs: 5.0,
            max_retry_after_secs: 60.0,
            host_give_up_after: 4,
        })
    }

    fn status(status: u16, retry_after: Option<&str>) -> Failure<'_> {
        Failure::Status {
            status,
            retry_after,
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let p = policy();
        assert_eq!(p.backoff(1, 1.0), Duration::from_secs(2));
        assert_eq!(p.backoff(2, 1.0), Duration::from_secs(4));
        assert_eq!(p.backoff(3, 1.0), Duration::from_secs(5), "capped");
        assert_eq!(p.backoff(1, 0.75), Duration::from_millis(1500));
        assert_eq!(
            p.backoff(1, 9.0),
            Duration::from_millis(2500),
            "jitter clamped"
        );
    }

    #[test]
    fn verdicts() {
        let p = policy();
        let now = Utc::now();
        assert_eq!(p.verdict(1, None, now, 1.0), Verdict::Final);
        assert_eq!(
            p.verdict(1, Some(&status(404, None)), now, 1.0),
            Verdict::Final
        );
        let dns = FetchError::Dns("x".into());
        assert_eq!(
            p.verdict(1, Some(&Failure::Network(&dns)), now, 1.0),
            Verdict::Final,
            "DNS errors are final"
        );
        let reset = FetchError::Connect("reset".into());
        assert_eq!(
            p.verdict(1, Some(&Failure::Network(&reset)), now, 1.0),
            Verdict::Retry {
                after: Duration::from_secs(2),
                hold_host: false
            }
        );
        assert_eq!(
            p.verdict(3, Some(&status(500, None)), now, 1.0),
            Verdict::GiveUp {
                reason: "max_attempts"
            }
        );
        assert_eq!(
            p.verdict(1, Some(&status(429, Some("7"))), now, 1.0),
            Verdict::Retry {
                after: Duration::from_secs(7),
                hold_host: true
            }
        );
        assert_eq!(
            p.verdict(1, Some(&status(503, Some("3600"))), now, 1.0),
            Verdict::GiveUp {
                reason: "retry_after_too_long"
            }
        );
    }

    #[test]
    fn retry_after_as_seconds_or_http_date() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Thu, 26 Nov 2026 08:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Thu, 26 Nov 2026 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
