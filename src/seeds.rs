//! Seeds: the URLs a crawl starts from, from the command line and seed files.
//!
//! A seed file has one URL a line; blank lines and lines starting with `#` are skipped, and
//! text after ` #` is a comment. Every bad line is reported with `file:line`, all at once.

use std::path::Path;

use url::Url;

use crate::canonical::canonicalize;

#[derive(Debug, thiserror::Error)]
#[error("{} problem(s) with the seeds:\n  - {}", .0.len(), .0.join("\n  - "))]
pub struct SeedError(pub Vec<String>);

/// Parse one seed; only http and https URLs are crawlable.
fn parse_seed(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL ({e})"))?;
    match url.scheme() {
        "http" | "https" if url.host_str().is_some() => Ok(canonicalize(&url)),
        "http" | "https" => Err(format!("{text:?} has no host")),
        other => Err(format!(
            "{text:?}: scheme {other:?} is not crawlable (use http:// or https://)"
        )),
    }
}

/// Seeds from arguments and seed files, in order, without duplicates.
pub fn collect(args: &[String], files: &[impl AsRef<Path>]) -> Result<Vec<Url>, SeedError> {
    let mut seeds: Vec<Url> = Vec::new();
    let mut problems = Vec::new();
    for arg in args {
        match parse_seed(arg.trim()) {
            Ok(u) => seeds.push(u),
            Err(e) => problems.push(format!("argument: {e}")),
        }
    }
    for file in files {
        let file = file.as_ref();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("{}: cannot read: {e}", file.display()));
                continue;
            }
        };
        for (i, line) in text.lines().enumerate() {
            let line = line.split(" #").next().unwrap_or("").trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match parse_seed(line) {
                Ok(u) => seeds.push(u),
                Err(e) => problems.push(format!("{}:{}: {e}", file.display(), i + 1)),
            }
        }
    }
    if !problems.is_empty() {
        return Err(SeedError(problems));
    }
    let mut seen = std::collections::HashSet::new();
    seeds.retain(|u| seen.insert(u.as_str().to_owned()));
    if seeds.is_empty() {
        return Err(SeedError(vec![
            "no seeds: give URLs as arguments or a seed file with --seeds".into(),
        ]));
    }
    Ok(seeds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_files_report_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.txt");
        std::fs::write(
            &path,
            "# news\nhttps://example.com/\n\nftp://x/\nhttps://example.com/ # again\nnot a url\n",
        )
        .unwrap();
        let err = collect(&[], &[&path]).unwrap_err();
        assert_eq!(err.0.len(), 2, "{err}");
        assert!(
            err.0[0].ends_with(
                "s.txt:4: \"ftp://x/\": scheme \"ftp\" is not crawlable (use http:// or https://)"
            ),
            "{}",
            err.0[0]
        );
        assert!(err.0[1].contains("s.txt:6:"), "{}", err.0[1]);
    }

    #[test]
    fn arguments_and_files_merge_without_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.txt");
        std::fs::write(&path, "https://example.com/\nhttps://example.org/a\n").unwrap();
        let seeds = collect(&["https://EXAMPLE.com".to_string()], &[&path]).unwrap();
        let seeds: Vec<&str> = seeds.iter().map(Url::as_str).collect();
        assert_eq!(seeds, ["https://example.com/", "https://example.org/a"]);
    }

    #[test]
    fn no_seeds_is_an_error() {
        assert!(collect(&[], &[] as &[&Path]).is_err());
    }
}
