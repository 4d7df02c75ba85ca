use super::*;
use proptest::prelude::*;

const PAGE: &str = "https://example.com/dir/page.html";

fn links(html: &str) -> Vec<(String, LinkKind)> {
    let doc = Html::parse_document(html);
    let page = Url::parse(PAGE).unwrap();
    page_links(&doc, &page)
        .into_iter()
        .map(|l| (l.url.to_string(), l.kind))
        .collect()
}

use LinkKind::{Outlink as O, Requisite as R};

fn own(v: &[(&str, LinkKind)]) -> Vec<(String, LinkKind)> {
    v.iter().map(|(u, k)| ((*u).to_owned(), *k)).collect()
}

#[test]
fn elements_table() {
    let cases: &[(&str, &[(&str, LinkKind)])] = &[
        (
            "<a href=a.html>x</a>",
            &[("https://example.com/dir/a.html", O)],
        ),
        (
            "<map><area href=/area></map>",
            &[("https://example.com/area", O)],
        ),
        ("<img src=i.png>", &[("https://example.com/dir/i.png", R)]),
        (
            "<img data-src=lazy.png>",
            &[("https://example.com/dir/lazy.png", R)],
        ),
        (
            "<script src=/s.js></script>",
            &[("https://example.com/s.js", R)],
        ),
        (
            "<iframe src=f.html></iframe>",
            &[("https://example.com/dir/f.html", R)],
        ),
        (
            "<frameset><frame src=fr.html></frameset>",
            &[("https://example.com/dir/fr.html", R)],
        ),
        (
            "<video src=v.mp4 poster=p.jpg><track src=t.vtt><source src=v.webm></video>",
            &[
                ("https://example.com/dir/v.mp4", R),
                ("https://example.com/dir/p.jpg", R),
                ("https://example.com/dir/t.vtt", R),
                ("https://example.com/dir/v.webm", R),
            ],
        ),
        (
            "<audio src=a.mp3></audio>",
            &[("https://example.com/dir/a.mp3", R)],
        ),
        (
            "<object data=o.swf></object>",
            &[("https://example.com/dir/o.swf", R)],
        ),
        ("<embed src=e.swf>", &[("https://example.com/dir/e.swf", R)]),
        (
            "<input type=IMAGE src=btn.png>",
            &[("https://example.com/dir/btn.png", R)],
        ),
        ("<input type=text src=no.png>", &[]),
        (
            "<body background=bg.gif>",
            &[("https://example.com/dir/bg.gif", R)],
        ),
        (
            "<svg><image href=s.svg /><use xlink:href='sp.svg#i'/></svg>",
            &[
                ("https://example.com/dir/s.svg", R),
                ("https://example.com/dir/sp.svg", R),
            ],
        ),
        (
            "<meta http-equiv=Refresh content='5; URL=/next'>",
            &[("https://example.com/next", O)],
        ),
        ("<meta http-equiv=refresh content='5'>", &[]),
        (
            "<div style=\"background:url('d.png')\">",
            &[("https://example.com/dir/d.png", R)],
        ),
        (
            "<style>@import 'x.css'; a{b:url(y.png)}</style>",
            &[
                ("https://example.com/dir/x.css", R),
                ("https://example.com/dir/y.png", R),
            ],
        ),
    ];
    for (html, want) in cases {
        assert_eq!(links(html), own(want), "html {html}");
    }
}

#[test]
fn link_rel_table() {
    let cases: &[(&str, Option<LinkKind>)] = &[
        ("stylesheet", Some(R)),
        ("alternate stylesheet", Some(R)),
        ("ICON", Some(R)),
        ("shortcut icon", Some(R)),
        ("apple-touch-icon", Some(R)),
        ("preload", Some(R)),
        ("modulepreload", Some(R)),
        ("prefetch", Some(R)),
        ("manifest", Some(R)),
        ("alternate", Some(O)),
        ("canonical", Some(O)),
        ("next", Some(O)),
        ("prev", Some(O)),
        ("author", Some(O)),
        ("", Some(O)),
        ("preconnect", None),
        ("dns-prefetch preconnect", None),
    ];
    for (rel, want) in cases {
        let got = links(&format!("<link rel='{rel}' href='/r'>"));
        let want: Vec<_> = want
            .iter()
            .map(|k| ("https://example.com/r".to_owned(), *k))
            .collect();
        assert_eq!(got, want, "rel {rel:?}");
    }
    assert_eq!(
        links("<link href=/norel>"),
        own(&[("https://example.com/norel", O)])
    );
    assert_eq!(
        links("<link rel=preload as=image imagesrcset='a.png 1x, b.png 2x'>"),
        own(&[
            ("https://example.com/dir/a.png", R),
            ("https://example.com/dir/b.png", R)
        ])
    );
}

