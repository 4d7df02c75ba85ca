//! The built-in demo news site, served on 127.0.0.1 with no network needed.
//!
//! *The Lantern Gazette* is an invented local newspaper. `warcrow demo` starts it on an
//! ephemeral loopback port, crawls it and prints a summary; integration tests serve the same
//! routes (plus fault routes) from `tests/support`. All content is fixed data
//! ([`content`]): no randomness and fixed dates, so every crawl yields the same payloads.
//!
//! What each part is for (which crawler feature it exercises):
//!
//! | Part | Exercises |
//! |---|---|
//! | `/` front page: `<picture><source srcset type=image/webp>`, `<img src srcset>`, inline `<style>` with `url()` | srcset parsing, picture sources, CSS in HTML |
//! | every page: `<link rel=stylesheet/icon/apple-touch-icon/canonical>`, `<script src>`, `<area href>` image map, `style="…url()"` | requisite discovery from `<head>` and attributes |
//! | every page: footer link to `https://example.org/` | scope: off-site links are never fetched |
//! | `/old-news/` → 301 (absolute `Location`) → `/archive/` → 302 (relative `Location`) → an article | redirects captured as separate records, Location resolution |
//! | `/missing/` and unknown paths | 404 with an HTML body |
//! | `/latest/` | `<meta http-equiv=refresh>` |
//! | `/section/science/` | `<base href>`: its article links are relative to `/news/2024/` |
//! | `/news/YYYY/MM/slug/` articles | JSON-LD `NewsArticle`, OpenGraph, canonical, byline, `<time>`, figure srcset; article extraction |
//! | WordPress-classic comments, `comment-page-K/` pagination, `?replytocom=N` links, avatars with `srcset 2x` | comment extraction across pages; fragment stripping (`#comment-N`, `#respond`) |
//! | the glassfrog article: `<iframe>`, `<video poster><source>`, `<audio src>` | frames and media as requisites |
//! | `/static/css/site.css`: `@import`, absolute, relative and `data:` `url()`s; `fonts.css`: `@font-face` | CSS link extraction and resolution against the stylesheet URL |
//! | gzip only when `Accept-Encoding` allows it, `Vary`; articles chunked, other pages `Content-Length`; `ETag`/`Last-Modified`/304 on static files; `HEAD` | raw-byte capture of real-world HTTP framing and codings |
//!
//! The server core in [`server`] is shared with the test site; [`respond`] is the demo's
//! whole request handler, so other handlers can fall back to it.

pub mod article;
pub mod assets;
pub mod content;
pub mod html;
pub mod reply;
pub mod server;

use std::net::{Ipv4Addr, SocketAddr};

use http::{Method, Request, Response, StatusCode, header};

use content::{ARTICLES, AUTHORS, SECTIONS};
use reply::{Coding, Reply, RequestInfo};
use server::Body;

pub use html::OFFSITE_URL;

/// Where `/old-news/` ends up after its two redirects.
pub const REDIRECT_TARGET: &str = "/news/2024/03/lighthouse-accord/";

/// The running demo site. Dropping it stops the server.
pub struct DemoSite {
    addr: SocketAddr,
    /// `None` only once `shutdown` has taken it.
    server: Option<server::Server>,
}

