//! `warcrow index`: a sorted CDXJ index (see [`crate::archive::cdxj`]) for any WARC files.
//!
//! Every record is read; errors name the file and offset. A file gzipped as one stream is
//! refused, because no offset in it can be seeked to.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::archive::cdxj::{entry_from_record, sort_lines};
use crate::archive::reader::{self, Framing};

/// Indexes `warcs` and writes the sorted lines to `out` (atomically) or stdout.
pub fn run(warcs: &[PathBuf], out: Option<&Path>) -> anyhow::Result<()> {
    if warcs.is_empty() {
        bail!("no WARC files given");
    }
    let mut lines = Vec::new();
    for path in warcs {
        index_file(path, &mut lines)?;
    }
    sort_lines(&mut lines);
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    match out {
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .context("cannot write to stdout")?,
        Some(out) => {
            let mut name = out.file_name().unwrap_or_default().to_os_string();
            name.push(".tmp");
            let tmp = out.with_file_name(name);
            std::fs::write(&tmp, &text)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, out)
                .with_context(|| format!("cannot rename {} to {}", tmp.display(), out.display()))?;
        }
    }
    Ok(())
}

fn index_file(path: &Path, lines: &mut Vec<String>) -> anyhow::Result<()> {
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .with_context(|| format!("{} is not a file name", path.display()))?;
    let records = reader::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let before = lines.len();
    for rec in records {
        let rec = rec.with_context(|| format!("cannot read {}", path.display()))?;
        if let Framing::SharedGzipMember { .. } = rec.framing {
            bail!(
                "{}: several records share one gzip member, so no index can point at them; \
                 recompress it with one gzip member per record (e.g. `warcio recompress`)",
                path.display()
            );
        }
        lines.extend(entry_from_record(&rec, &filename));
    }
    tracing::info!("{}: {} index lines", path.display(), lines.len() - before);
    Ok(())
}
