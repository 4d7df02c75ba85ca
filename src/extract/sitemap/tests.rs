//! Sitemap files as sites publish them: urlsets, indexes, namespaced, gzip, plain text,
//! broken, and robots.txt `Sitemap:` lines.

use std::io::Write;

use super::*;

fn base() -> Url {
    Url::parse("https://example.com/sitemap.xml").expect("base")
}

fn strs(urls: &[Url]) -> Vec<&str> {
    urls.iter().map(Url::as_str).collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

const URLSET: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>
      https://example.com/a?x=1&amp;y=2
    </loc>
    <lastmod>2024-01-01</lastmod>
    <image:image><image:loc>https://example.com/pic.jpg</image:loc></image:image>
  </url>
  <url><loc>/relative/page#frag</loc></url>
  <url><loc>https://example.com/caf&#xE9;&#47;</loc></url>
  <url><loc><![CDATA[https://example.com/cdata?a=1&b=2]]></loc></url>
  <url><loc>ftp://example.com/file</loc></url>
  <url><loc>mailto:someone@example.com</loc></url>
  <url><loc></loc></url>
</urlset>
"#;

#[test]
fn urlset_locs_are_trimmed_decoded_resolved_and_filtered() {
    let map = parse_sitemap(URLSET.as_bytes(), &base(), 100);
    assert_eq!(
        strs(&map.urls),
        [
            "https://example.com/a?x=1&y=2",
            "https://example.com/relative/page",
            "https://example.com/caf%C3%A9/",
            "https://example.com/cdata?a=1&b=2",
        ]
    );
    assert!(map.sitemaps.is_empty());
}

#[test]
fn sitemap_index_lists_sitemaps() {
    let index = r#"<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://example.com/sitemap-posts.xml.gz</loc><lastmod>2024-01-01</lastmod></sitemap>
  <sitemap><loc>sitemap-pages.xml</loc></sitemap>
</sitemapindex>"#;
    let map = parse_sitemap(index.as_bytes(), &base(), 100);
    assert!(map.urls.is_empty());
    assert_eq!(
        strs(&map.sitemaps),
        [
            "https://example.com/sitemap-posts.xml.gz",
            "https://example.com/sitemap-pages.xml",
        ]
    );
}

#[test]
fn namespace_prefixes_do_not_matter() {
    let xml = r#"<?xml version="1.0"?>
<sm:urlset xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sm:url><sm:loc>https://example.com/one</sm:loc></sm:url>
  <sm:url><sm:loc>https://example.com/two</sm:loc></sm:url>
</sm:urlset>"#;
    let map = parse_sitemap(xml.as_bytes(), &base(), 100);
    assert_eq!(
        strs(&map.urls),
        ["https://example.com/one", "https://example.com/two"]
    );
}

#[test]
fn gzip_sitemaps_are_decompressed() {
    let map = parse_sitemap(&gzip(URLSET.as_bytes()), &base(), 100);
    assert_eq!(map.urls.len(), 4);
    assert_eq!(map.urls[0].as_str(), "https://example.com/a?x=1&y=2");
    // Corrupt after the magic bytes: nothing, and no panic.
    let broken = [0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef];
    assert_eq!(parse_sitemap(&broken, &base(), 100), Sitemap::default());
}

#[test]
fn a_gzip_bomb_is_read_only_up_to_the_cap() {
    // 54 MiB of blanks between two entries, from some 50 KB of gzip: the entry after the
    // 50 MiB cut is never read.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(b"<urlset><url><loc>https://example.com/first</loc></url>")
        .expect("gzip");
    let blanks = vec![b' '; 1 << 20];
    for _ in 0..54 {
        enc.write_all(&blanks).expect("gzip");
    }
    enc.write_all(b"<url><loc>https://example.com/after-the-cut</loc></url></urlset>")
        .expect("gzip");
    let bomb = enc.finish().expect("gzip");
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let map = parse_sitemap(&bomb, &base(), usize::MAX);
    assert_eq!(strs(&map.urls), ["https://example.com/first"]);
}

#[test]
fn at_most_max_urls_are_returned() {
    let xml: String = std::iter::once("<urlset>".to_string())
        .chain((0..50).map(|i| format!("<url><loc>https://example.com/{i}</loc></url>")))
        .chain(std::iter::once("</urlset>".to_string()))
        .collect();
    let map = parse_sitemap(xml.as_bytes(), &base(), 7);
    assert_eq!(map.urls.len(), 7);
    assert_eq!(map.urls[6].as_str(), "https://example.com/6");
    let text: String = (0..50)
        .map(|i| format!("https://example.com/{i}\n"))
        .collect();
    assert_eq!(parse_sitemap(text.as_bytes(), &base(), 3).urls.len(), 3);
}

#[test]
fn plain_text_sitemaps_take_absolute_http_lines() {
    let text = "\u{feff}https://example.com/a\r\n\n  http://example.com/b#x  \nnot a url\n/relative\nftp://example.com/c\n";
    let map = parse_sitemap(text.as_bytes(), &base(), 100);
    assert_eq!(
        strs(&map.urls),
        ["https://example.com/a", "http://example.com/b"]
    );
    assert!(map.sitemaps.is_empty());
}

#[test]
fn malformed_xml_keeps_what_came_before() {
    let cases: &[(&str, usize)] = &[
        // Cut mid-document, as a truncated download is.
        (
            "<urlset><url><loc>https://example.com/1</loc></url><url><loc>https://exa",
            1,
        ),
        // Mismatched end tags.
        (
            "<urlset><url><loc>https://example.com/1</loc></uurl><url><loc>https://example.com/2</loc></url></urlset>",
            2,
        ),
        // Broken markup after the first entry.
        (
            "<urlset><url><loc>https://example.com/1</loc></url><url <<<>>> &&& </urlset>",
            1,
        ),
        ("<html><body>Not found</body></html>", 0),
        ("<", 0),
        ("", 0),
    ];
    for (xml, want) in cases {
        let map = parse_sitemap(xml.as_bytes(), &base(), 100);
        assert_eq!(map.urls.len(), *want, "{xml}");
    }
}

#[test]
fn garbage_never_panics() {
    let inputs: Vec<Vec<u8>> = vec![
        vec![0xff, 0xfe, 0x00, 0x3c],
        b"<urlset><url><loc>https://example.com/\xff\xfe</loc></url></urlset>".to_vec(),
        b"<urlset><url><loc>&#0;&#xFFFFFFFF;&bogus;https://x.example/</loc></url></urlset>"
            .to_vec(),
        (0..=255u8).cycle().take(10_000).collect(),
        "<a>".repeat(100_000).into_bytes(),
        format!(
            "<urlset><url><loc>https://example.com/{}</loc></url></urlset>",
            "x".repeat(100_000)
        )
        .into_bytes(),
    ];
    for input in inputs {
        let map = parse_sitemap(&input, &base(), 100);
        for url in map.urls.iter().chain(&map.sitemaps) {
            assert!(matches!(url.scheme(), "http" | "https"));
            assert!(url.as_str().len() <= MAX_LOC_BYTES + 100);
        }
    }
}

#[test]
fn robots_sitemap_lines() {
    let robots = b"User-agent: *\nDisallow: /private/\n\
        Sitemap: https://example.com/sitemap.xml\n\
        sitemap:/relative-map.xml # our pages\n\
        SITEMAP :  https://cdn.example.net/map.xml.gz  \n\
        Sitemap: https://example.com/sitemap.xml\n\
        Sitemap: ftp://example.com/no.xml\n\
        # Sitemap: https://example.com/commented.xml\n\
        Sitemaps: https://example.com/wrong-key.xml\n\
        Sitemap:\n";
    let base = Url::parse("https://example.com/robots.txt").expect("base");
    assert_eq!(
        strs(&robots_sitemaps(robots, &base)),
        [
            "https://example.com/sitemap.xml",
            "https://example.com/relative-map.xml",
            "https://cdn.example.net/map.xml.gz",
        ]
    );
    assert!(robots_sitemaps(b"\xff\xfe\x00garbage", &base).is_empty());
}
