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
//! command line; `demo` is the built-in offline demo site; `index_cmd` and `extract_cmd` are
//! the offline `warcrow index` and `warcrow extract` commands. `traps` holds the crawler-trap
//! rules that run beside scope, and the seen-set key that folds session ids and parameter order.

pub mod archive;
pub mod canonical;
pub mod cli;
pub mod config;
pub mod crawl;
pub mod demo;
pub mod extract;
pub mod extract_cmd;
pub mod fetch;
pub mod index_cmd;
pub mod job;
pub mod manifest;
pub mod scope;
pub mod seeds;
pub mod traps;