#[test]
fn nasty_markup() {
    let html = "<HTML><BODY><A HREF=Up.html>x</A>\
        <a href='  \n  spaced.html \t'>s</a>\
        <a href=\"java\nscript:alert(1)\">j</a>\
        <a href='javascript:void(0)'>v</a>\
        <a href='#top'>t</a><a href=''>e</a><a href='mailto:x@y'>m</a>\
        <a href='//cdn.example.net/p'>p</a>\
        <a href='http://bücher.de/ä'>idn</a>\
        <a href='/bad%zz%'>pct</a>\
        <a href='http://[::1'>broken</a>\
        <a href=frag.html#one>f1</a><a href=frag.html#two>f2</a>\
        <a href=unclosed.html>never closed\
        <img src=unquoted.png alt=x";
    let want = own(&[
        ("https://example.com/dir/Up.html", O),
        ("https://example.com/dir/spaced.html", O),
        ("https://cdn.example.net/p", O),
        ("http://xn--bcher-kva.de/%C3%A4", O),
        ("https://example.com/bad%zz%", O),
        ("https://example.com/dir/frag.html", O),
        ("https://example.com/dir/unclosed.html", O),
    ]);
    assert_eq!(links(html), want);
}

#[test]
fn base_href() {
    // Relative base, resolved against the page; applies to links before it too.
    let html = "<a href=early.html></a><head><base href='/other/'><base href='http://ignored/'>\
        </head><a href=x.html></a>";
    assert_eq!(
        links(html),
        own(&[
            ("https://example.com/other/early.html", O),
            ("https://example.com/other/x.html", O)
        ])
    );
    assert_eq!(
        links("<base target=_blank><base href=//h.test/b/><a href=y>"),
        own(&[("https://h.test/b/y", O)])
    );
    // An unusable base falls back to the page URL.
    assert_eq!(
        links("<base href='javascript:x'><a href=z>"),
        own(&[("https://example.com/dir/z", O)])
    );
}

#[test]
fn dedup_keeps_both_kinds_in_order() {
    let html = "<a href=x.png></a><img src=x.png><a href=x.png#f></a><img src='x.png'>";
    assert_eq!(
        links(html),
        own(&[
            ("https://example.com/dir/x.png", O),
            ("https://example.com/dir/x.png", R)
        ])
    );
}

#[test]
fn srcset_table() {
    let cases: &[(&str, &[&str])] = &[
        ("a.jpg 1x, b.jpg 2x", &["a.jpg", "b.jpg"]),
        ("a.jpg 300w,b.jpg 768w", &["a.jpg", "b.jpg"]),
        (
            "img,c_1.jpg 1x, img,c_2.jpg 2x",
            &["img,c_1.jpg", "img,c_2.jpg"],
        ),
        ("a.jpg, b.jpg", &["a.jpg", "b.jpg"]),
        ("a.jpg,, ,b.jpg", &["a.jpg", "b.jpg"]),
        ("  single.jpg  ", &["single.jpg"]),
        ("a.jpg (weird, desc) 1x, b.jpg", &["a.jpg", "b.jpg"]),
        ("", &[]),
        (" , , ", &[]),
        ("a.jpg 1x,", &["a.jpg"]),
    ];
    for (srcset, want) in cases {
        assert_eq!(srcset_urls(srcset), *want, "srcset {srcset:?}");
    }
    let huge: String = (0..20_000).map(|i| format!("img{i}.jpg {i}w, ")).collect();
    assert_eq!(srcset_urls(&huge).len(), 20_000);
    let got =
        links("<picture><source srcset='p1.webp 1x, p2.webp 2x'><img srcset='i.jpg 1x'></picture>");
    assert_eq!(got.len(), 3);
}

#[test]
fn refresh_table() {
    let cases: &[(&str, Option<&str>)] = &[
        ("5; url=/next", Some("/next")),
        ("0;URL='quoted.html'", Some("quoted.html")),
        ("0; url = \"dq.html\" ", Some("dq.html")),
        ("3, /comma", Some("/comma")),
        ("1.5 /space", Some("/space")),
        ("0; urlish.html", Some("urlish.html")),
        ("0;url='unterminated", Some("unterminated")),
        ("5", None),
        ("5;", None),
        ("", None),
        ("url=/no-time", None),
        ("5x; url=/bad", None),
    ];
    for (content, want) in cases {
        assert_eq!(extract_refresh(content), *want, "content {content:?}");
    }
}

