//! The command line: subcommands, their flags, and the human summary printed at the end.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{Config, RawConfig};
use crate::crawl::{self, CrawlOptions, CrawlSummary};
use crate::job::run::{RunOutcome, run_once};

/// Print a line on stdout, ignoring a closed pipe (`warcrow demo | head` must not panic,
/// which `println!` does when the reader has gone).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// warcrow: a web-archiving crawler that writes standard WARC files and a JSON manifest.
#[derive(Debug, Parser)]
#[command(name = "warcrow", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Crawl from seed URLs and write WARC files, manifest.json and captures.jsonl.
    #[command(
        after_help = "Output: DIR/warc/*.warc.gz, DIR/manifest.json, DIR/captures.jsonl.\n\
                      Every config key is documented in config/default.toml.\n\n\
                      Examples:\n  warcrow crawl https://news.example/ --config config/default.toml --out crawls/news\n  \
                      warcrow crawl --job jobs/news https://news.example/ --config news.toml   (creates the job)\n  \
                      warcrow crawl --job jobs/news                                            (its next run)"
    )]
    Crawl {
        /// Seed URLs (http or https).
        urls: Vec<String>,
        /// Seed list file: one URL a line, '#' starts a comment. May be repeated.
        #[arg(long = "seeds", value_name = "FILE")]
        seeds: Vec<PathBuf>,
        /// TOML config (defaults: see config/default.toml).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Output folder [default: ./crawls/<crawl-id>/].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Also package the crawl as DIR/<crawl-name>.wacz (WACZ 1.1.1) when it ends.
        #[arg(long)]
        wacz: bool,
        /// Continue the crawl in DIR (interrupted, killed or stopped by a limit) instead of
        /// starting one. Seeds are the crawl's own; --config replaces its config.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["urls", "seeds", "out"])]
        resume: Option<PathBuf>,
        /// One run of the recurring crawl (job) in JOBDIR, into JOBDIR/runs/<crawl-id>/. The
        /// first run creates the job from the URLs/--seeds and --config given; later runs
        /// reuse them and store only what changed (see README, "Recurring crawls").
        #[arg(long, value_name = "JOBDIR", conflicts_with_all = ["out", "resume"])]
        job: Option<PathBuf>,
        /// The job's seed group to run (job.toml) [default: the job's only group].
        #[arg(long, value_name = "NAME", requires = "job")]
        group: Option<String>,
        /// No progress line on stderr.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run a job's seed groups on their cron schedules (JOBDIR/job.toml) until SIGTERM.
    #[command(
        after_help = "Each group's run is what `warcrow crawl --job JOBDIR --group NAME` does. A group\n\
                      due while its previous run is still going is skipped (logged, and counted in\n\
                      JOBDIR/schedule.json). After a restart, next times are computed from now:\n\
                      slots missed while the scheduler was stopped are not replayed.\n\
                      SIGTERM or Ctrl-C: no new runs; running ones stop gracefully; then exit 0.\n\n\
                      Example:\n  warcrow schedule jobs/news"
    )]
    Schedule {
        /// The job folder (made by a first `warcrow crawl --job JOBDIR URL...`).
        job_dir: PathBuf,
        /// Don't print a line for each run started, skipped and ended.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Serve the built-in demo news site on 127.0.0.1 and crawl it (no network needed).
    Demo {
        /// Output folder [default: ./crawls/<crawl-id>/].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// No progress line on stderr.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Write a sorted CDXJ index (as cdxj-indexer writes it) for WARC files.
    #[command(
        after_help = "Example:\n  warcrow index crawls/news/warc/*.warc.gz -o crawls/news/index.cdxj"
    )]
    Index {
        /// WARC files (.warc.gz with a gzip member per record, or .warc).
        #[arg(required = true)]
        warcs: Vec<PathBuf>,
        /// Output file [default: stdout].
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Package a crawl folder as one WACZ file (WACZ 1.1.1) for ReplayWeb.page and pywb.
    #[command(
        after_help = "Uses DIR/index.cdxj, which every crawl writes (for other WARCs make one with\n\
                      `warcrow index DIR/warc/*.warc.gz -o DIR/index.cdxj`).\n\n\
                      Example:\n  warcrow package crawls/news -o news.wacz"
    )]
    Package {
        /// The crawl folder (holds warc/, captures.jsonl, index.cdxj).
        crawl_dir: PathBuf,
        /// Output file, or folder for <crawl-name>.wacz [default: CRAWL_DIR/<crawl-name>.wacz].
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Extract articles with their comments from WARC, WACZ or crawl folders (extracted.jsonl).
    #[command(
        after_help = "One JSON line per article (schema: docs/extracted.md).\n\n\
                      Example:\n  warcrow extract crawls/news/warc/*.warc.gz -o articles.jsonl"
    )]
    Extract {
        /// WARC files, WACZ files or crawl folders (their warc/*.warc.gz); or one job folder
        /// (its comment history: every run's articles merged).
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// With a job folder: only what run CRAWL_ID found new (articles and comments no
        /// earlier run had).
        #[arg(long, value_name = "CRAWL_ID")]
        run: Option<String>,
        /// Output file [default: stdout].
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// The demo's config, built in so `warcrow demo` works from any folder.
const DEMO_CONFIG: &str = include_str!("../config/demo.toml");

/// Run a parsed command line; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Crawl {
            urls,
            seeds,
            config,
            out,
            wacz,
            resume,
            job,
            group,
            quiet,
        } => {
            if let Some(job_dir) = job {
                return crawl_job(
                    &job_dir,
                    group.as_deref(),
                    &urls,
                    &seeds,
                    config,
                    wacz,
                    quiet,
                )
                .await;
            }
            if let Some(dir) = resume {
                let config = config
                    .map(|path| Config::from_file(Some(&path)))
                    .transpose()?;
                let opts = CrawlOptions {
                    out_dir: dir,
                    crawl_id: String::new(),
                    progress: !quiet,
                };
                let summary = crawl::resume(config, opts).await?;
                print_summary(&summary, true);
                if wacz {
                    package_wacz(&summary)?;
                }
                return Ok(exit_code(&summary));
            }
            // Validate everything before starting; report every problem at once.
            let config_result = Config::from_file(config.as_deref());
            let seeds_result = crate::seeds::collect(&urls, &seeds);
            let (config, seeds) = match (config_result, seeds_result) {
                (Ok(c), Ok(s)) => (c, s),
                (c, s) => {
                    let mut msgs = Vec::new();
                    if let Err(e) = c {
                        msgs.push(e.to_string());
                    }
                    if let Err(e) = s {
                        msgs.push(e.to_string());
                    }
                    anyhow::bail!(msgs.join("\n"));
                }
            };
            let summary = crawl_to(config, seeds, out, quiet).await?;
            print_summary(&summary, true);
            if wacz {
                package_wacz(&summary)?;
            }
            Ok(exit_code(&summary))
        }
        Command::Schedule { job_dir, quiet } => {
            crate::job::schedule::schedule(&job_dir, !quiet).await?;
            Ok(0)
        }
        Command::Demo { out, quiet } => {
            let config = RawConfig::parse(DEMO_CONFIG, "config/demo.toml (built in)")?
                .validate("config/demo.toml (built in)")?;
            let site = crate::demo::DemoSite::start()
                .await
                .context("cannot start the demo site on 127.0.0.1")?;
            eprintln!("demo site serving at {}", site.url());
            let summary = crawl_to(config, vec![site.url()], out, quiet).await;
            site.shutdown().await;
            let summary = summary?;
            print_summary(&summary, true);
            package_wacz(&summary)?;
            say!(
                "\nCheck the WARCs with a tool we did not write, e.g.:\n  \
                 pip install warcio && warcio check {}",
                summary.out_dir.join("warc").join("*.warc.gz").display()
            );
            Ok(exit_code(&summary))
        }
        Command::Index { warcs, out } => {
            crate::index_cmd::run(&warcs, out.as_deref())?;
            Ok(0)
        }
        Command::Package { crawl_dir, out } => {
            let path = crate::archive::wacz::package(&crawl_dir, out.as_deref())?;
            say!("WACZ: {}", path.display());
            Ok(0)
        }
        Command::Extract { inputs, run, out } => {
            let n = match (run.as_deref(), inputs.as_slice()) {
                (Some(id), [job]) => crate::extract_cmd::run_job(job, Some(id), out.as_deref())?,
                (Some(_), _) => anyhow::bail!("--run takes exactly one input: the job folder"),
                (None, _) => crate::extract_cmd::run(&inputs, out.as_deref())?,
            };
            eprintln!("{n} articles");
            Ok(0)
        }
    }
}

