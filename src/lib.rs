//! warcrow: a web-archiving crawler.
//!
//! ```text
//! seeds ─▶ scope ─▶ frontier ─▶ fetch ─▶ archive (WARC request+response) ─▶ extract (links)
//!   (seeds.rs) (scope.rs) (crawl/)  (fetch/)     (archive/)                    (extract/)
//!                  ▲                                                              │
//!                  └──────────────────────── discovered links ◀──────────────────┘
//!                                   manifest.rs: captures.jsonl + manifest.json
//! ```
//!
//! `crawl` is the composition root that wires the stages and owns shutdown; `cli` is the
//! command line; `demo` is the built-in offline demo site.

pub mod archive;
pub mod canonical;
pub mod cli;
pub mod config;
pub mod crawl;
pub mod demo;
pub mod extract;
pub mod fetch;
pub mod index_cmd;
pub mod manifest;
pub mod scope;
pub mod seeds;
