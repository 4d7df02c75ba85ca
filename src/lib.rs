//! warcrow: a web-archiving crawler.
pub mod canonical;
pub mod demo;
pub mod extract;
pub mod fetch;
