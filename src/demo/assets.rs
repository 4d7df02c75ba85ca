//! Static files of the demo site: stylesheets, script, fonts, images, media, favicon and
//! robots.txt.
//!
//! Binary files are tiny and generated, each carrying its own path so that no two share a
//! payload digest (a crawler that deduplicates by digest would otherwise write revisit
//! records and confuse capture counts). PNG and GIF files are complete, decodable 1x1
//! images; JPEG, WebP, WOFF2, MP4, MP3 and ICO files only have the right magic bytes and
//! structure headers, which is all content sniffing and MIME checks look at.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::OnceLock;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::ZlibEncoder;

use super::content::{ARTICLES, COMMENTERS};
use super::reply::fnv1a;

/// One static file.
#[derive(Debug, Clone)]
pub struct Asset {
    pub content_type: &'static str,
    pub body: Bytes,
    /// Text worth gzip-compressing (CSS, JS, robots.txt).
    pub compressible: bool,
}

/// `@import`, an absolute `url()`, a relative `url()` (resolving to `/static/img/rule.gif`)
/// and a `data:` URL that must not be fetched.
pub const SITE_CSS: &str = r#"@charset "utf-8";
@import url("/static/css/fonts.css");

body {
  margin: 0 auto;
  max-width: 60rem;
  font-family: "Lantern Serif", Georgia, serif;
  color: #222;
  background: #fbf8f1 url("/static/img/masthead-bg.jpg") repeat-x top left;
}
.masthead { padding: 1rem; background-size: cover; }
.site-nav ul { display: flex; gap: 1rem; list-style: none; font-family: "Lantern Sans", sans-serif; }
.site-footer hr { height: 3px; border: 0; background: url(../img/rule.gif) repeat-x; }
.byline .author::before { content: ""; display: inline-block; width: 8px; height: 8px;
  background: url("data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///ywAAAAAAQABAAACAUwAOw==") no-repeat; }
.commentlist { list-style: none; padding-left: 0; }
.commentlist .children { list-style: none; margin-left: 2rem; }
.avatar { border-radius: 50%; float: left; margin-right: .5rem; }
"#;

/// Two `@font-face` rules: one absolute and one relative `url()`.
pub const FONTS_CSS: &str = r#"@font-face {
  font-family: "Lantern Serif";
  font-style: normal;
  font-weight: 400;
  font-display: swap;
  src: url("/static/fonts/lantern-serif.woff2") format("woff2");
}
@font-face {
  font-family: "Lantern Sans";
  font-style: normal;
  font-weight: 400;
  font-display: swap;
  src: url(../fonts/lantern-sans.woff2) format("woff2");
}
"#;

pub const SITE_JS: &str = r#"// The Lantern Gazette: small progressive enhancements, no framework.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // Open the reply form in place instead of reloading the page.
    document.querySelectorAll(".comment-reply-link").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var respond = document.getElementById("respond");
        var body = link.closest(".comment-body");
        if (!respond || !body) { return; }
        event.preventDefault();
        body.parentNode.insertBefore(respond, body.nextSibling);
        document.getElementById("comment_parent").value = link.dataset.commentid;
      });
    });
  });
})();
"#;

pub const ROBOTS_TXT: &str = "User-agent: *\nAllow: /\n";

/// Every static file by path, built once.
pub fn assets() -> &'static BTreeMap<String, Asset> {
    static ASSETS: OnceLock<BTreeMap<String, Asset>> = OnceLock::new();
    ASSETS.get_or_init(build)
}

