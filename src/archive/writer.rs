//! WARC files: append encoded records, roll over at a size, never leave a partial file behind a
//! final name.
//!
//! On disk: `DIR/<prefix>-<YYYYMMDDhhmmss>-<serial>.warc.gz`. While a file is being written it
//! is named `….warc.gz.open`; [`WarcWriter::finish`] (and rollover) syncs it and renames it, so
//! a `.warc.gz` name always means a complete file. Each file starts with a `warcinfo` record.
//! Records arrive already compressed (callers compress in parallel, outside the lock); the lock
//! is held only to append, so a group (request + response) lands adjacent in one file.
//!
//! Each group gets a sequence number in the order it was appended, so the crawl can commit
//! outcomes in file order (a prefix of what was written; see `crawl/store.rs`). A group whose
//! append fails (disk full) is cut off again, so the file still ends on a record boundary.
//!
//! For the kill/resume tests, `WARCROW_CRASH_AT` makes the process abort at a chosen point,
//! as a `kill -9` would: `write:N` halfway through the (N+1)th group's bytes, `rollover`
//! right after a file was closed and the next one begun.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::Utc;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::record::warcinfo;

/// Where a record landed: the file's final name, offset and length of its gzip member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordLocation {
    pub file: String,
    pub offset: u64,
    pub length: u64,
}

/// A finished WARC file, for the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct WarcFileInfo {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone)]
pub struct WriterSettings {
    pub dir: PathBuf,
    pub prefix: String,
    pub rollover_bytes: u64,
    pub compression_level: u32,
    /// Fields of each file's warcinfo record (software, crawl id, robots policy, ...).
    pub info_fields: Vec<(&'static str, String)>,
}

struct OpenFile {
    file: File,
    name: String,
    path: PathBuf,
    size: u64,
    sha256: Sha256,
}

struct State {
    current: Option<OpenFile>,
    serial: u32,
    finished: Vec<WarcFileInfo>,
    /// Groups appended so far (the next group's sequence number).
    groups: u64,
    /// The open file must be hashed from disk at close (an append failed and was cut off).
    rehash: bool,
}

/// Where a group of records landed, and its place in the order of appends.
#[derive(Debug, Clone)]
pub struct WrittenGroup {
    pub seq: u64,
    pub locations: Vec<RecordLocation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CrashAt {
    Never,
    /// Abort halfway through the group with this sequence number.
    Write(u64),
    Rollover,
}

fn crash_at() -> CrashAt {
    match std::env::var("WARCROW_CRASH_AT").ok().as_deref() {
        Some("rollover") => CrashAt::Rollover,
        Some(s) => s
            .strip_prefix("write:")
            .and_then(|n| n.parse().ok())
            .map_or(CrashAt::Never, CrashAt::Write),
        None => CrashAt::Never,
    }
}

pub struct WarcWriter {
    settings: WriterSettings,
    state: Mutex<State>,
    crash: CrashAt,
}

fn poisoned() -> std::io::Error {
    std::io::Error::other("WARC writer lock poisoned by an earlier panic")
}

impl WarcWriter {
    pub fn new(settings: WriterSettings) -> std::io::Result<WarcWriter> {
        Self::resume(settings, 0, Vec::new())
    }

    /// A writer that continues a crawl: new files from `next_serial` on, after the files
    /// already `finished`.
    pub fn resume(
        settings: WriterSettings,
        next_serial: u32,
        finished: Vec<WarcFileInfo>,
    ) -> std::io::Result<WarcWriter> {
        std::fs::create_dir_all(&settings.dir)?;
        Ok(WarcWriter {
            settings,
            state: Mutex::new(State {
                current: None,
                serial: next_serial,
                finished,
                groups: 0,
                rehash: false,
            }),
            crash: crash_at(),
        })
    }

    fn open_next(&self, state: &mut State) -> std::io::Result<()> {
        let s = &self.settings;
        let name = format!(
            "{}-{}-{:05}.warc.gz",
            s.prefix,
            Utc::now().format("%Y%m%d%H%M%S"),
            state.serial
        );
        state.serial += 1;
        let path = s.dir.join(&name);
        let open_path = open_name(&path);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&open_path)?;
        let mut f = OpenFile {
            file,
            name: name.clone(),
            path,
            size: 0,
            sha256: Sha256::new(),
        };
        let info = warcinfo(&name, &s.info_fields).encode(s.compression_level)?;
        append(&mut f, &info)?;
        state.current = Some(f);
        state.rehash = false;
        if self.crash == CrashAt::Rollover && state.serial > 1 {
            std::process::abort();
        }
        Ok(())
    }

    fn close_current(&self, state: &mut State) -> std::io::Result<()> {
        if let Some(f) = state.current.take() {
            f.file.sync_all()?;
            std::fs::rename(open_name(&f.path), &f.path)?;
            if let Ok(dir) = File::open(&self.settings.dir) {
                // Make the rename durable; not all filesystems allow syncing a directory.
                let _ = dir.sync_all();
            }
            let sha256 = if state.rehash {
                sha256_of(&f.path)?
            } else {
                hex(&f.sha256.finalize())
            };
            state.finished.push(WarcFileInfo {
                name: f.name,
                size: f.size,
                sha256,
            });
        }
        Ok(())
    }