impl DemoSite {
    /// Starts the site on `127.0.0.1:0` (an ephemeral port).
    pub async fn start() -> std::io::Result<DemoSite> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let handler = server::handler(|req| async move { respond(&req) });
        let server = server::Server::bind(addr, handler).await?;
        tracing::info!(addr = %server.addr(), "demo site started");
        Ok(DemoSite {
            addr: server.addr(),
            server: Some(server),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/`
    pub fn url(&self) -> url::Url {
        // An IP and port always make a valid URL.
        url::Url::parse(&format!("http://{}/", self.addr())).expect("loopback URL is valid")
    }

    /// Stops accepting, ends open connections and waits until the server is gone.
    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

impl Drop for DemoSite {
    fn drop(&mut self) {
        // Dropping the server aborts its task, which closes the listener and connections.
        if let Some(server) = self.server.take() {
            tracing::debug!(addr = %self.addr, "demo site dropped while running");
            drop(server);
        }
    }
}

/// Answers one request to the demo site. Only GET and HEAD are allowed.
pub fn respond<B>(req: &Request<B>) -> Response<Body> {
    let info = RequestInfo::of(req);
    let reply = if info.method == Method::GET || info.method == Method::HEAD {
        route(&info)
    } else {
        Reply::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "405 Method Not Allowed\n",
        )
        .header(header::ALLOW, "GET, HEAD")
    };
    tracing::debug!(method = %info.method, path = %info.path, status = reply.status.as_u16(), "demo");
    reply.into_response(&info)
}

fn route(info: &RequestInfo) -> Reply {
    let base = format!("http://{}", info.host);
    let path = info.path.as_str();
    let page = |html: Option<String>| match html {
        Some(html) => Reply::html(StatusCode::OK, html),
        None => not_found(path),
    };
    let segment = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix('/'))
            .filter(|s| !s.is_empty() && !s.contains('/'))
    };
    if path == "/" {
        return Reply::html(StatusCode::OK, html::front_page(&base));
    }
    if path == "/old-news/" {
        // Absolute Location on the first hop, relative on the second: crawlers must handle both.
        return Reply::redirect(StatusCode::MOVED_PERMANENTLY, &format!("{base}/archive/"));
    }
    if path == "/archive/" {
        return Reply::redirect(StatusCode::FOUND, REDIRECT_TARGET);
    }
    if path == "/latest/" {
        return Reply::html(StatusCode::OK, html::latest_page());
    }
    if path == "/embed/map/vell-valley/" {
        return Reply::html(StatusCode::OK, html::embed_map_page());
    }
    if let Some(slug) = segment("/section/") {
        return page(html::section_page(slug, &base));
    }
    if let Some(slug) = segment("/author/") {
        return page(html::author_page(slug, &base));
    }
    if let Some(tag) = segment("/tag/") {
        return page(html::tag_page(tag, &base));
    }
    if let Some((a, n)) = article::lookup(path) {
        let reply_to = info
            .query_param("replytocom")
            .and_then(|v| v.parse::<u32>().ok());
        // Article pages are streamed (chunked), as PHP sites with output buffering off do.
        return Reply::html(StatusCode::OK, article::article_page(a, n, reply_to, &base))
            .chunked(4);
    }
    if let Some(asset) = assets::assets().get(path) {
        let coding = if asset.compressible {
            Coding::Negotiated
        } else {
            Coding::Identity
        };
        return Reply::new(StatusCode::OK, asset.content_type, asset.body.clone())
            .coding(coding)
            .with_validators()
            .header(header::CACHE_CONTROL, "public, max-age=86400");
    }
    not_found(path)
}

fn not_found(path: &str) -> Reply {
    Reply::html(StatusCode::NOT_FOUND, html::not_found_page(path))
}

/// An article of the demo, as extraction tests expect to find it.
#[derive(Debug, Clone)]
pub struct DemoArticle {
    /// `/news/YYYY/MM/slug/`
    pub path: String,
    /// The article path first, then `comment-page-2/`, `comment-page-3/`… (a single entry
    /// when the comments fit one page or are closed).
    pub comment_pages: Vec<String>,
    pub title: &'static str,
    pub author: &'static str,
    /// ISO 8601, as in `<time datetime>` and JSON-LD `datePublished`.
    pub published: &'static str,
    pub paragraphs: usize,
    /// Comments over all pages, replies included.
    pub comment_count: usize,
    /// Comment ids per comment page, in document order (parents before their replies).
    pub comment_ids: Vec<Vec<u32>>,
    pub comments_open: bool,
}

/// Every article with its comment pages and expected extraction results.
pub fn articles() -> Vec<DemoArticle> {
    ARTICLES
        .iter()
        .map(|a| {
            let pages = a.comment_pages.len().max(1);
            DemoArticle {
                path: a.path(),
                comment_pages: (1..=pages).map(|p| a.comment_page_path(p)).collect(),
                title: a.title,
                author: AUTHORS[a.author].name,
                published: a.published,
                paragraphs: a.paragraphs.len(),
                comment_count: a.comment_count(),
                comment_ids: (1..=pages).map(|p| article::comment_ids(a, p)).collect(),
                comments_open: a.comments_open,
            }
        })
        .collect()
}

/// Paths of the article pages and their comment pages.
pub fn article_paths() -> Vec<String> {
    articles()
        .into_iter()
        .flat_map(|a| a.comment_pages)
        .collect()
}

/// Every path (with query, for `?replytocom=` links) a crawl of `/` should capture: pages,
/// comment pages, reply-form variants, requisites, both redirect hops and the 404.
/// `/robots.txt` is served but not listed: no page links to it. Sorted, no duplicates.
pub fn expected_paths() -> Vec<String> {
    let mut paths: Vec<String> = [
        "/",
        "/latest/",
        "/old-news/",
        "/archive/",
        "/missing/",
        "/embed/map/vell-valley/",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    paths.extend(SECTIONS.iter().map(|s| format!("/section/{}/", s.slug)));
    paths.extend(AUTHORS.iter().map(|a| format!("/author/{}/", a.slug)));
    paths.extend(html::all_tags().iter().map(|t| format!("/tag/{t}/")));
    for a in ARTICLES {
        for page in 1..=a.comment_pages.len().max(1) {
            let page_path = a.comment_page_path(page);
            for id in article::comment_ids(a, page) {
                paths.push(format!("{page_path}?replytocom={id}"));
            }
            paths.push(page_path);
        }
    }
    paths.extend(
        assets::assets()
            .keys()
            .filter(|p| p.as_str() != "/robots.txt")
            .cloned(),
    );
    paths.sort();
    paths.dedup();
    paths
}

#[cfg(test)]
mod tests;
