use super::*;
use crate::canonical::canonical_key;
use proptest::prelude::*;

/// The year the tables are written for: the default window is 1996..=2028.
const YEAR: i32 = 2026;

fn traps() -> Traps {
    Traps::new(&TrapsSection::default(), YEAR)
}

fn u(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn check(s: &str) -> Result<(), &'static str> {
    traps().check(&u(s))
}

/// Runs a table of (url, expected) through `check`, naming the URL on failure.
fn table(rule: &'static str, cases: &[(&str, bool)]) {
    for (url, trapped) in cases {
        let want = if *trapped { Err(rule) } else { Ok(()) };
        assert_eq!(check(url), want, "{url}");
    }
}

#[test]
fn wordpress_and_news_urls_pass() {
    for url in [
        "https://blog.example/2026/11/26/story/",
        "https://blog.example/2026/11/26/story/comment-page-2/#comments",
        "https://blog.example/?p=123",
        "https://blog.example/category/news/page/3/",
        "https://blog.example/2026/11/",
        "https://blog.example/2001/01/01/old-story/",
        "https://news.example/news/123456/",
        "https://news.example/news/2019/",
        "https://news.example/news/1066/hastings/",
        "https://news.example/article/12345678/",
        "https://news.example/tag/a/tag/b/",
        "https://news.example/search?q=2026-05&page=2",
        "https://news.example/events/2026-12-24/",
        "https://news.example/feed/?paged=10",
        "https://news.example/",
        "https://news.example",
    ] {
        assert_eq!(check(url), Ok(()), "{url}");
    }
}

#[test]
fn reject_param() {
    table(
        "trap:reject_param",
        &[
            ("https://b.example/2026/11/26/story/?replytocom=5", true),
            ("https://b.example/story/?REPLYTOCOM=5#respond", true),
            ("https://b.example/story/?a=1&replytocom", true),
            ("https://b.example/story/?reply=5", false),
            ("https://b.example/replytocom/5/", false),
        ],
    );
}

#[test]
fn query_params() {
    let many = (0..13).map(|i| format!("f{i}=x")).collect::<Vec<_>>();
    let twelve = format!("https://s.example/search?{}", many[..12].join("&"));
    let thirteen = format!("https://s.example/search?{}", many.join("&"));
    table(
        "trap:query_params",
        &[
            (&twelve, false),
            (&thirteen, true),
            ("https://s.example/?a&&b", false),
        ],
    );
}

#[test]
fn path_depth() {
    let deep = |n: usize| {
        let segments: Vec<String> = (0..n).map(|i| format!("d{i}")).collect();
        format!("https://d.example/{}/", segments.join("/"))
    };
    table(
        "trap:path_depth",
        &[
            (&deep(30), false),
            (&deep(31), true),
            // Empty segments are not depth.
            (&format!("https://d.example/{}", "/".repeat(40)), false),
        ],
    );
}

#[test]
fn repeated_segments() {
    table(
        "trap:repeated_segments",
        &[
            ("https://r.example/a/b/a/b/a/", true),
            ("https://r.example/a/b/a/b/", false),
            ("https://r.example/x/x/x", true),
            ("https://r.example/x//x//", false),
            ("https://r.example/2011/11/11/11/", true),
            ("https://r.example/A/a/A/a/", false),
        ],
    );
}

#[test]
fn pagination() {
    table(
        "trap:pagination",
        &[
            ("https://p.example/list?page=5000", false),
            ("https://p.example/list?page=5001", true),
            ("https://p.example/list?Paged=9999", true),
            ("https://p.example/list?pg=99999999999999999999999", true),
            ("https://p.example/list?pagenum=6000", true),
            ("https://p.example/list?page=last", false),
            ("https://p.example/?p=99999", false),
            ("https://p.example/category/news/page/3/", false),
            ("https://p.example/category/news/page/5001/", true),
            (
                "https://p.example/category/news/PAGE/5001;jsessionid=x/",
                true,
            ),
            ("https://p.example/page/", false),
            ("https://p.example/page-5001/", false),
            ("https://p.example/story/comment-page-2/", false),
            ("https://p.example/story/comment-page-5001/", true),
            ("https://p.example/story/comment-page-x/", false),
        ],
    );
}

