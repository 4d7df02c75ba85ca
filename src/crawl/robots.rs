//! robots.txt, per host, with `texting_robots`.
//!
//! The first URL queued for a host makes the crawl fetch `<origin>/robots.txt` (archived like
//! any other capture, kind `robots`) and holds the host's queue until the answer is in. Then,
//! per RFC 9309: a 2xx file's rules apply to our User-Agent token; a 4xx means no rules
//! (allow all); a 5xx or an unreachable server means "disallow all" for the rest of this crawl
//! (the fetch itself is retried first, like any other, see `retry.rs`). A `Crawl-delay`
//! widens the host's interval (`politeness.rs`). `robots = "ignore"` in config skips all of
//! this.
//!
//! Keyed by host name, as the frontier's queues are; the robots.txt fetched is the one of the
//! origin (scheme, host, port) that was seen first on that host.

use std::collections::HashMap;

use url::Url;

/// What a host's robots.txt allows.
pub enum HostRules {
    /// Not fetched yet: the host's queue is held.
    Pending,
    AllowAll,
    /// The file could not be had (5xx, network error): nothing is fetched from the host.
    DisallowAll,
    Rules(Box<texting_robots::Robot>),
}

pub struct RobotsPolicy {
    /// Product token matched against `User-agent:` lines (e.g. "warcrow").
    agent: String,
    hosts: HashMap<String, HostRules>,
}

impl RobotsPolicy {
    pub fn new(user_agent: &str) -> RobotsPolicy {
        let agent = user_agent
            .split(['/', ' '])
            .next()
            .unwrap_or("warcrow")
            .to_string();
        RobotsPolicy {
            agent,
            hosts: HashMap::new(),
        }
    }

    /// For a URL about to be queued: the robots.txt URL to fetch first, if its host has none
    /// yet (the host is then marked pending).
    pub fn needs_fetch(&mut self, url: &Url) -> Option<Url> {
        let host = url.host_str()?;
        if self.hosts.contains_key(host) {
            return None;
        }
        self.hosts.insert(host.to_string(), HostRules::Pending);
        url.join("/robots.txt").ok()
    }

    /// Record what a robots.txt fetch gave: the status, or None when it failed outright.
    pub fn learn(&mut self, host: &str, status: Option<u16>, body: &[u8]) {
        let rules = match status {
            Some(200..=299) => match texting_robots::Robot::new(&self.agent, body) {
                Ok(robot) => HostRules::Rules(Box::new(robot)),
                // An unparseable file says nothing we can follow: treat it as no rules.
                Err(_) => HostRules::AllowAll,
            },
            // A redirected robots.txt is not followed yet (RFC 9309 allows up to five hops);
            // until it is, a redirect counts as "no rules found".
            Some(300..=499) => HostRules::AllowAll,
            _ => HostRules::DisallowAll,
        };
        self.hosts.insert(host.to_string(), rules);
    }

    /// The Crawl-delay the host's robots.txt asks of us, if any.
    pub fn crawl_delay(&self, host: &str) -> Option<std::time::Duration> {
        match self.hosts.get(host) {
            Some(HostRules::Rules(r)) => r
                .delay
                .filter(|d| d.is_finite() && *d > 0.0)
                .map(|d| std::time::Duration::from_secs_f32(d.min(86_400.0))),
            _ => None,
        }
    }

    /// May this URL be fetched? (A robots.txt URL always may.)
    pub fn allowed(&self, url: &Url) -> Result<(), &'static str> {
        if url.path() == "/robots.txt" {
            return Ok(());
        }
        match url.host_str().and_then(|h| self.hosts.get(h)) {
            None | Some(HostRules::Pending) | Some(HostRules::AllowAll) => Ok(()),
            Some(HostRules::DisallowAll) => Err("robots_unavailable"),
            Some(HostRules::Rules(r)) if r.allowed(url.as_str()) => Ok(()),
            Some(HostRules::Rules(_)) => Err("robots_disallowed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn rules_follow_rfc_9309_outcomes() {
        let mut p = RobotsPolicy::new("warcrow/0.1.0 (+https://x/)");
        assert_eq!(
            p.needs_fetch(&u("http://a.example/x")),
            Some(u("http://a.example/robots.txt"))
        );
        assert_eq!(
            p.allowed(&u("http://a.example/private/x")),
            Ok(()),
            "pending: queue it"
        );
        assert_eq!(
            p.needs_fetch(&u("http://a.example/y")),
            None,
            "fetched once per host"
        );
        p.learn(
            "a.example",
            Some(200),
            b"User-agent: warcrow\nDisallow: /private/\n\nUser-agent: *\nDisallow: /\n",
        );
        assert_eq!(p.allowed(&u("http://a.example/news/")), Ok(()));
        assert_eq!(
            p.allowed(&u("http://a.example/private/x")),
            Err("robots_disallowed")
        );
        p.needs_fetch(&u("http://b.example/"));
        p.learn("b.example", Some(404), b"");
        assert_eq!(p.allowed(&u("http://b.example/anything")), Ok(()));
        p.needs_fetch(&u("http://c.example/"));
        p.learn("c.example", Some(503), b"");
        assert_eq!(
            p.allowed(&u("http://c.example/a")),
            Err("robots_unavailable")
        );
        p.needs_fetch(&u("http://d.example/"));
        p.learn("d.example", None, b"");
        assert_eq!(
            p.allowed(&u("http://d.example/a")),
            Err("robots_unavailable")
        );
        assert_eq!(p.allowed(&u("http://d.example/robots.txt")), Ok(()));
    }

    /// robots.txt bodies: arbitrary bytes, and lines shaped like the real thing with
    /// wildcards, `$`, escapes, long values and stray bytes in them.
    fn robots_body() -> impl Strategy<Value = Vec<u8>> {
        let line = prop_oneof![
            "(User-agent|user-AGENT|Allow|Disallow|Sitemap|Crawl-delay|Host|#|)[ \t]*:?[ \t]*[*$/a-z0-9%?=&._~ -]{0,24}",
            Just("User-agent: warcrow".to_owned()),
            Just("User-agent: *".to_owned()),
            any::<String>(),
        ];
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..512),
            prop::collection::vec(line, 0..16).prop_map(|lines| lines.join("\n").into_bytes()),
        ]
    }

    fn url_path() -> impl Strategy<Value = String> {
        prop_oneof!["(/[*$a-z0-9%?=&._~-]{0,8}){0,4}", any::<String>()]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_robots_txt_and_path_never_panic(
            status in prop_oneof![Just(200u16), 0u16..600],
            body in robots_body(),
            paths in prop::collection::vec(url_path(), 1..8),
        ) {
            let mut p = RobotsPolicy::new("warcrow/0.1.0");
            p.needs_fetch(&u("http://a.example/"));
            p.learn("a.example", Some(status), &body);
            let base = u("http://a.example/");
            for path in &paths {
                let Ok(url) = base.join(path) else { continue };
                let verdict = p.allowed(&url);
                match status {
                    300..=499 => prop_assert_eq!(verdict, Ok(())),
                    200..=299 => {}
                    _ if url.host_str() == Some("a.example") && url.path() != "/robots.txt" => {
                        prop_assert_eq!(verdict, Err("robots_unavailable"));
                    }
                    _ => {}
                }
            }
        }
    }
}
