use std::time::Duration;

use super::*;

fn item(s: &str) -> QueuedUrl {
    QueuedUrl::new(Url::parse(s).unwrap(), 0, None, CaptureKind::Outlink)
}

fn frontier(max_per_host: usize) -> (tempfile::TempDir, Frontier) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(&dir.path().join("f.db")).unwrap();
    (dir, Frontier::new(store, max_per_host))
}

fn drain(f: &mut Frontier, now: Instant) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        if let Some(i) = f.next(now) {
            out.push(i.url.path().to_string());
            f.finished(&i, UrlState::Done, None);
            continue;
        }
        if !f.wants_refill() {
            return out;
        }
        f.commit(&Checkpoint::default()).unwrap();
        f.refill().unwrap();
    }
}

#[test]
fn dedups_and_keeps_order_within_a_host() {
    let (_d, mut f) = frontier(10);
    assert!(f.add(item("http://a/1"), false));
    assert!(f.add(item("http://a/2"), false));
    assert!(!f.add(item("http://a/1#frag"), false), "same canonical URL");
    assert!(
        f.add(item("http://a/0"), true),
        "redirect targets jump the queue"
    );
    assert_eq!(drain(&mut f, Instant::now()), ["/0", "/1", "/2"]);
}

#[test]
fn long_queues_wait_on_disk_in_order() {
    let (_d, mut f) = frontier(4);
    for i in 0..1000 {
        assert!(f.add(item(&format!("http://a/{i}")), false));
    }
    assert_eq!(f.queued(), 1000);
    let hosts = f.hosts.get("a").unwrap();
    assert_eq!(
        hosts.buffer.len(),
        BUFFER,
        "only a buffer's worth in memory"
    );
    let order = drain(&mut f, Instant::now());
    let want: Vec<String> = (0..1000).map(|i| format!("/{i}")).collect();
    assert_eq!(order, want);
    assert_eq!((f.queued(), f.in_flight()), (0, 0));
}

#[test]
fn a_blocked_host_waits_while_urgent_items_go_first() {
    let (_d, mut f) = frontier(4);
    let now = Instant::now();
    f.block("a");
    f.add(item("http://a/1"), false);
    f.add(item("http://b/1"), false);
    assert!(f.add_urgent(item("http://a/robots.txt")));
    assert_eq!(f.next(now).unwrap().url.as_str(), "http://a/robots.txt");
    assert_eq!(f.next(now).unwrap().url.as_str(), "http://b/1");
    assert!(f.next(now).is_none(), "host a is held");
    f.unblock("a");
    assert_eq!(f.next(now).unwrap().url.as_str(), "http://a/1");
}

#[test]
fn per_host_cap_lets_other_hosts_through() {
    let (_d, mut f) = frontier(1);
    let now = Instant::now();
    for s in ["http://a/1", "http://a/2", "http://b/1"] {
        f.add(item(s), false);
    }
    let first = f.next(now).unwrap();
    assert_eq!(first.url.as_str(), "http://a/1");
    let second = f.next(now).unwrap();
    assert_eq!(second.url.as_str(), "http://b/1", "host a is at its cap");
    assert!(f.next(now).is_none());
    f.finished(&first, UrlState::Done, None);
    assert_eq!(f.next(now).unwrap().url.as_str(), "http://a/2");
    assert_eq!((f.queued(), f.in_flight()), (0, 2));
}

#[tokio::test(start_paused = true)]
async fn retries_and_held_hosts_wait_for_their_time() {
    let (_d, mut f) = frontier(2);
    f.add(item("http://a/1"), false);
    f.add(item("http://a/2"), false);
    f.add(item("http://b/1"), false);
    let t0 = Instant::now();
    let a1 = f.next(t0).unwrap();
    // a/1 failed with a Retry-After of 10 s: the host waits, and a/1 is tried again then.
    f.hold_host("a", t0 + Duration::from_secs(10));
    f.retry(a1, t0 + Duration::from_secs(10));
    let got: Vec<String> = std::iter::from_fn(|| f.next(t0).map(|i| i.url.to_string())).collect();
    assert_eq!(got, ["http://b/1"], "host a sleeps, b goes on");
    assert_eq!(f.next_wake(), Some(t0 + Duration::from_secs(10)));
    tokio::time::advance(Duration::from_secs(9)).await;
    f.wake(Instant::now());
    assert!(f.next(Instant::now()).is_none(), "not yet");
    tokio::time::sleep_until(f.next_wake().unwrap()).await;
    f.wake(Instant::now());
    let now = Instant::now();
    assert_eq!(now - t0, Duration::from_secs(10));
    assert_eq!(
        f.next(now).unwrap().url.path(),
        "/1",
        "the retry goes first"
    );
    assert_eq!(f.next(now).unwrap().url.path(), "/2");
}

#[test]
fn giving_up_a_host_fails_what_it_had_queued() {
    let (_d, mut f) = frontier(1);
    for i in 0..200 {
        f.add(item(&format!("http://a/{i}")), false);
    }
    f.add(item("http://b/1"), false);
    let a0 = f.next(Instant::now()).unwrap();
    f.finished(&a0, UrlState::Failed, Some("http"));
    assert_eq!(f.give_up_host("a", "host_given_up"), 199);
    assert!(f.host_given_up("a"));
    assert_eq!(
        drain(&mut f, Instant::now()),
        ["/1"],
        "only b's URL is left"
    );
    assert_eq!(f.queued(), 0);
}

#[test]
fn a_reloaded_frontier_continues_where_the_last_commit_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.db");
    let mut f = Frontier::new(Store::create(&path).unwrap(), 1);
    for i in 0..100 {
        f.add(item(&format!("http://a/{i}")), false);
    }
    let done = f.next(Instant::now()).unwrap();
    f.finished(&done, UrlState::Done, None);
    let _in_flight = f.next(Instant::now()).unwrap();
    f.commit(&Checkpoint::default()).unwrap();
    drop(f); // killed: /1 was in flight, /2.. buffered or on disk
    let mut f = Frontier::new(Store::open(&path).unwrap(), 1);
    f.load().unwrap();
    assert!(f.is_seen(&canonical_key(&Url::parse("http://a/0").unwrap())));
    assert!(!f.add(item("http://a/5"), false), "still seen");
    let order = drain(&mut f, Instant::now());
    let want: Vec<String> = (1..100).map(|i| format!("/{i}")).collect();
    assert_eq!(order, want, "everything but the done URL, in order");
}
