//! SURT keys from a table printed by the Python `surt` 0.3.1 package (`surt.surt(url)`, the
//! call cdxj-indexer makes; a URL it rejects is its own key), and line format checks.

use super::*;

/// (url, key) pairs as printed by surt 0.3.1; tests/index.rs also checks against it live.
const SURT_TABLE: &[(&str, &str)] = &[
    ("http://www.example.com/", "com,example)/"),
    ("http://example.com", "com,example)/"),
    (
        "https://www.Example.COM/Path/To/Page.HTML",
        "com,example)/path/to/page.html",
    ),
    ("http://www2.example.com/a/", "com,example)/a"),
    ("http://www.example.com:80/a", "com,example)/a"),
    ("https://example.com:443/a", "com,example)/a"),
    ("http://example.com:8080/a/b/", "com,example:8080)/a/b"),
    ("https://example.com:80/", "com,example:80)/"),
    (
        "http://127.0.0.1:8080/test-index/",
        "1,0,0,127:8080)/test-index",
    ),
    ("http://127.0.0.1/", "1,0,0,127)/"),
    ("http://3232235777/", "1,1,168,192)/"),
    ("http://0x7f.1/", "1,0x7f)/"),
    ("http://010.0.0.1/", "1,0,0,8)/"),
    ("http://192.168.1/", "1,0,168,192)/"),
    ("http://user:pass@example.com/x", "com,example)/x"),
    ("http://example.com/?b=2&a=1", "com,example)/?a=1&b=2"),
    (
        "http://example.com/path?B=2&A=1&a=0",
        "com,example)/path?a=0&a=1&b=2",
    ),
    (
        "http://example.com/?foo&bar=&baz=1",
        "com,example)/?bar=&baz=1&foo",
    ),
    ("http://example.com/?", "com,example)/"),
    ("http://example.com/a?", "com,example)/a"),
    ("http://example.com/page#frag", "com,example)/page"),
    ("http://example.com/a/./b/../c", "com,example)/a/c"),
    ("http://example.com/a//b", "com,example)/a/b"),
    ("http://example.com/%7Euser/%41%42", "com,example)/~user/ab"),
    ("http://example.com/a%2520b", "com,example)/a%20b"),
    ("http://example.com/a b", "com,example)/a%20b"),
    ("http://example.com/%zz", "com,example)/%25zz"),
    ("http://example.com/caf%C3%A9", "com,example)/caf%c3%a9"),
    (
        "http://example.com/?q=a+b&q2=%20x",
        "com,example)/?q=a+b&q2=%20x",
    ),
    (
        "http://example.com/x?jsessionid=0123456789abcdef0123456789abcdef&a=1",
        "com,example)/x?a=1",
    ),
    (
        "http://example.com/x?a=1&PHPSESSID=0123456789abcdef0123456789abcdef",
        "com,example)/x?&a=1",
    ),
    (
        "http://example.com/x?sid=0123456789abcdef0123456789abcdef",
        "com,example)/x",
    ),
    (
        "http://example.com/x?ASPSESSIONIDABCDEFGH=ABCDEFGHIJKLMNOPQRSTUVWX&b=2",
        "com,example)/x?b=2",
    ),
    (
        "http://example.com/x?cfid=123&cftoken=456&z=1",
        "com,example)/x?z=1",
    ),
    (
        "http://example.com/(S(0123456789abcdefghijklmn))/page.aspx",
        "com,example)/page.aspx",
    ),
    (
        "http://example.com/(0123456789abcdefghijklmn)/default.aspx?x=1",
        "com,example)/default.aspx?x=1",
    ),
    ("HTTP://EXAMPLE.COM/", "com,example)/"),
    ("example.com/no-scheme", "com,example)/no-scheme"),
    ("http://http://example.com/double", "com,example)/double"),
    ("https://http://example.com/double2", "com,example)/double2"),
    ("http://example.com:/", "com,example)/"),
    ("http://example..com./", "com,example)/"),
    ("http://www.www.example.com/", "com,example,www)/"),
    ("http://wwwexample.com/", "com,wwwexample)/"),
    ("http://www.example.com", "com,example)/"),
    (
        "ftp://ftp.example.com/file.txt",
        "com,example,ftp)/file.txt",
    ),
    ("dns:www.example.com", "dns:www.example.com"),
    ("mailto:someone@example.com", "mailto:someone@example.com"),
    ("filedesc://foo.arc", "filedesc://foo.arc"),
    ("http://[::1]:8080/v6", "::1:8080)/v6"),
    ("http://example.com:99999/", "http://example.com:99999/"),
    ("http://example.com:abc/", "http://example.com:abc/"),
    ("http://bücher.example/", "example,xn--bcher-kva)/"),
    (
        "http://example.com/ä?ö=ü",
        "com,example)/%c3%a4?%c3%b6=%c3%bc",
    ),
    (
        "http://EXAMPLE.com/UPPER/Path?Q=Upper",
        "com,example)/upper/path?q=upper",
    ),
    ("http://example.com/a/b/", "com,example)/a/b"),
    ("http://example.com/?a=1&a=0&a", "com,example)/?a&a=0&a=1"),
    ("http://example.com/%2F", "com,example)/"),
    ("http://example.com/a?x=%2f%41", "com,example)/a?x=/a"),
    ("http://example.com/..", "com,example)/.."),
    ("http://example.com/../a", "com,example)/../a"),
    ("urn:x-wr:foo", "urn:x-wr:foo"),
    (
        "http://example.com/index.html?__wb_method=post&a=1",
        "com,example)/index.html?__wb_method=post&a=1",
    ),
    ("http://localhost:1234/", "localhost:1234)/"),
    ("\thttp://example.com/tab ", "com,example)/tab"),
];

