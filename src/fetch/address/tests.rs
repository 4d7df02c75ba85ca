//! The address table, the policy, and both fetchers refusing loopback servers before
//! connecting to them.

use super::*;

#[test]
fn non_public_table() {
    let cases: &[(&str, bool)] = &[
        ("0.0.0.0", true),
        ("0.1.2.3", true),
        ("127.0.0.1", true),
        ("127.255.0.9", true),
        ("10.0.0.1", true),
        ("172.16.0.1", true),
        ("172.31.255.255", true),
        ("172.32.0.1", false),
        ("192.168.1.1", true),
        ("169.254.169.254", true),
        ("100.64.0.1", true),
        ("100.127.255.255", true),
        ("100.128.0.1", false),
        ("100.63.255.255", false),
        ("255.255.255.255", true),
        ("8.8.8.8", false),
        ("93.184.216.34", false),
        ("::", true),
        ("::1", true),
        ("::127.0.0.1", true),
        ("fc00::1", true),
        ("fd12:3456::1", true),
        ("fe80::1", true),
        ("febf::1", true),
        ("fec0::1", true),
        ("::ffff:127.0.0.1", true),
        ("::ffff:10.1.2.3", true),
        ("::ffff:169.254.169.254", true),
        ("::ffff:8.8.8.8", false),
        ("64:ff9b::7f00:1", true),
        ("64:ff9b::808:808", false),
        ("2001:4860:4860::8888", false),
        ("2606:4700::1111", false),
    ];
    for (ip, want) in cases {
        let parsed: IpAddr = ip.parse().expect("test IP");
        assert_eq!(is_non_public(parsed), *want, "{ip}");
    }
}

#[test]
fn policy_allows_listed_addresses_in_either_form() {
    let lo: IpAddr = "127.0.0.1".parse().expect("ip");
    let mapped: IpAddr = "::ffff:127.0.0.1".parse().expect("ip");
    let other: IpAddr = "127.0.0.2".parse().expect("ip");
    let public: IpAddr = "8.8.8.8".parse().expect("ip");
    assert!(AddressPolicy::AllowAll.permits(lo));
    let policy = AddressPolicy::PublicOnly {
        allowed: HashSet::from([lo]),
    };
    assert!(policy.permits(lo));
    assert!(policy.permits(mapped));
    assert!(!policy.permits(other));
    assert!(policy.permits(public));
    let none = AddressPolicy::PublicOnly {
        allowed: HashSet::new(),
    };
    assert!(!none.permits(lo));
}

#[test]
fn filter_keeps_permitted_and_names_refused() {
    let none = AddressPolicy::PublicOnly {
        allowed: HashSet::new(),
    };
    let ips: Vec<IpAddr> = vec![
        "10.0.0.1".parse().expect("ip"),
        "8.8.8.8".parse().expect("ip"),
    ];
    assert_eq!(
        none.filter("h", ips.clone(), |ip| ip).expect("one left"),
        vec![ips[1]]
    );
    let err = none
        .filter("intranet.example", vec![ips[0]], |ip| ip)
        .expect_err("blocked");
    assert_eq!(err.kind(), "blocked_address");
    let msg = err.to_string();
    assert!(
        msg.contains("intranet.example") && msg.contains("10.0.0.1"),
        "{msg}"
    );
    assert!(
        msg.contains("fetch.allow_private_addresses = true"),
        "{msg}"
    );
    let url = Url::parse("http://[::1]:8080/").expect("url");
    assert!(none.check_literal(&url).is_err());
    let name = Url::parse("http://localhost/").expect("url");
    assert!(
        none.check_literal(&name).is_ok(),
        "names are checked once resolved"
    );
}

#[tokio::test]
async fn seed_addresses_resolve_literals_and_names() {
    let seeds = [
        Url::parse("http://127.0.0.1:8080/").expect("url"),
        Url::parse("http://[::ffff:10.0.0.1]/").expect("url"),
        Url::parse("http://localhost/").expect("url"),
        Url::parse("http://does-not-resolve.invalid/").expect("url"),
    ];
    let addrs = seed_addresses(&seeds).await;
    assert!(addrs.contains(&"127.0.0.1".parse::<IpAddr>().expect("ip")));
    assert!(addrs.contains(&"10.0.0.1".parse::<IpAddr>().expect("ip")));
    // localhost resolves to 127.0.0.1 and/or ::1; .invalid to nothing.
    assert!(
        addrs
            .iter()
            .all(|ip| ip.is_loopback() || *ip == "10.0.0.1".parse::<IpAddr>().expect("ip"))
    );
}

