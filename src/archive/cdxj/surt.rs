//! SURT keys exactly as the Python `surt` package (0.3.x) makes them with its defaults, which
//! is what cdxj-indexer and pywb use: a port of its parse → Google canonicaliser → IA
//! canonicaliser → SURT host steps. No Rust crate reproduces that package's quirks (IP
//! reversal, `www\d*.` stripping, session-id regexes, `?` handling), and keys that differ
//! by one byte do not match at replay, so it is written out here.
//!
//! Known difference: non-ASCII host names go through the `url` crate's IDNA (UTS #46)
//! instead of Python's IDNA 2003 codec; the two agree on ordinary names.

use std::sync::LazyLock;

use regex::bytes::Regex;

fn re(pattern: &str) -> Regex {
    // The patterns are constants checked by the unit tests; a failure is a programming error.
    Regex::new(pattern).expect("valid constant regex")
}

static HAS_PROTOCOL: LazyLock<Regex> = LazyLock::new(|| re(r"(?-u)^[a-zA-Z][a-zA-Z0-9+\-.]*:"));
static MULTIPLE_PROTOCOLS: LazyLock<Regex> = LazyLock::new(|| re(r"(?-u)^(https?://)+"));
static SPLIT: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?s-u)^(([a-zA-Z][a-zA-Z0-9+.-]*):)?((//([^/?#]*))?([^?#]*)(\?([^#]*))?)?(#(.*))?$")
});
static WWW: LazyLock<Regex> = LazyLock::new(|| re(r"(?-u)^www\d*\."));
static DECIMAL_IP: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?-u)^([1-9][0-9]*)(\.[0-9]+)?(\.[0-9]+)?(\.[0-9]+)?$"));
static OCTAL_IP: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?-u)^(0[0-7]*)(\.[0-7]+)?(\.[0-7]+)?(\.[0-7]+)?$"));
static PATH_SESSION_IDS: LazyLock<[Regex; 2]> = LazyLock::new(|| {
    [
        re(r"(?i-u)^(.*/)(\((?:[a-z]\([0-9a-z]{24}\))+\)/)([^?]+\.aspx.*)$"),
        re(r"(?i-u)^(.*/)(\([0-9a-z]{24}\)/)([^?]+\.aspx.*)$"),
    ]
});
static QUERY_SESSION_IDS: LazyLock<[Regex; 5]> = LazyLock::new(|| {
    [
        re(r"(?i-u)^(.*)(?:jsessionid=[0-9a-zA-Z]{32})(?:&(.*))?$"),
        re(r"(?i-u)^(.*)(?:phpsessid=[0-9a-zA-Z]{32})(?:&(.*))?$"),
        re(r"(?i-u)^(.*)(?:sid=[0-9a-zA-Z]{32})(?:&(.*))?$"),
        re(r"(?i-u)^(.*)(?:ASPSESSIONID[a-zA-Z]{8}=[a-zA-Z]{24})(?:&(.*))?$"),
        re(r"(?i-u)^(.*)(?:cfid=[^&]+&cftoken=[^&]+)(?:&(.*))?$"),
    ]
});

/// The SURT key of `url`, e.g. `http://www.Example.com/A/?b=1&a=2` → `com,example)/a?a=2&b=1`.
/// Like cdxj-indexer, a URL the algorithm rejects (a bad port, say) is its own key.
pub fn surt(url: &str) -> String {
    if url.is_empty() {
        return "-".to_owned();
    }
    if url.starts_with("filedesc") {
        return url.to_owned();
    }
    match key(url.as_bytes()) {
        Some(k) => String::from_utf8_lossy(&k).into_owned(),
        None => url.to_owned(),
    }
}

struct Parts {
    scheme: Vec<u8>,
    host: Option<Vec<u8>>,
    port: Option<u32>,
    path: Option<Vec<u8>>,
    query: Option<Vec<u8>>,
    question_mark_only: bool,
}

fn non_empty(b: &[u8]) -> Option<Vec<u8>> {
    (!b.is_empty()).then(|| b.to_vec())
}

