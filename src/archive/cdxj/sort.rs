//! Sorting an index file bytewise (the order pywb's binary search needs), with duplicate
//! lines dropped, in bounded memory: a crawl's index can be far larger than the crawler's
//! memory. Lines are sorted in runs of at most `run_bytes`, each run written beside the index,
//! and the runs merged.
//!
//! Written by hand: the external-sort crate (`extsort`) brings rayon and a build-time
//! doc-test tool for what is a short k-way merge of sorted runs.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Lines held in memory at once while sorting (plus about 40 bytes of overhead per line).
pub const RUN_BYTES: usize = 4 << 20;

/// Sorted runs on disk, removed when dropped (after the merge, or on an error).
struct Runs(Vec<PathBuf>);

impl Drop for Runs {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Sort `lines` and write them to `out`, each once.
fn write_sorted(lines: &mut Vec<Vec<u8>>, out: &mut impl Write) -> io::Result<()> {
    lines.sort_unstable();
    lines.dedup();
    for l in lines.drain(..) {
        out.write_all(&l)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Replace the file at `path` by its non-empty lines sorted bytewise, each once.
pub fn sort_lines_file(path: &Path, run_bytes: usize) -> io::Result<()> {
    let mut runs = Runs(Vec::new());
    let mut held: Vec<Vec<u8>> = Vec::new();
    let mut held_bytes = 0;
    for line in BufReader::new(File::open(path)?).split(b'\n') {
        let line = line?;
        if line.is_empty() {
            continue;
        }
        held_bytes += line.len() + 40;
        held.push(line);
        if held_bytes >= run_bytes {
            let run = sibling(path, &format!(".run{}", runs.0.len()));
            runs.0.push(run.clone());
            let mut out = BufWriter::new(File::create(&run)?);
            write_sorted(&mut held, &mut out)?;
            out.flush()?;
            held_bytes = 0;
        }
    }
    let tmp = sibling(path, ".sorting");
    let mut out = BufWriter::new(File::create(&tmp)?);
    if runs.0.is_empty() {
        write_sorted(&mut held, &mut out)?;
    } else {
        if !held.is_empty() {
            let run = sibling(path, &format!(".run{}", runs.0.len()));
            runs.0.push(run.clone());
            let mut run_out = BufWriter::new(File::create(&run)?);
            write_sorted(&mut held, &mut run_out)?;
            run_out.flush()?;
        }
        merge(&runs.0, &mut out)?;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Merge sorted runs into `out`, dropping lines equal to the one before.
fn merge(runs: &[PathBuf], out: &mut impl Write) -> io::Result<()> {
    let mut readers = runs
        .iter()
        .map(|p| Ok(BufReader::new(File::open(p)?).split(b'\n')))
        .collect::<io::Result<Vec<_>>>()?;
    let mut heap = BinaryHeap::new();
    for (i, r) in readers.iter_mut().enumerate() {
        if let Some(line) = r.next() {
            heap.push(Reverse((line?, i)));
        }
    }
    let mut last: Option<Vec<u8>> = None;
    while let Some(Reverse((line, i))) = heap.pop() {
        if let Some(next) = readers[i].next() {
            heap.push(Reverse((next?, i)));
        }
        if last.as_ref() != Some(&line) {
            out.write_all(&line)?;
            out.write_all(b"\n")?;
            last = Some(line);
        }
    }
    Ok(())
}
