//! The zip side of packaging: entries are streamed into the zip through a writer that hashes
//! (sha256) and counts the bytes on their way in, so every `datapackage.json` resource comes
//! from the same single pass that wrote the entry.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use super::WaczError;

/// Entries at or above this size need ZIP64 headers (the classic fields are 32-bit).
pub const ZIP64_FROM: u64 = u32::MAX as u64;

/// How an entry is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// As it is: already-compressed data that replay tools range-read.
    Stored,
    /// Deflated: JSON and text that are read whole.
    Deflated,
}

/// One `resources` item of `datapackage.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Resource {
    pub name: String,
    pub path: String,
    pub hash: String,
    pub bytes: u64,
}

/// A writer that hashes and counts what passes through it.
pub struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    pub fn new(inner: W) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// `sha256:<hex>` and the byte count.
    pub fn finish(self) -> (String, u64) {
        let hex = data_encoding::HEXLOWER.encode(&self.hasher.finalize());
        (format!("sha256:{hex}"), self.bytes)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        // Only what the inner writer accepted: a short write is retried with the rest.
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `sha256:<hex>` of a byte slice.
pub fn sha256_of(bytes: &[u8]) -> String {
    format!(
        "sha256:{}",
        data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
    )
}

/// The zip being written plus the resources recorded so far.
pub struct Entries {
    zip: ZipWriter<BufWriter<File>>,
    /// The zip's path, for error messages.
    path: PathBuf,
    mtime: zip::DateTime,
    resources: Vec<Resource>,
}

impl Entries {
    pub fn new(zip: ZipWriter<BufWriter<File>>, path: &Path, mtime: zip::DateTime) -> Self {
        Entries {
            zip,
            path: path.to_path_buf(),
            mtime,
            resources: Vec::new(),
        }
    }

    /// The file being written (the `.part` name), for error messages.
    pub fn zip_path(&self) -> &Path {
        &self.path
    }

    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    fn zip_err(&self) -> impl FnOnce(zip::result::ZipError) -> WaczError + use<> {
        let path = self.path.clone();
        move |source| WaczError::Zip { path, source }
    }

    /// Writes one entry with `fill`, which streams the content into the given writer, and
    /// records it as a resource (`name` = its base name, lowercased, as frictionless wants).
    pub fn entry<F>(
        &mut self,
        path: &str,
        method: Method,
        large: bool,
        fill: F,
    ) -> Result<&Resource, WaczError>
    where
        F: FnOnce(&mut Hashing<&mut ZipWriter<BufWriter<File>>>) -> Result<(), WaczError>,
    {
        let (hash, bytes) = self.write_entry(path, method, large, fill)?;
        self.resources.push(Resource {
            name: resource_name(path),
            path: path.to_owned(),
            hash,
            bytes,
        });
        Ok(&self.resources[self.resources.len() - 1])
    }

    /// Streams the file at `src` into entry `path` and records it as a resource.
    pub fn copy_file(&mut self, path: &str, src: &Path, method: Method) -> Result<(), WaczError> {
        let mut file = File::open(src).map_err(WaczError::io("open", src))?;
        let len = file.metadata().map_err(WaczError::io("read", src))?.len();
        self.entry(path, method, len >= ZIP64_FROM, |w| {
            // Either side may fail (read error, disk full); the message names the source.
            std::io::copy(&mut file, w).map_err(WaczError::io("package", src))?;
            Ok(())
        })?;
        Ok(())
    }

    /// Writes `bytes` as entry `path`; `record` says whether it is listed as a resource.
    pub fn write_bytes(
        &mut self,
        path: &str,
        bytes: &[u8],
        method: Method,
        record: bool,
    ) -> Result<(), WaczError> {
        let out_path = self.path.clone();
        let fill = |w: &mut Hashing<&mut ZipWriter<BufWriter<File>>>| {
            w.write_all(bytes)
                .map_err(WaczError::io("write to", &out_path))
        };
        if record {
            self.entry(path, method, false, fill)?;
        } else {
            self.write_entry(path, method, false, fill)?;
        }
        Ok(())
    }

    fn write_entry<F>(
        &mut self,
        path: &str,
        method: Method,
        large: bool,
        fill: F,
    ) -> Result<(String, u64), WaczError>
    where
        F: FnOnce(&mut Hashing<&mut ZipWriter<BufWriter<File>>>) -> Result<(), WaczError>,
    {
        let options = SimpleFileOptions::default()
            .compression_method(match method {
                Method::Stored => zip::CompressionMethod::Stored,
                Method::Deflated => zip::CompressionMethod::Deflated,
            })
            .last_modified_time(self.mtime)
            .unix_permissions(0o644)
            .large_file(large);
        let err = self.zip_err();
        self.zip.start_file(path, options).map_err(err)?;
        let mut w = Hashing::new(&mut self.zip);
        fill(&mut w)?;
        Ok(w.finish())
    }

    /// Writes the central directory and makes the file durable.
    pub fn finish(self) -> Result<(), WaczError> {
        let err = self.zip_err();
        let buf = self.zip.finish().map_err(err)?;
        let mut file = buf
            .into_inner()
            .map_err(|e| WaczError::io("write to", &self.path)(e.into_error()))?;
        file.flush()
            .map_err(WaczError::io("write to", &self.path))?;
        // The rename that follows must not publish a file whose data is still in flight.
        file.sync_all().map_err(WaczError::io("sync", &self.path))?;
        Ok(())
    }
}

/// Frictionless resource names: lowercase letters, digits and `-._/` only.
fn resource_name(path: &str) -> String {
    let base = path.rsplit('/').next().unwrap_or(path);
    base.chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_frictionless_safe() {
        assert_eq!(
            resource_name("archive/Test-2024 01.warc.gz"),
            "test-2024-01.warc.gz"
        );
        assert_eq!(resource_name("pages/pages.jsonl"), "pages.jsonl");
    }

    #[test]
    fn hashing_writer_counts_and_hashes() {
        let mut out = Vec::new();
        let mut w = Hashing::new(&mut out);
        w.write_all(b"ab").unwrap();
        w.write_all(b"c").unwrap();
        let (hash, n) = w.finish();
        assert_eq!(n, 3);
        assert_eq!(hash, sha256_of(b"abc"));
        assert_eq!(
            hash,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