fn parse(url: &[u8]) -> Option<Parts> {
    let trimmed = url.trim_ascii_start();
    let trimmed = trimmed
        .iter()
        .rposition(|b| !b" \t\n\r\x0b\x0c".contains(b))
        .map_or(&trimmed[..0], |i| &trimmed[..=i]);
    let mut u: Vec<u8> = trimmed
        .iter()
        .copied()
        .filter(|b| !matches!(b, b'\n' | b'\r' | b'\t'))
        .collect();
    if !u.is_empty() && !HAS_PROTOCOL.is_match(&u) {
        u.splice(0..0, b"http://".iter().copied());
    }
    if let Some(c) = MULTIPLE_PROTOCOLS.captures(&u) {
        let (all, last) = (c.get(0)?.end(), c.get(1)?.as_bytes().to_vec());
        u.splice(0..all, last);
    }
    let c = SPLIT.captures(&u)?;
    let group = |i: usize| c.get(i).map_or(&b""[..], |m| m.as_bytes());
    let scheme = non_empty(group(2))?;
    let mut netloc = group(5);
    while let Some(n) = netloc.strip_suffix(b":") {
        netloc = n;
    }
    let mut path = non_empty(group(6));
    let query = non_empty(group(8));
    // Host and port as Python's urlsplit reports them.
    let hostinfo = match netloc.iter().rposition(|&b| b == b'@') {
        Some(i) => &netloc[i + 1..],
        None => netloc,
    };
    let (hostname, port) = if let Some(i) = hostinfo.iter().position(|&b| b == b'[') {
        let bracketed = &hostinfo[i + 1..];
        let (h, rest) = split_once(bracketed, b']');
        (h, split_once(rest, b':').1)
    } else {
        split_once(hostinfo, b':')
    };
    let port = if port.is_empty() {
        None
    } else if port.iter().all(u8::is_ascii_digit) {
        let p: u32 = std::str::from_utf8(port).ok()?.parse().ok()?;
        if p > 65535 {
            return None;
        }
        (p != 0).then_some(p)
    } else {
        return None;
    };
    let mut host = non_empty(hostname).map(|h| h.to_ascii_lowercase());
    if scheme.starts_with(b"http")
        && host.is_none()
        && let Some(p) = &path
    {
        let p = p.as_slice();
        let start = p.iter().position(|&b| b != b'/').unwrap_or(p.len());
        let (h, rest) = split_once(&p[start..], b'/');
        let mut new_path = b"/".to_vec();
        new_path.extend_from_slice(rest);
        host = non_empty(h);
        path = Some(new_path);
    }
    Some(Parts {
        question_mark_only: u.ends_with(b"?") && query.is_none(),
        scheme,
        host,
        port,
        path,
        query,
    })
}

fn split_once(b: &[u8], sep: u8) -> (&[u8], &[u8]) {
    match b.iter().position(|&x| x == sep) {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &b[b.len()..]),
    }
}

fn key(url: &[u8]) -> Option<Vec<u8>> {
    let mut p = parse(url)?;
    // Google canonicaliser.
    p.query = p.query.map(|q| escape_once(&unescape_repeatedly(&q)));
    if let Some(h) = p.host.take() {
        let mut h = unescape_repeatedly(&h);
        if !h.is_ascii()
            && let Ok(u) = url::Url::parse(&format!("http://{}/", String::from_utf8_lossy(&h)))
            && let Some(ascii) = u.host_str()
        {
            h = ascii.as_bytes().to_vec();
        }
        let mut text: Vec<u8> = replace_double_dots(&h);
        while text.first() == Some(&b'.') {
            text.remove(0);
        }
        while text.last() == Some(&b'.') {
            text.pop();
        }
        p.host = Some(match ip_formats(&text) {
            Some(ip) => ip.into_bytes(),
            None => escape_once(&text.to_ascii_lowercase()),
        });
    }
    let mut path = p.path.as_deref().map(unescape_repeatedly);
    if p.host.as_ref().is_some_and(|h| !h.is_empty()) {
        path = Some(normalize_path(path.as_deref()));
    }
    p.path = path.map(|x| escape_once(&x));

    // IA canonicaliser.
    if let Some(h) = p.host.as_mut().filter(|h| !h.is_empty()) {
        h.make_ascii_lowercase();
        if p.scheme != b"dns"
            && let Some(m) = WWW.find(h)
        {
            h.drain(..m.end());
        }
    }
    let default_port = match p.scheme.to_ascii_lowercase().as_slice() {
        b"http" => 80,
        b"https" => 443,
        _ => 0,
    };
    if p.port == Some(default_port) {
        p.port = None;
    }
    if let Some(path) = p.path.as_mut().filter(|x| !x.is_empty()) {
        path.make_ascii_lowercase();
        for r in PATH_SESSION_IDS.iter() {
            if let Some(c) = r.captures(path) {
                let mut kept = c.get(1).map_or(&b""[..], |m| m.as_bytes()).to_vec();
                kept.extend_from_slice(c.get(3).map_or(&b""[..], |m| m.as_bytes()));
                *path = kept;
            }
        }
        if path.len() > 1 && path.ends_with(b"/") {
            path.pop();
        }
    }
    if let Some(mut q) = p.query.take() {
        for r in QUERY_SESSION_IDS.iter() {
            if let Some(c) = r.captures(&q) {
                let mut kept = c.get(1).map_or(&b""[..], |m| m.as_bytes()).to_vec();
                if let Some(m) = c.get(2).filter(|m| !m.is_empty()) {
                    kept.extend_from_slice(m.as_bytes());
                }
                q = kept;
            }
        }
        q.make_ascii_lowercase();
        let q = alpha_reorder(&q);
        p.query = non_empty(&q);
    } else {
        p.question_mark_only = false;
    }

    // SURT form, without scheme.
    let mut out = Vec::new();
    match p.host.as_ref().filter(|h| !h.is_empty()) {
        Some(h) => {
            let mut labels: Vec<&[u8]> = h.split(|&b| b == b'.').collect();
            labels.reverse();
            out.extend_from_slice(&labels.join(&b","[..]));
            if let Some(port) = p.port {
                out.extend_from_slice(format!(":{port}").as_bytes());
            }
            out.push(b')');
        }
        None => {
            out.extend_from_slice(&p.scheme);
            out.push(b':');
        }
    }
    match &p.path {
        Some(path) if !path.is_empty() => out.extend_from_slice(path),
        _ if p.query.is_some() => out.push(b'/'),
        _ => {}
    }
    if let Some(q) = &p.query {
        out.push(b'?');
        out.extend_from_slice(q);
    }
    if p.question_mark_only {
        out.push(b'?');
    }
    Some(out)
}

