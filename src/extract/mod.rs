//! Extract: pure functions from captured bytes to links (and, later, content).
//!
//! * [`decode`] undoes Content-Encoding (gzip, deflate, br) and picks the charset, with a cap
//!   on the decoded size so a gzip bomb costs nothing.
//! * [`links`] walks a parsed HTML document once and returns every link with its role.
//! * [`css`] finds `url()` and `@import` in stylesheets and `style` attributes.
//! * [`article`] turns a parsed article page into an [`article::Article`]: metadata, main
//!   text and reader comments, or a reason why the page is not an article.
//! * [`comments`] owns the comment record, the per-platform comment rules and comment-page
//!   pagination ([`comments::paging`]).
//! * [`extracted`] owns the `extracted.jsonl` line and merges an article's pages into it.
//! * [`dates`] normalises machine, human and relative dates to ISO 8601.
//! * [`sitemap`] reads sitemap files (XML, plain text, gzip) and robots.txt `Sitemap:` lines.
//!
//! Nothing here does I/O; every function is table-tested beside its code.

pub mod article;
pub mod comments;
pub mod css;
pub mod dates;
pub mod decode;
pub mod extracted;
pub mod links;
pub mod sitemap;

use url::Url;

/// The role a discovered URL plays for the page that links to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// Navigation to another page (a/area href, iframe src counts as requisite, see links.rs).
    Outlink,
    /// Needed to render the page (images, CSS, JS, fonts, icons, media, frames).
    Requisite,
}

/// A URL found in a document, absolute and without fragment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Link {
    pub url: Url,
    pub kind: LinkKind,
}