fn build() -> BTreeMap<String, Asset> {
    let mut m = BTreeMap::new();
    let mut text = |path: &str, content_type: &'static str, body: &'static str| {
        let asset = Asset {
            content_type,
            body: Bytes::from_static(body.as_bytes()),
            compressible: true,
        };
        m.insert(path.to_owned(), asset);
    };
    text("/static/css/site.css", "text/css; charset=utf-8", SITE_CSS);
    text(
        "/static/css/fonts.css",
        "text/css; charset=utf-8",
        FONTS_CSS,
    );
    text(
        "/static/js/site.js",
        "text/javascript; charset=utf-8",
        SITE_JS,
    );
    text("/robots.txt", "text/plain; charset=utf-8", ROBOTS_TXT);

    let mut binary: Vec<String> = vec![
        "/favicon.ico".into(),
        "/static/fonts/lantern-serif.woff2".into(),
        "/static/fonts/lantern-sans.woff2".into(),
        "/static/img/logo.png".into(),
        "/static/img/touch-icon.png".into(),
        "/static/img/paper-texture.png".into(),
        "/static/img/hero-bg.jpg".into(),
        "/static/img/masthead-bg.jpg".into(),
        "/static/img/rule.gif".into(),
        "/static/img/maps/vell-valley.png".into(),
        "/static/img/video/glassfrog-poster.jpg".into(),
        "/static/media/glassfrog-chorus.mp4".into(),
        "/static/media/glassfrog-call.mp3".into(),
    ];
    for a in ARTICLES {
        for size in [320, 640] {
            binary.push(format!("/static/img/thumbs/{}-{size}.jpg", a.slug));
            binary.push(format!("/static/img/thumbs/{}-{size}.webp", a.slug));
        }
        for size in [800, 1600] {
            binary.push(format!("/static/img/photos/{}-{size}.jpg", a.slug));
        }
    }
    for c in COMMENTERS {
        for size in [48, 96] {
            binary.push(format!("/static/img/avatars/{}-{size}.png", c.slug));
        }
    }
    for path in binary {
        let (content_type, body) = binary_file(&path);
        let asset = Asset {
            content_type,
            body: Bytes::from(body),
            compressible: false,
        };
        m.insert(path, asset);
    }
    m
}

/// Content type and bytes for a binary file, chosen by extension.
fn binary_file(path: &str) -> (&'static str, Vec<u8>) {
    let ext = path.rsplit('.').next().unwrap_or("");
    match ext {
        "png" => ("image/png", png(path)),
        "gif" => ("image/gif", gif(path)),
        "jpg" => ("image/jpeg", jpeg(path)),
        "webp" => ("image/webp", webp(path)),
        "woff2" => ("font/woff2", woff2(path)),
        "mp4" => ("video/mp4", mp4(path)),
        "mp3" => ("audio/mpeg", mp3(path)),
        "ico" => ("image/x-icon", ico(path)),
        _ => ("application/octet-stream", path.as_bytes().to_vec()),
    }
}

/// A colour derived from the path, so images differ visibly as well as byte-wise.
fn colour(path: &str) -> [u8; 3] {
    let h = fnv1a(path.as_bytes()).to_be_bytes();
    [h[0], h[1], h[2]]
}