/// `warcrow crawl --job`: one run of the job, then its summary.
async fn crawl_job(
    job_dir: &Path,
    group: Option<&str>,
    urls: &[String],
    seed_files: &[PathBuf],
    config: Option<PathBuf>,
    wacz: bool,
    quiet: bool,
) -> anyhow::Result<u8> {
    // No seeds at all is right for an existing job; run_once says when a new one needs them.
    let seeds = if urls.is_empty() && seed_files.is_empty() {
        Vec::new()
    } else {
        crate::seeds::collect(urls, seed_files)?
    };
    let outcome = run_once(job_dir, group, &seeds, config.as_deref(), !quiet).await?;
    let report = match outcome {
        RunOutcome::Ran(report) => report,
        RunOutcome::NothingToCrawl { group, why } => {
            say!(
                "job {}: group {group}: nothing to crawl, no run started: {why}",
                job_dir.display()
            );
            return Ok(0);
        }
    };
    let s = &report.summary;
    print_summary(s, false);
    let r = &report.record;
    let runs = crate::job::runs::read_runs(job_dir).len();
    say!(
        "  job:      {}{}: group {}, run {runs} of the job, in {}",
        job_dir.display(),
        if report.created { " (created)" } else { "" },
        r.group,
        report.run_dir.display()
    );
    say!(
        "  revisits: {} identical to an earlier capture, {} not modified (304)",
        r.revisits.identical_payload,
        r.revisits.not_modified
    );
    say!(
        "  job index: {} (every run), runs: {}",
        job_dir.join(crate::job::runs::INDEX_FILE).display(),
        job_dir.join(crate::job::runs::RUNS_FILE).display()
    );
    if s.exit_reason != "finished" {
        say!(
            "  the job's next run starts afresh (this one is listed as {})",
            s.exit_reason
        );
    }
    if wacz {
        package_wacz(s)?;
    }
    Ok(exit_code(s))
}