#[test]
fn calendar() {
    table(
        "trap:calendar",
        &[
            // Path /YYYY/MM/: inside the window, at its edges, past them.
            ("https://c.example/2026/11/26/story/", false),
            ("https://c.example/1996/01/", false),
            ("https://c.example/2028/12/", false),
            ("https://c.example/1995/12/", true),
            ("https://c.example/2029/01/", true),
            ("https://c.example/calendar/2031/05/", true),
            ("https://c.example/2031/13/", false),
            ("https://c.example/2031/5/", false),
            ("https://c.example/2031/", false),
            ("https://c.example/item/1234/05/", false),
            // Whole-segment dates.
            ("https://c.example/events/2031-05/", true),
            ("https://c.example/events/2031-05-01/", true),
            ("https://c.example/events/2031-05-01.html", true),
            ("https://c.example/events/20310501/", true),
            ("https://c.example/events/20260501/", false),
            ("https://c.example/events/2031-13/", false),
            ("https://c.example/events/20311301/", false),
            ("https://c.example/events/2031-05-01-launch/", false),
            ("https://c.example/news/10120315/", false),
            // Query values, labelled or not.
            ("https://c.example/cal?date=1970-01-01", true),
            ("https://c.example/cal?date=1970-01-01T00:00:00", true),
            ("https://c.example/cal?d=1970-01-01", true),
            ("https://c.example/cal?month=2031-05", true),
            ("https://c.example/cal?month=203105", true),
            ("https://c.example/cal?year=1990&month=5", true),
            ("https://c.example/cal?Year=2027", false),
            ("https://c.example/cal?ical=10120315", true),
            ("https://c.example/cal?month=5", false),
            ("https://c.example/item?id=1990", false),
            ("https://c.example/item?id=2031-05x", false),
        ],
    );
}

#[test]
fn config_is_honoured() {
    let section = TrapsSection {
        max_segment_repeats: 0,
        max_path_depth: 1,
        max_query_params: 0,
        calendar_years_back: 0,
        calendar_years_ahead: 0,
        max_page_number: 1,
        reject_params: vec![" Share ".into()],
        session_params: vec![],
        ignore_params: vec![],
    };
    let t = Traps::new(&section, 2000);
    assert_eq!(
        t.check(&u("https://x.example/?share=1")),
        Err("trap:reject_param")
    );
    assert_eq!(
        t.check(&u("https://x.example/?q=1")),
        Err("trap:query_params")
    );
    assert_eq!(t.check(&u("https://x.example/a/b")), Err("trap:path_depth"));
    assert_eq!(
        t.check(&u("https://x.example/a")),
        Err("trap:repeated_segments")
    );
    assert_eq!(t.check(&u("https://x.example/")), Ok(()));
    let t = Traps::new(&TrapsSection::default(), i32::MIN);
    assert_eq!(
        t.check(&u("https://x.example/2026/11/")),
        Err("trap:calendar")
    );
}