/// A valid 1x1 RGB PNG with the path in a `tEXt` chunk.
fn png(path: &str) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(0).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    // width 1, height 1, bit depth 8, colour type 2 (RGB), deflate, filter 0, no interlace.
    chunk(&mut out, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
    let mut text = b"Comment\0".to_vec();
    text.extend_from_slice(path.as_bytes());
    chunk(&mut out, b"tEXt", &text);
    let [r, g, b] = colour(path);
    // One scanline: filter byte 0, then the pixel.
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    let idat = match z.write_all(&[0, r, g, b]).and_then(|()| z.finish()) {
        Ok(idat) => idat,
        Err(e) => {
            tracing::warn!(error = %e, "zlib failed; PNG will not decode");
            Vec::new()
        }
    };
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A valid 1x1 GIF89a with the path in a comment extension.
fn gif(path: &str) -> Vec<u8> {
    let [r, g, b] = colour(path);
    let mut out = b"GIF89a".to_vec();
    // Logical screen 1x1, global colour table of 2 entries.
    out.extend_from_slice(&[1, 0, 1, 0, 0x80, 0, 0]);
    out.extend_from_slice(&[r, g, b, 0xff, 0xff, 0xff]);
    out.extend_from_slice(&[0x21, 0xfe]);
    for piece in path.as_bytes().chunks(255) {
        out.push(u8::try_from(piece.len()).unwrap_or(0));
        out.extend_from_slice(piece);
    }
    out.push(0);
    // Image descriptor at 0,0 size 1x1; LZW minimum code size 2; one pixel of colour 0.
    out.extend_from_slice(&[0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
    out.extend_from_slice(&[2, 2, 0x44, 0x01, 0]);
    out.push(0x3b);
    out
}

/// SOI, a JFIF APP0 segment, a COM segment with the path, EOI.
fn jpeg(path: &str) -> Vec<u8> {
    let mut out = vec![0xff, 0xd8, 0xff, 0xe0, 0, 16];
    out.extend_from_slice(b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00");
    let len = u16::try_from(path.len() + 2).unwrap_or(2);
    out.extend_from_slice(&[0xff, 0xfe]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&path.as_bytes()[..usize::from(len) - 2]);
    out.extend_from_slice(&[0xff, 0xd9]);
    out
}

/// A RIFF/WEBP container holding one private chunk with the path.
fn webp(path: &str) -> Vec<u8> {
    let mut data = path.as_bytes().to_vec();
    if !data.len().is_multiple_of(2) {
        data.push(0); // RIFF chunks are padded to even length.
    }
    let chunk_len = u32::try_from(path.len()).unwrap_or(0);
    let riff_len = u32::try_from(4 + 8 + data.len()).unwrap_or(0);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&riff_len.to_le_bytes());
    out.extend_from_slice(b"WEBPLTGZ");
    out.extend_from_slice(&chunk_len.to_le_bytes());
    out.extend_from_slice(&data);
    out
}

/// The WOFF2 signature and TrueType flavour, then the path.
fn woff2(path: &str) -> Vec<u8> {
    let mut out = b"wOF2\x00\x01\x00\x00".to_vec();
    out.extend_from_slice(path.as_bytes());
    out
}

/// An `ftyp` box followed by a `free` box with the path.
fn mp4(path: &str) -> Vec<u8> {
    let mut out = vec![0, 0, 0, 0x18];
    out.extend_from_slice(b"ftypisom\x00\x00\x02\x00isommp41");
    let free_len = u32::try_from(8 + path.len()).unwrap_or(8);
    out.extend_from_slice(&free_len.to_be_bytes());
    out.extend_from_slice(b"free");
    out.extend_from_slice(path.as_bytes());
    out
}

/// An ID3v2.4 tag holding a comment-like `TXXX` frame with the path, no audio frames.
fn mp3(path: &str) -> Vec<u8> {
    let frame_len = path.len() + 2;
    let tag_len = 10 + frame_len;
    // ID3 sizes are "synchsafe": 7 bits per byte.
    let synchsafe = |n: usize| -> [u8; 4] {
        [
            ((n >> 21) & 0x7f) as u8,
            ((n >> 14) & 0x7f) as u8,
            ((n >> 7) & 0x7f) as u8,
            (n & 0x7f) as u8,
        ]
    };
    let mut out = b"ID3\x04\x00\x00".to_vec();
    out.extend_from_slice(&synchsafe(tag_len));
    out.extend_from_slice(b"TXXX");
    out.extend_from_slice(&synchsafe(frame_len));
    out.extend_from_slice(&[0, 0, 3, 0]); // flags, UTF-8, empty description
    out.extend_from_slice(path.as_bytes());
    out
}

/// An ICO directory with one 1x1 entry whose image is a PNG.
fn ico(path: &str) -> Vec<u8> {
    let image = png(path);
    let size = u32::try_from(image.len()).unwrap_or(0);
    let mut out = vec![0, 0, 1, 0, 1, 0];
    out.extend_from_slice(&[1, 1, 0, 0, 1, 0, 32, 0]);
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&22u32.to_le_bytes());
    out.extend_from_slice(&image);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_match_types() {
        let a = assets();
        let starts = |p: &str, magic: &[u8]| a[p].body.starts_with(magic);
        assert!(starts("/static/img/logo.png", b"\x89PNG\r\n\x1a\n"));
        assert!(starts("/static/img/rule.gif", b"GIF89a"));
        assert!(starts("/static/img/hero-bg.jpg", &[0xff, 0xd8, 0xff]));
        assert!(starts("/static/fonts/lantern-sans.woff2", b"wOF2"));
        assert!(starts("/favicon.ico", &[0, 0, 1, 0]));
        let webp = &a["/static/img/thumbs/night-tram-320.webp"].body;
        assert!(webp.starts_with(b"RIFF") && &webp[8..12] == b"WEBP");
        assert_eq!(
            webp.len(),
            8 + u32::from_le_bytes([webp[4], webp[5], webp[6], webp[7]]) as usize
        );
        assert_eq!(&a["/static/media/glassfrog-chorus.mp4"].body[4..8], b"ftyp");
        assert!(
            a["/static/img/thumbs/night-tram-640.jpg"]
                .body
                .ends_with(&[0xff, 0xd9])
        );
    }

    #[test]
    fn binary_payloads_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for asset in assets().values() {
            assert!(seen.insert(asset.body.clone()), "duplicate payload");
        }
    }
}