async fn crawl_to(
    config: Config,
    seeds: Vec<url::Url>,
    out: Option<PathBuf>,
    quiet: bool,
) -> anyhow::Result<CrawlSummary> {
    let crawl_id = crawl::new_crawl_id();
    let out_dir = out.unwrap_or_else(|| Path::new("crawls").join(&crawl_id));
    let opts = CrawlOptions {
        out_dir,
        crawl_id,
        progress: !quiet,
    };
    Ok(crawl::run(config, seeds, opts).await?)
}

/// Package a finished crawl as a WACZ next to its files.
fn package_wacz(summary: &CrawlSummary) -> anyhow::Result<()> {
    let path = crate::archive::wacz::package(&summary.out_dir, None)
        .context("the crawl is complete, but packaging it as WACZ failed")?;
    say!("  WACZ:     {} (open it in ReplayWeb.page)", path.display());
    Ok(())
}

fn exit_code(summary: &CrawlSummary) -> u8 {
    // 130 is the shell's convention for "stopped by Ctrl-C".
    if summary.exit_reason == "interrupted" {
        130
    } else {
        0
    }
}

/// `resume_hint`: say how to continue a crawl that did not finish (not for a job's runs,
/// which the job's next run replaces).
fn print_summary(s: &CrawlSummary, resume_hint: bool) {
    let warc_bytes: u64 = s.warc_files.iter().map(|f| f.size).sum();
    let c = &s.counts;
    let off_scope = c.rejected.get("off_scope").copied().unwrap_or(0);
    say!(
        "crawl {} {} in {:.1} s",
        s.crawl_id,
        s.exit_reason,
        s.elapsed.as_secs_f64()
    );
    say!(
        "  captured: {} responses ({})",
        c.pages,
        crawl::status_summary(&c.by_status)
    );
    say!(
        "  problems: {} (see manifest.json \"failures\"); off-scope links not fetched: {}",
        s.failures,
        off_scope
    );
    say!(
        "  WARC:     {} file(s), {:.1} MB in {}",
        s.warc_files.len(),
        warc_bytes as f64 / 1e6,
        s.out_dir.join("warc").display()
    );
    say!("  manifest: {}", s.out_dir.join("manifest.json").display());
    say!("  captures: {}", s.out_dir.join("captures.jsonl").display());
    if resume_hint && s.exit_reason != "finished" {
        say!(
            "  continue it with: warcrow crawl --resume {}",
            s.out_dir.display()
        );
    }
}