#[test]
fn seen_key_table() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("https://s.example/a?x=1", "https://s.example/a?x=1", None),
        ("https://s.example/a?x=1#f", "https://s.example/a?x=1", None),
        (
            "https://s.example/a?b=2&a=1",
            "https://s.example/a?a=1&b=2",
            Some("trap:permutation"),
        ),
        (
            "https://s.example/a?t=b&a=1&t=a",
            "https://s.example/a?a=1&t=b&t=a",
            Some("trap:permutation"),
        ),
        (
            "https://s.example/a?sort=asc&q=x",
            "https://s.example/a?q=x",
            Some("trap:permutation"),
        ),
        (
            "https://s.example/a?ORDERBY=date",
            "https://s.example/a",
            Some("trap:permutation"),
        ),
        (
            "https://s.example/a?x=1&&y=2",
            "https://s.example/a?x=1&y=2",
            Some("trap:permutation"),
        ),
        (
            "https://s.example/a?PHPSESSID=abc&q=x",
            "https://s.example/a?q=x",
            Some("trap:session_id"),
        ),
        (
            "https://s.example/a?b=1&sid=9&a=2",
            "https://s.example/a?a=2&b=1",
            Some("trap:session_id"),
        ),
        (
            "https://s.example/a?%73id=9",
            "https://s.example/a",
            Some("trap:session_id"),
        ),
        (
            "https://s.example/cart;jsessionid=ABC123?x=1",
            "https://s.example/cart?x=1",
            Some("trap:session_id"),
        ),
        (
            "https://s.example/a;JSESSIONID=1/b;v=2",
            "https://s.example/a/b;v=2",
            Some("trap:session_id"),
        ),
        ("https://s.example/a;v=2", "https://s.example/a;v=2", None),
        (
            "https://s.example/%7ea?q=%7e",
            "https://s.example/~a?q=~",
            None,
        ),
        ("https://S.example", "https://s.example/", None),
        // Without its session parameter the segment is a dot segment, which a URL drops.
        (
            "https://s.example/a/.;sid=1/b",
            "https://s.example/a/b",
            Some("trap:session_id"),
        ),
        // A name that merely contains a session name is kept.
        (
            "https://s.example/a?side=l&sidebar=1",
            "https://s.example/a?side=l&sidebar=1",
            None,
        ),
    ];
    let t = traps();
    for (input, key, why) in cases {
        let url = u(input);
        let (got, got_why) = t.seen_key(&url);
        assert_eq!((got.as_str(), got_why), (*key, *why), "{input}");
        assert_eq!(got_why.is_none(), got == canonical_key(&url), "{input}");
    }
}

/// A few bases so that relative and scheme-relative strings resolve in different places.
const BASES: &[&str] = &[
    "https://example.com/dir/page.html?x=1",
    "http://[::1]:8080/",
    "https://xn--bcher-kva.de/a/b/c;jsessionid=1/",
];

fn url_ish() -> impl Strategy<Value = String> {
    prop_oneof![
        "(https?://)?[a-zA-Z0-9.:@%/?#&=;_~\\-\\[\\]]{0,60}",
        "(/[a-z0-9;=-]{0,6}){0,8}(\\?([a-zA-Z_%0-9]{0,6}(=[a-zA-Z0-9%+-]{0,10})?&?){0,6})?",
        any::<String>(),
    ]
}

type Pairs = Vec<(String, String)>;

/// Query pairs with distinct names (some of them session or ignore names), in two orders.
fn two_orders() -> impl Strategy<Value = (Pairs, Pairs)> {
    let name = prop_oneof![
        "[a-zA-Z_]{1,6}",
        Just("sort".to_owned()),
        Just("PHPSESSID".to_owned()),
        Just("sid".to_owned()),
        Just("page".to_owned()),
    ];
    prop::collection::btree_map(name, "[a-zA-Z0-9%._~+-]{0,6}", 0..8)
        .prop_map(|m| m.into_iter().collect::<Vec<_>>())
        .prop_flat_map(|v| (Just(v.clone()).prop_shuffle(), Just(v).prop_shuffle()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn check_and_seen_key_never_panic(base in 0..BASES.len(), raw in url_ish()) {
        let base = u(BASES[base]);
        if let Ok(url) = base.join(&raw) {
            let t = traps();
            let _ = t.check(&url);
            let (key, why) = t.seen_key(&url);
            prop_assert_eq!(why.is_none(), key == canonical_key(&url));
            if url.scheme().starts_with("http") {
                let reparsed = Url::parse(&key);
                prop_assert!(reparsed.is_ok(), "key {} does not parse", key);
                if let Ok(again) = reparsed {
                    prop_assert_eq!(t.seen_key(&again).0, key);
                }
            }
        }
    }

    #[test]
    fn seen_key_ignores_parameter_order(
        (pairs, shuffled) in two_orders(),
        path in "(/[a-z;=]{0,5}){0,3}",
    ) {
        let query = |pairs: &[(String, String)]| {
            pairs.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("&")
        };
        let t = traps();
        let a = t.seen_key(&u(&format!("https://q.example{path}?{}", query(&pairs))));
        let b = t.seen_key(&u(&format!("https://q.example{path}?{}", query(&shuffled))));
        prop_assert_eq!(a.0, b.0);
    }
}