/// A loopback server that answers every connection with `200` and a body naming the
/// connection's serial number (0, 1, ...): the first fetch that gets through reads `conn 0`
/// exactly when no earlier connection was made. Stops when dropped.
struct CountingServer {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CountingServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CountingServer {
    async fn start(ip: &str) -> CountingServer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let mut serial = 0usize;
            while let Ok((mut stream, _)) = listener.accept().await {
                let body = format!("conn {serial}");
                serial += 1;
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut got = Vec::new();
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(reply.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        CountingServer { addr, task }
    }

    fn url(&self, host: &str) -> Url {
        Url::parse(&format!("http://{host}:{}/", self.addr.port())).expect("url")
    }
}

fn fetcher(
    kind: crate::fetch::FetcherKind,
    policy: AddressPolicy,
) -> Box<dyn crate::fetch::Fetcher> {
    let settings = crate::fetch::FetchSettings {
        address_policy: policy,
        connect_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(10),
        ..crate::fetch::FetchSettings::default()
    };
    crate::fetch::build(kind, &settings).expect("fetcher")
}

async fn fetch(
    kind: crate::fetch::FetcherKind,
    policy: AddressPolicy,
    url: Url,
) -> Result<crate::fetch::Exchange, FetchError> {
    let req = crate::fetch::FetchRequest {
        url,
        headers: Vec::new(),
    };
    fetcher(kind, policy).fetch(&req).await
}

fn only(ip: &str) -> AddressPolicy {
    AddressPolicy::PublicOnly {
        allowed: HashSet::from([ip.parse::<IpAddr>().expect("ip")]),
    }
}

fn public_only() -> AddressPolicy {
    AddressPolicy::PublicOnly {
        allowed: HashSet::new(),
    }
}

const KINDS: [crate::fetch::FetcherKind; 2] = [
    crate::fetch::FetcherKind::Wire,
    crate::fetch::FetcherKind::Reqwest,
];

/// Blocked fetches of `urls`, then a permitted one that must be the server's first connection.
async fn assert_blocked_without_connecting(
    kind: crate::fetch::FetcherKind,
    server: &CountingServer,
    policy: AddressPolicy,
    urls: &[Url],
) {
    for url in urls {
        let err = fetch(kind, policy.clone(), url.clone())
            .await
            .expect_err("must be blocked");
        assert_eq!(err.kind(), "blocked_address", "{kind:?} {url}: {err}");
        assert!(
            err.to_string().contains("fetch.allow_private_addresses"),
            "{err}"
        );
    }
    let ip = server.addr.ip().to_string();
    let ok = fetch(kind, AddressPolicy::AllowAll, server.url(&ip))
        .await
        .expect("unguarded fetch");
    assert_eq!(
        &ok.payload[..],
        b"conn 0",
        "{kind:?}: a blocked fetch connected"
    );
}

#[tokio::test]
async fn loopback_is_blocked_before_connecting_by_literal_and_by_name() {
    for kind in KINDS {
        let server = CountingServer::start("127.0.0.1").await;
        // `localhost` goes through each fetcher's resolver, the literal through its own check.
        let urls = [server.url("127.0.0.1"), server.url("localhost")];
        assert_blocked_without_connecting(kind, &server, public_only(), &urls).await;
    }
}

#[tokio::test]
async fn an_allowed_seed_address_is_fetched() {
    for kind in KINDS {
        let server = CountingServer::start("127.0.0.1").await;
        let ex = fetch(kind, only("127.0.0.1"), server.url("127.0.0.1"))
            .await
            .expect("allowed");
        assert_eq!(ex.status, 200, "{kind:?}");
        assert_eq!(&ex.payload[..], b"conn 0");
    }
}

#[tokio::test]
async fn another_loopback_address_is_not_covered_by_the_seeds() {
    // Linux routes all of 127/8 to the loopback interface, so this server is reachable.
    for kind in KINDS {
        let server = CountingServer::start("127.0.0.2").await;
        let urls = [server.url("127.0.0.2")];
        assert_blocked_without_connecting(kind, &server, only("127.0.0.1"), &urls).await;
    }
}