fn replace_double_dots(h: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(h.len());
    let mut i = 0;
    while i < h.len() {
        if h[i..].starts_with(b"..") {
            out.push(b'.');
            i += 2;
        } else {
            out.push(h[i]);
            i += 1;
        }
    }
    out
}

/// Query arguments sorted as Python sorts `(name,)`/`(name, value)` tuples.
fn alpha_reorder(q: &[u8]) -> Vec<u8> {
    if q.len() <= 1 {
        return q.to_vec();
    }
    let mut args: Vec<(&[u8], Option<&[u8]>)> = q
        .split(|&b| b == b'&')
        .map(|a| match a.iter().position(|&b| b == b'=') {
            Some(i) => (&a[..i], Some(&a[i + 1..])),
            None => (a, None),
        })
        .collect();
    args.sort();
    let parts: Vec<Vec<u8>> = args
        .into_iter()
        .map(|(k, v)| match v {
            Some(v) => [k, b"=", v].concat(),
            None => k.to_vec(),
        })
        .collect();
    parts.join(&b"&"[..])
}

/// Removes `.` and resolves `..` segments, drops empty segments except a trailing one.
fn normalize_path(path: Option<&[u8]>) -> Vec<u8> {
    let Some(path) = path.filter(|p| !p.is_empty()) else {
        return b"/".to_vec();
    };
    let mut kept: Vec<&[u8]> = Vec::new();
    for seg in path.split(|&b| b == b'/').skip(1) {
        match seg {
            b"." => {}
            b".." if !kept.is_empty() => {
                kept.pop();
            }
            _ => kept.push(seg),
        }
    }
    let mut out = b"/".to_vec();
    if let Some((last, init)) = kept.split_last() {
        for seg in init.iter().filter(|s| !s.is_empty()) {
            out.extend_from_slice(seg);
            out.push(b'/');
        }
        out.extend_from_slice(last);
    }
    out
}

/// Dotted-quad form of numeric hosts, as Python's `gethostbyname_ex` (inet_aton) gives it.
fn ip_formats(host: &[u8]) -> Option<String> {
    if !host.is_empty() && host.iter().all(u8::is_ascii_digit) {
        let n: u128 = std::str::from_utf8(host).ok()?.parse().ok()?;
        return Some(dotted((n & 0xffff_ffff) as u32));
    }
    if !(DECIMAL_IP.is_match(host) || OCTAL_IP.is_match(host)) {
        return None;
    }
    let parts: Vec<u64> = host
        .split(|&b| b == b'.')
        .map(|p| {
            let s = std::str::from_utf8(p).ok()?;
            if s.len() > 1 && s.starts_with('0') {
                u64::from_str_radix(&s[1..], 8).ok()
            } else {
                s.parse().ok()
            }
        })
        .collect::<Option<_>>()?;
    let (last, init) = parts.split_last()?;
    let mut n: u64 = 0;
    for (i, &p) in init.iter().enumerate() {
        if p > 255 {
            return None;
        }
        n |= p << (24 - 8 * i);
    }
    let last_bits = 32 - 8 * init.len() as u32;
    if *last >= 1 << last_bits {
        return None;
    }
    Some(dotted((n | last) as u32))
}

fn dotted(n: u32) -> String {
    let [a, b, c, d] = n.to_be_bytes();
    format!("{a}.{b}.{c}.{d}")
}

/// Percent-escapes what Python's `quote_from_bytes` escapes with surt's safe set: controls,
/// space, `#`, `%`, DEL and non-ASCII bytes.
fn escape_once(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    for &b in input {
        if b > 0x20 && b < 0x7f && b != b'#' && b != b'%' {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    out
}

fn unescape_repeatedly(input: &[u8]) -> Vec<u8> {
    let mut cur = input.to_vec();
    loop {
        let next = unquote(&cur);
        if next == cur {
            return cur;
        }
        cur = next;
    }
}

fn unquote(input: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%'
            && i + 2 < input.len()
            && let (Some(h), Some(l)) = (hex(input[i + 1]), hex(input[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    out
}
