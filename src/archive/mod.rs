//! Archive: the WARC side of the crawl.
//!
//! * [`record`] builds WARC/1.1 records (ordered headers, digests) and encodes each one as its
//!   own gzip member, so any record can be read by seeking to its offset and inflating.
//! * [`writer`] appends encoded records to `<prefix>-<timestamp>-<serial>.warc.gz` files,
//!   rolling over at a size, writing each file under a `.open` name and renaming it when it is
//!   complete.
//! * [`dedup`] decides, within a crawl, which responses become `revisit` records.
//! * [`reader`] reads any WARC file (ours or another tool's) record by record with offsets.
//! * [`cdxj`] writes CDXJ index lines (as webrecorder's cdxj-indexer does) and sorts index files.
//! * [`digest`] holds the one digest spelling used everywhere: `sha1:` + base32.
//!
//! Record order in a file: one `warcinfo` first; then, per fetch, the `request` record
//! immediately followed by its `response` record (one write, never split across files).

pub mod cdxj;
pub mod dedup;
pub mod digest;
pub mod reader;
pub mod record;
pub mod wacz;
pub mod writer;

pub use record::WarcRecord;
pub use writer::{RecordLocation, WarcFileInfo, WarcWriter, WriterSettings};
