//! Jobs: recurring crawls of the same sites. A job is a folder holding its config, one crawl
//! folder per run, and what ties the runs together:
//!
//! ```text
//! JOBDIR/
//!   config.toml     the crawl config every run uses (config/default.toml's keys)
//!   job.toml        the job: seed groups and their schedules (see `spec.rs`)
//!   seeds.txt       the seeds given when the job was created
//!   runs/<crawl-id>/  one crawl folder per run, as `warcrow crawl --out` makes it
//!   runs.jsonl      the job-level index of runs, one line per run
//!   dedup.db        captures of every run, by URL and by payload digest (see `dedup.rs`)
//!   index.cdxj      every run's index lines together, WARC paths relative to JOBDIR
//!   schedule.json   the scheduler's state: when each group last started
//!   .lock-*         OS file locks: one run per group, the job files, one scheduler
//! ```
//!
//! `spec.rs` reads job.toml; `run.rs` runs one run and `runs.rs` adds it to runs.jsonl and
//! index.cdxj; `lock.rs` keeps one run of a group at a time; `schedule.rs` is the long-lived
//! `warcrow schedule`; `dedup.rs` makes later runs incremental (conditional requests,
//! revisits of earlier runs' records); `history.rs` merges the runs' extracted articles into
//! one comment history.

pub mod dedup;
pub mod history;
pub mod lock;
pub mod run;
pub mod runs;
pub mod schedule;
pub mod spec;