#[test]
fn surt_matches_the_python_package() {
    let mut wrong = Vec::new();
    for (url, want) in SURT_TABLE {
        let got = surt(url);
        if &got != want {
            wrong.push(format!("{url:?}: got {got:?}, want {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn fields(mime: Option<&str>) -> CdxjFields<'_> {
    CdxjFields {
        url: "http://www.example.com/a?b=1&a=2",
        warc_date: DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678901Z")
            .unwrap()
            .with_timezone(&Utc),
        mime,
        status: Some(200),
        digest: "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ",
        length: 1234,
        offset: 567,
        filename: "x.warc.gz",
    }
}

#[test]
fn line_format_is_cdxj_indexers() {
    assert_eq!(
        cdxj_line(&fields(Some("text/html; charset=utf-8"))),
        "com,example)/a?a=2&b=1 20260102030405 {\"url\": \"http://www.example.com/a?b=1&a=2\", \
         \"mime\": \"text/html\", \"status\": \"200\", \"digest\": \
         \"sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ\", \"length\": \"1234\", \"offset\": \"567\", \
         \"filename\": \"x.warc.gz\"}"
    );
    let no_mime = cdxj_line(&fields(None));
    assert!(!no_mime.contains("mime"), "{no_mime}");
}

#[test]
fn json_strings_escape_like_python() {
    let mut s = String::new();
    push_json_string(&mut s, "a\"b\\c\n\u{1}é😀");
    assert_eq!(s, r#""a\"b\\c\n\u0001\u00e9\ud83d\ude00""#);
}

#[test]
fn timestamps_take_fourteen_digits() {
    assert_eq!(timestamp("2026-01-02T03:04:05.123456Z"), "20260102030405");
    assert_eq!(timestamp("2026-01-02T03:04:05+02:00"), "20260102030405");
    assert_eq!(timestamp("2026-01-02"), "20260102000000");
}

#[test]
fn sort_index_file_sorts_bytewise_and_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("index.cdxj");
    std::fs::write(&p, "b 1 {}\na,b 2 {}\na 3 {}\nB 0 {}\na 3 {}\n").unwrap();
    sort_index_file(&p).unwrap();
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "B 0 {}\na 3 {}\na,b 2 {}\nb 1 {}\n"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_large_index_is_sorted_in_runs_on_disk_and_merged() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("index.cdxj");
    // 2,000 lines, each twice, in a scrambled order; runs of about 50 lines.
    let mut lines: Vec<String> = (0..4000)
        .map(|i| format!("com,example)/{:04} 2026 {{}}", (i * 7919) % 2000))
        .collect();
    std::fs::write(&p, lines.join("\n") + "\n\n").unwrap();
    sort::sort_lines_file(&p, 50 * 60).unwrap();
    lines.sort();
    lines.dedup();
    assert_eq!(lines.len(), 2000);
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        lines.join("\n") + "\n"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no runs left behind"
    );
}
