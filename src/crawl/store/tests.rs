use super::*;

fn item(s: &str) -> QueuedUrl {
    QueuedUrl::new(url::Url::parse(s).unwrap(), 0, None, CaptureKind::Outlink)
}

#[test]
fn claims_in_queue_order_and_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frontier.db");
    let mut s = Store::create(&path).unwrap();
    for u in ["http://a/1", "http://a/2", "http://b/1"] {
        s.insert(&item(u), UrlState::Queued, false);
    }
    s.insert(&item("http://a/0"), UrlState::Queued, true);
    s.insert(&item("http://a/1"), UrlState::Queued, false); // a duplicate key: ignored
    let cp = Checkpoint {
        captures_len: 7,
        ..Checkpoint::default()
    };
    s.commit(&cp).unwrap();
    let got: Vec<String> = s
        .claim("a", 2)
        .unwrap()
        .iter()
        .map(|i| i.url.path().to_string())
        .collect();
    assert_eq!(got, ["/0", "/1"], "priority first, then insertion order");
    drop(s);
    // A crawler killed with claimed rows: they are queued again on open.
    let mut s = Store::open(&path).unwrap();
    assert_eq!(s.checkpoint().unwrap().unwrap().captures_len, 7);
    assert_eq!(s.claim("a", 10).unwrap().len(), 3);
    let mut states = Vec::new();
    s.for_each_key(|k| states.push((k.host, k.state))).unwrap();
    assert_eq!(states.len(), 4);
    assert!(states.contains(&("b".to_string(), UrlState::Queued)));
}

#[test]
fn nothing_is_applied_before_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.db");
    let mut s = Store::create(&path).unwrap();
    s.insert(&item("http://a/1"), UrlState::Queued, false);
    assert_eq!(s.pending(), 1);
    drop(s); // killed before the commit
    let s = Store::open(&path).unwrap();
    let mut n = 0;
    s.for_each_key(|_| n += 1).unwrap();
    assert_eq!(n, 0);
}

#[test]
fn payload_originals_are_committed_and_read_back_by_digest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frontier.db");
    let mut s = Store::create(&path).unwrap();
    let reader = PayloadReader::open(&path).unwrap();
    let orig = |uri: &str| OriginalCapture {
        uri: uri.into(),
        date: "2026-11-26T10:00:00.000001Z".into(),
        record_id: format!("<urn:uuid:{uri}>"),
    };
    s.put_payload("sha1:A", orig("http://a/1"));
    assert_eq!(reader.original("sha1:A"), None, "not before the commit");
    // A second full capture of the same payload: the first stays the original.
    s.put_payload("sha1:A", orig("http://a/2"));
    let committed = s.commit(&Checkpoint::default()).unwrap();
    assert_eq!(committed, ["sha1:A", "sha1:A"]);
    assert_eq!(reader.original("sha1:A"), Some(orig("http://a/1")));
    assert_eq!(reader.original("sha1:B"), None);
    drop(s);
    let s = Store::open(&path).unwrap();
    let mut digests = Vec::new();
    s.for_each_payload(|d| digests.push(d.to_string())).unwrap();
    assert_eq!(digests, ["sha1:A"]);
}