#[test]
fn is_html_table() {
    let cases: &[(Option<&str>, &[u8], bool)] = &[
        (Some("text/html"), b"", true),
        (Some("Text/HTML; charset=utf-8"), b"", true),
        (Some("application/xhtml+xml"), b"", true),
        (Some("text/plain"), b"<html>", false),
        (Some("application/json"), b"{}", false),
        (None, b"<!DOCTYPE html>", true),
        (None, b"\xef\xbb\xbf \n<html lang=en>", true),
        (None, b"<HEAD>", true),
        (None, b"<!-- c -->", true),
        (None, b"<p>", true),
        (Some(""), b"<html>", true),
        (None, b"<bdi>", false),
        (None, b"<?xml version='1.0'?>", false),
        (None, b"GIF89a", false),
        (None, b"", false),
    ];
    for (ct, body, want) in cases {
        assert_eq!(is_html(*ct, body), *want, "{ct:?} {body:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_html_never_panics(html in any::<String>()) {
        let _ = links(&html);
    }

    #[test]
    fn html_shaped_input_never_panics(
        html in r#"(<a href=|<img srcset=|<base href=|<style>|<meta http-equiv=refresh content=|[ '",=#/:.a-z0-9<>]|url\(|javascript:){0,30}"#
    ) {
        for (url, _) in links(&html) {
            prop_assert!(!url.contains('#'));
        }
    }

    #[test]
    fn srcset_and_refresh_never_panic(s in any::<String>()) {
        let _ = srcset_urls(&s);
        let _ = extract_refresh(&s);
        let _ = is_html(None, s.as_bytes());
    }
}

/// Text for an attribute URL: the usual shapes, schemes that must be dropped, and anything.
fn url_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "(https?://|//|/|\\.\\./|javascript:|mailto:|data:|ftp://|file:|#| )?[a-zA-Z0-9./?#&=:;%_~ -]{0,20}",
        any::<String>(),
    ]
}

/// One piece of tag soup: link-bearing tags with any quoting, broken tags, junk and bytes.
fn soup_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        url_text().prop_map(|u| format!("<a href=\"{u}\">x</a>")),
        url_text().prop_map(|u| format!("<a href='{u}'>")),
        url_text().prop_map(|u| format!("<img src={u}>")),
        (url_text(), url_text()).prop_map(|(a, b)| format!("<img srcset='{a} 1x, {b} 2w'>")),
        url_text().prop_map(|u| format!("<base href=\"{u}\">")),
        (0u32..100, url_text())
            .prop_map(|(n, u)| { format!("<meta http-equiv=refresh content=\"{n}; url={u}\">") }),
        url_text().prop_map(|u| format!("<style>a{{background:url({u})}}</style>")),
        url_text().prop_map(|u| format!("<div style=\"background:url('{u}')\">")),
        url_text().prop_map(|u| format!("<link rel=stylesheet href={u}>")),
        url_text().prop_map(|u| format!("<iframe src=\"{u}\"></iframe>")),
        prop::sample::select(vec![
            "<a href=",
            "<img src='",
            "</",
            "<!--",
            "-->",
            "<![CDATA[",
            "<script>",
            "</a>",
            "<table><td background=",
            "<svg><use href=",
            "<frameset>",
            "\"",
            "'",
            ">",
            "<",
        ])
        .prop_map(str::to_owned),
        "[^<]{0,12}",
        prop::collection::vec(any::<u8>(), 0..16)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// Page URLs the soup is resolved against: a file, a directory, a port and an IPv6 host.
const PAGES: &[&str] = &[
    PAGE,
    "http://example.org/",
    "http://[::1]:8080/a/b/",
    "https://xn--bcher-kva.de/x?y=1",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn tag_soup_gives_only_http_links(
        pieces in prop::collection::vec(soup_piece(), 0..24),
        page in 0..PAGES.len(),
    ) {
        let doc = Html::parse_document(&pieces.concat());
        let page = Url::parse(PAGES[page]).unwrap();
        let found = page_links(&doc, &page);
        let mut seen = HashSet::new();
        for link in &found {
            prop_assert!(
                matches!(link.url.scheme(), "http" | "https"),
                "{} has scheme {}", link.url, link.url.scheme()
            );
            prop_assert!(link.url.fragment().is_none());
            prop_assert!(seen.insert((link.url.clone(), link.kind)), "duplicate {}", link.url);
        }
    }
}
