//! The SSRF guard: which IP addresses a fetch may connect to.
//!
//! A public page must not make the crawler probe the network it runs in (a link to
//! `http://169.254.169.254/` or to a name that resolves to `127.0.0.1`). So, under
//! [`AddressPolicy::PublicOnly`], the fetchers refuse every address [`is_non_public`] names
//! unless it is one of the allowed addresses (the seeds' own, from [`seed_addresses`]: a crawl
//! of a site on the local network is still possible when the operator asks for it).
//!
//! Invariant: the check runs on the addresses a connection is actually made to, after DNS
//! resolution and inside each fetcher's connector or resolver, never on the URL's host name
//! alone. A name that resolves to a public address when it is first seen and to a private one
//! at fetch time (DNS rebinding) is refused all the same. The one exception is a proxy that
//! resolves names itself (HTTP proxies, `socks5h://`): there only IP-literal hosts can be
//! checked, and the proxy's own address is always allowed (the operator chose it).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use url::{Host, Url};

use super::FetchError;

/// Which addresses a fetcher may connect to.
#[derive(Debug, Clone, Default)]
pub enum AddressPolicy {
    /// Everything: the default of [`super::FetchSettings`], so tools and tests that fetch from
    /// loopback keep working. A crawl sets `PublicOnly` unless
    /// `fetch.allow_private_addresses` is true.
    #[default]
    AllowAll,
    /// Refuse non-public addresses ([`is_non_public`]) except these exact IPs (the seeds' own
    /// addresses). IPv4-mapped IPv6 forms match their IPv4 address.
    PublicOnly { allowed: HashSet<IpAddr> },
}

impl AddressPolicy {
    /// Whether a connection to `ip` is allowed.
    pub fn permits(&self, ip: IpAddr) -> bool {
        match self {
            AddressPolicy::AllowAll => true,
            AddressPolicy::PublicOnly { allowed } => {
                !is_non_public(ip) || allowed.contains(&ip) || allowed.contains(&ip.to_canonical())
            }
        }
    }

    /// Keeps the addresses of `addrs` this policy permits, in order; an error naming `host`
    /// and the refused addresses when none is left. Empty input stays empty (the caller
    /// reports "no addresses" as the DNS failure it is).
    pub(crate) fn filter<A: Copy>(
        &self,
        host: &str,
        addrs: Vec<A>,
        ip_of: impl Fn(A) -> IpAddr,
    ) -> Result<Vec<A>, FetchError> {
        if addrs.is_empty() {
            return Ok(addrs);
        }
        let (ok, refused): (Vec<A>, Vec<A>) =
            addrs.into_iter().partition(|&a| self.permits(ip_of(a)));
        if !ok.is_empty() {
            if !refused.is_empty() {
                tracing::debug!(
                    host,
                    refused = refused.len(),
                    "skipped non-public addresses"
                );
            }
            return Ok(ok);
        }
        let ips: Vec<IpAddr> = refused.into_iter().map(ip_of).collect();
        Err(blocked(host, &ips))
    }

    /// The check for a URL whose host is an IP literal, which some connectors (reqwest's)
    /// never pass to a resolver. Host names pass here; they are checked once resolved.
    pub(crate) fn check_literal(&self, url: &Url) -> Result<(), FetchError> {
        let ip = match url.host() {
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return Ok(()),
        };
        if self.permits(ip) {
            Ok(())
        } else {
            Err(blocked(url.host_str().unwrap_or_default(), &[ip]))
        }
    }
}

/// The error for a host whose every address was refused; says how to allow them.
fn blocked(host: &str, ips: &[IpAddr]) -> FetchError {
    // A name can resolve to many addresses; a few are enough to see what happened.
    let shown: Vec<String> = ips.iter().take(4).map(IpAddr::to_string).collect();
    let more = ips.len().saturating_sub(shown.len());
    let extra = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    FetchError::BlockedAddress(format!(
        "{host} resolves to {}{extra}: a loopback, private, link-local or otherwise non-public \
         address, refused so that crawled pages cannot reach internal services (set \
         fetch.allow_private_addresses = true to allow)",
        shown.join(", ")
    ))
}

/// Whether `ip` is an address a public web page has no business making us connect to:
/// unspecified or "this network" (0.0.0.0/8, ::), loopback (127/8, ::1), private (RFC 1918,
/// IPv6 ULA fc00::/7 and the old site-local fec0::/10), link-local (169.254/16, fe80::/10),
/// shared CGNAT space (100.64/10), broadcast, and the IPv4-mapped (::ffff:0:0/96),
/// IPv4-compatible (::/96) and NAT64 (64:ff9b::/96) IPv6 forms of these.
pub fn is_non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_non_public(v4),
        IpAddr::V6(v6) => v6_non_public(v6),
    }
}

fn v4_non_public(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    a == 0 // "this network"; Linux connects 0.0.0.0 to the local host
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || (a == 100 && (64..128).contains(&b)) // CGNAT, RFC 6598
}

fn v6_non_public(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_non_public(v4);
    }
    // ::/96 holds ::, ::1 and the deprecated IPv4-compatible forms; none is a public host.
    if seg[..6] == [0; 6] {
        return true;
    }
    // NAT64's well-known prefix carries an IPv4 address in its last 32 bits.
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., hi, lo] = seg;
        return v4_non_public(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    (seg[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7
        || (seg[0] & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || (seg[0] & 0xffc0) == 0xfec0 // site-local (deprecated), fec0::/10
}

/// How long one seed's lookup may take: a seed whose name does not resolve in time simply
/// adds no address (its fetch will fail on its own).
const SEED_LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Lookups in flight at once: seed lists can hold thousands of hosts.
const SEED_LOOKUPS_AT_ONCE: usize = 16;

/// The addresses the seeds' hosts resolve to now (IP literals as they are), in canonical
/// form: the allow-list of [`AddressPolicy::PublicOnly`]. Names that fail to resolve add
/// nothing.
pub async fn seed_addresses(seeds: &[Url]) -> HashSet<IpAddr> {
    let mut out = HashSet::new();
    let mut names: HashSet<(String, u16)> = HashSet::new();
    for seed in seeds {
        match seed.host() {
            Some(Host::Ipv4(v4)) => {
                out.insert(IpAddr::V4(v4));
            }
            Some(Host::Ipv6(v6)) => {
                out.insert(IpAddr::V6(v6).to_canonical());
            }
            Some(Host::Domain(d)) => {
                names.insert((d.to_string(), seed.port_or_known_default().unwrap_or(80)));
            }
            None => {}
        }
    }
    let permits = Arc::new(tokio::sync::Semaphore::new(SEED_LOOKUPS_AT_ONCE));
    let mut lookups = tokio::task::JoinSet::new();
    for (host, port) in names {
        let permits = Arc::clone(&permits);
        lookups.spawn(async move {
            // The semaphore is never closed, so acquiring only waits.
            let _permit = permits.acquire_owned().await.ok();
            let lookup = tokio::net::lookup_host((host.as_str(), port));
            match tokio::time::timeout(SEED_LOOKUP_TIMEOUT, lookup).await {
                Ok(Ok(addrs)) => addrs.map(|a| a.ip().to_canonical()).collect(),
                Ok(Err(e)) => {
                    tracing::debug!(host, error = %e, "seed host does not resolve");
                    Vec::new()
                }
                Err(_) => {
                    tracing::debug!(host, "seed host lookup timed out");
                    Vec::new()
                }
            }
        });
    }
    while let Some(joined) = lookups.join_next().await {
        out.extend(joined.unwrap_or_default());
    }
    out
}

#[cfg(test)]
mod tests;