    /// Append already-encoded records, adjacent, in one file. Returns where each landed and
    /// the group's sequence number. On an error nothing of the group stays in the file.
    pub fn write_group(&self, members: &[Vec<u8>]) -> std::io::Result<WrittenGroup> {
        let mut state = self.state.lock().map_err(|_| poisoned())?;
        let needs_new = match &state.current {
            None => true,
            Some(f) => f.size >= self.settings.rollover_bytes,
        };
        if needs_new {
            self.close_current(&mut state)?;
            self.open_next(&mut state)?;
        }
        let seq = state.groups;
        let crash = self.crash == CrashAt::Write(seq);
        let Some(f) = state.current.as_mut() else {
            return Err(std::io::Error::other("no open WARC file"));
        };
        let start = f.size;
        let mut locations = Vec::with_capacity(members.len());
        let mut result = Ok(());
        for m in members {
            locations.push(RecordLocation {
                file: f.name.clone(),
                offset: f.size,
                length: m.len() as u64,
            });
            if crash {
                let _ = f.file.write_all(&m[..m.len() / 2]);
                std::process::abort();
            }
            result = append(f, m);
            if result.is_err() {
                break;
            }
        }
        if let Err(e) = result {
            // Cut the partial group off so the file ends on a record boundary; its hash is
            // then taken from disk at close.
            let cut = f.file.set_len(start);
            f.size = start;
            state.rehash = true;
            return Err(match cut {
                Ok(()) => e,
                Err(cut) => std::io::Error::other(format!("{e}; cutting it off failed: {cut}")),
            });
        }
        state.groups += 1;
        Ok(WrittenGroup { seq, locations })
    }

    /// Close the open file (sync + rename) and list every file written.
    pub fn finish(&self) -> std::io::Result<Vec<WarcFileInfo>> {
        let mut state = self.state.lock().map_err(|_| poisoned())?;
        self.close_current(&mut state)?;
        Ok(state.finished.clone())
    }

    pub fn dir(&self) -> &Path {
        &self.settings.dir
    }
}

fn append(f: &mut OpenFile, bytes: &[u8]) -> std::io::Result<()> {
    f.file.write_all(bytes)?;
    f.sha256.update(bytes);
    f.size += bytes.len() as u64;
    Ok(())
}

/// The sha256 of a file, read from disk.
pub fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = std::io::Read::read(&mut file, &mut buf)?;
        if n == 0 {
            return Ok(hex(&hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

pub fn open_name(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".open");
    PathBuf::from(s)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::record::WarcRecord;
    use bytes::Bytes;
    use std::io::Read;
    use warc::RecordType;

    fn settings(dir: &Path, rollover: u64) -> WriterSettings {
        WriterSettings {
            dir: dir.to_path_buf(),
            prefix: "t".into(),
            rollover_bytes: rollover,
            compression_level: 1,
            info_fields: vec![("software", "warcrow-test".into())],
        }
    }

    fn member(text: &str) -> Vec<u8> {
        WarcRecord::new(RecordType::Resource, Utc::now())
            .header("WARC-Target-URI", "http://x/")
            .block(vec![Bytes::from(text.to_string())])
            .encode(1)
            .unwrap()
    }

    #[test]
    fn offsets_seek_to_members_and_files_roll_over() {
        let dir = tempfile::tempdir().unwrap();
        let w = WarcWriter::new(settings(dir.path(), 1)).unwrap();
        let a = w
            .write_group(&[member("one"), member("two")])
            .unwrap()
            .locations;
        assert_eq!(a[0].file, a[1].file, "a group stays in one file");
        assert_eq!(a[1].offset, a[0].offset + a[0].length);
        // The file is still open: no final name yet.
        assert!(!dir.path().join(&a[0].file).exists());
        let b = w.write_group(&[member("three")]).unwrap().locations;
        assert_ne!(a[0].file, b[0].file, "rollover after the size is reached");
        let files = w.finish().unwrap();
        assert_eq!(files.len(), 2);
        let bytes = std::fs::read(dir.path().join(&a[1].file)).unwrap();
        let slice = &bytes[a[1].offset as usize..(a[1].offset + a[1].length) as usize];
        let mut text = String::new();
        flate2::read::GzDecoder::new(slice)
            .read_to_string(&mut text)
            .unwrap();
        assert!(text.contains("\r\n\r\ntwo\r\n\r\n"), "{text}");
        let first = std::fs::read(dir.path().join(&files[0].name)).unwrap();
        let mut head = String::new();
        flate2::read::GzDecoder::new(&first[..])
            .read_to_string(&mut head)
            .unwrap();
        assert!(head.contains("WARC-Type: warcinfo"), "{head}");
        assert_eq!(files[0].size, first.len() as u64);
        assert_eq!(files[0].sha256, hex(&Sha256::digest(&first)));
    }
}
