//! `warcrow schedule JOBDIR`: a long-lived process that starts each group's runs when its cron
//! expression (job.toml, in the job's time zone) says so.
//!
//! Rules:
//! * A group's next run is the first time its cron expression matches strictly after
//!   max(now, its last start in schedule.json). So after a restart, or when the machine was
//!   asleep, the next times are computed from now: a slot missed while the scheduler was not
//!   running is **not** replayed. (A group is due at most once per wake-up however many slots
//!   it missed.)
//! * Never two runs of one group at once: a group due while its previous run is still going
//!   is **skipped** (not queued): a `tracing` warning, and `skipped` counted in
//!   schedule.json. A run that finds the group's lock held by another process (a cron line,
//!   a person's `crawl --job`) counts as skipped too. Different groups run side by side.
//! * SIGTERM or Ctrl-C: no new run starts; running runs stop as a crawl does on that signal
//!   (each crawl listens for it too: it finishes its in-flight fetches, a second signal
//!   abandons them), are recorded in runs.jsonl, and then the scheduler exits.
//! * job.toml is read once at start: restart the scheduler after editing it.
//! * One scheduler per job (`.lock-schedule`).
//!
//! `JOBDIR/schedule.json`, rewritten atomically after every change:
//!
//! ```json
//! {"front": {"last_start": "2026-01-01T03:15:00Z", "last_end": "2026-01-01T03:15:41.2Z",
//!            "skipped": 0}}
//! ```
//!
//! The core is pure and takes the time as an argument ([`Plan`]); the loop
//! ([`Scheduler::run`]) takes a [`Clock`] and sleeps with `tokio::time`, so tests drive a
//! whole day with a paused clock.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use super::lock::{JobLock, LockError};
use super::run::{CONFIG_FILE, JobError, RunOutcome, run_once};
use super::spec::{JobSpec, SpecError};

pub const STATE_FILE: &str = "schedule.json";
const SCHEDULER_LOCK: &str = ".lock-schedule";
/// The longest the loop sleeps at once: a wall clock that jumps (NTP, suspend) is noticed
/// within this, since the sleep itself runs on the monotonic clock.
const MAX_NAP: Duration = Duration::from_secs(60);

/// What schedule.json keeps of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupState {
    pub last_start: Option<DateTime<Utc>>,
    pub last_end: Option<DateTime<Utc>>,
    /// Due times skipped because a run of the group was still going.
    #[serde(default)]
    pub skipped: u64,
}

/// schedule.json: by group name.
pub type ScheduleState = BTreeMap<String, GroupState>;

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "{} is not a job (no {CONFIG_FILE}): create it with one run, `warcrow crawl --job {} \
         URL...`, then schedule it",
        .0.display(), .0.display()
    )]
    NotAJob(PathBuf),
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(
        "{}: no group has a `cron` expression, so there is nothing to schedule; add e.g. \
         cron = \"0 3 * * *\" to a [[group]]",
        .0.display()
    )]
    NothingScheduled(PathBuf),
    #[error("another `warcrow schedule` runs this job: {0}")]
    Busy(LockError),
    #[error(transparent)]
    Lock(LockError),
    #[error("{}: {message} (delete the file to start with an empty state)", .path.display())]
    State { path: PathBuf, message: String },
}

/// Read schedule.json; an absent file is an empty state.
pub fn load_state(job_dir: &Path) -> Result<ScheduleState, ScheduleError> {
    let path = job_dir.join(STATE_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| ScheduleError::State {
            path,
            message: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ScheduleState::new()),
        Err(e) => Err(ScheduleError::State {
            path,
            message: e.to_string(),
        }),
    }
}

/// Write schedule.json atomically (temp file, rename).
pub fn save_state(job_dir: &Path, state: &ScheduleState) -> std::io::Result<()> {
    let path = job_dir.join(STATE_FILE);
    let tmp = job_dir.join(format!("{STATE_FILE}.tmp"));
    let mut text = serde_json::to_vec_pretty(state)?;
    text.push(b'\n');
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path)
}

/// When each scheduled group is due next: the pure core of the scheduler.
#[derive(Debug, Clone)]
pub struct Plan {
    tz: Tz,
    groups: Vec<Planned>,
}

#[derive(Debug, Clone)]
struct Planned {
    name: String,
    cron: Cron,
    /// None: the expression never matches again.
    next: Option<DateTime<Utc>>,
}

/// The first time `cron` matches in `tz` strictly after `after`.
fn next_after(cron: &Cron, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&after.with_timezone(&tz), false)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl Plan {
    /// The groups of `spec` that have a cron expression, each due at its first time after
    /// max(`now`, its last start).
    pub fn new(spec: &JobSpec, state: &ScheduleState, now: DateTime<Utc>) -> Plan {
        let groups = spec
            .groups
            .iter()
            .filter_map(|g| {
                let cron = g.cron.clone()?;
                let last = state.get(&g.name).and_then(|s| s.last_start);
                let from = last.map_or(now, |last| last.max(now));
                Some(Planned {
                    next: next_after(&cron, spec.timezone, from),
                    name: g.name.clone(),
                    cron,
                })
            })
            .collect();
        Plan {
            tz: spec.timezone,
            groups,
        }
    }

    /// The groups due at `now` (in job.toml order), each moved on to its first time after
    /// `now`; and when the next one is due.
    pub fn due(&mut self, now: DateTime<Utc>) -> (Vec<String>, Option<DateTime<Utc>>) {
        let mut due = Vec::new();
        for g in &mut self.groups {
            if g.next.is_some_and(|next| next <= now) {
                due.push(g.name.clone());
                g.next = next_after(&g.cron, self.tz, now);
            }
        }
        (due, self.next_wake())
    }

    /// When the next group is due.
    pub fn next_wake(&self) -> Option<DateTime<Utc>> {
        self.groups.iter().filter_map(|g| g.next).min()
    }

    /// When `group` is due next.
    pub fn next_of(&self, group: &str) -> Option<DateTime<Utc>> {
        self.groups.iter().find(|g| g.name == group)?.next
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }
}

/// How a run the scheduler started ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    Ran {
        exit_reason: String,
        pages: u64,
    },
    NothingToCrawl(String),
    /// Another process runs the group.
    Busy(String),
    Failed(String),
}

impl From<Result<RunOutcome, JobError>> for RunEnd {
    fn from(result: Result<RunOutcome, JobError>) -> RunEnd {
        match result {
            Ok(RunOutcome::Ran(r)) => RunEnd::Ran {
                exit_reason: r.record.exit_reason,
                pages: r.record.pages,
            },
            Ok(RunOutcome::NothingToCrawl { why, .. }) => RunEnd::NothingToCrawl(why),
            Err(e) if e.is_busy() => RunEnd::Busy(e.to_string()),
            Err(e) => RunEnd::Failed(e.to_string()),
        }
    }
}

/// What the scheduler does, as it happens: [`Event::emit`] logs it, prints it (unless
/// quiet) and counts it in the state.
#[derive(Debug)]
enum Event<'a> {
    Started {
        group: &'a str,
    },
    /// Due while its previous run is still going.
    Skipped {
        group: &'a str,
    },
    Ended {
        group: &'a str,
        end: &'a RunEnd,
    },
}

impl Event<'_> {
    fn emit(&self, at: DateTime<Utc>, tz: Tz, state: &mut ScheduleState, print: bool) {
        let when = at.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %Z");
        let (group, line) = match self {
            Event::Started { group } => {
                state.entry(group.to_string()).or_default().last_start = Some(at);
                tracing::info!(group, "run started");
                (group, "run started".to_string())
            }
            Event::Skipped { group } => {
                state.entry(group.to_string()).or_default().skipped += 1;
                tracing::warn!(
                    group,
                    "due while its previous run is still running: skipped"
                );
                (
                    group,
                    "due while its previous run is still running: skipped".into(),
                )
            }
            Event::Ended { group, end } => {
                let s = state.entry(group.to_string()).or_default();
                let line = match end {
                    RunEnd::Ran { exit_reason, pages } => {
                        s.last_end = Some(at);
                        tracing::info!(group, exit_reason, pages, "run ended");
                        format!("run ended: {exit_reason}, {pages} pages")
                    }
                    RunEnd::NothingToCrawl(why) => {
                        s.last_end = Some(at);
                        tracing::info!(group, "nothing to crawl: {why}");
                        format!("nothing to crawl: {why}")
                    }
                    RunEnd::Busy(why) => {
                        s.skipped += 1;
                        tracing::warn!(group, "skipped: {why}");
                        format!("skipped: {why}")
                    }
                    RunEnd::Failed(why) => {
                        s.last_end = Some(at);
                        tracing::error!(group, "run failed: {why}");
                        format!("run failed: {why}")
                    }
                };
                (group, line)
            }
        };
        if print {
            say(&format!("{when}  {group}: {line}"));
        }
    }
}

/// A line on stdout, ignoring a closed pipe (`warcrow schedule | head` must not panic).
fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// The wall clock, as the scheduler reads it.
pub trait Clock: Send {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A started run: what the scheduler waits on.
pub type RunFuture = Pin<Box<dyn Future<Output = RunEnd> + Send>>;

/// The scheduler's loop, with its clock and its way of starting a group's run injected.
pub struct Scheduler<C, S> {
    job_dir: PathBuf,
    plan: Plan,
    state: ScheduleState,
    clock: C,
    start: S,
    print: bool,
}

impl<C: Clock, S: FnMut(String) -> RunFuture> Scheduler<C, S> {
    pub fn new(
        job_dir: &Path,
        spec: &JobSpec,
        state: ScheduleState,
        clock: C,
        start: S,
        print: bool,
    ) -> Self {
        let plan = Plan::new(spec, &state, clock.now());
        Scheduler {
            job_dir: job_dir.to_path_buf(),
            plan,
            state,
            clock,
            start,
            print,
        }
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    fn save(&self) {
        if let Err(e) = save_state(&self.job_dir, &self.state) {
            tracing::warn!(
                "cannot write {}: {e}",
                self.job_dir.join(STATE_FILE).display()
            );
        }
    }

    /// Start runs as they fall due until `stop` resolves; then wait for the running ones.
    /// Returns the state as last saved.
    pub async fn run(mut self, stop: impl Future<Output = ()>) -> ScheduleState {
        let tz = self.plan.timezone();
        let mut running: JoinSet<RunEnd> = JoinSet::new();
        // The group of each run going: the rule "never two runs of one group" lives here.
        let mut busy: HashMap<tokio::task::Id, String> = HashMap::new();
        let mut stop = std::pin::pin!(stop);
        loop {
            let now = self.clock.now();
            let (due, wake) = self.plan.due(now);
            for group in &due {
                if busy.values().any(|g| g == group) {
                    Event::Skipped { group }.emit(now, tz, &mut self.state, self.print);
                    continue;
                }
                Event::Started { group }.emit(now, tz, &mut self.state, self.print);
                let task = running.spawn((self.start)(group.clone()));
                busy.insert(task.id(), group.clone());
            }
            if !due.is_empty() {
                self.save();
            }
            let nap = wake
                .and_then(|w| (w - now).to_std().ok())
                .unwrap_or(MAX_NAP)
                .min(MAX_NAP);
            tokio::select! {
                biased;
                _ = &mut stop => break,
                Some(joined) = running.join_next_with_id(), if !running.is_empty() => {
                    self.ended(joined, &mut busy);
                }
                _ = tokio::time::sleep(nap) => {}
            }
        }
        if !running.is_empty() {
            tracing::info!("stopping: waiting for {} running run(s)", running.len());
            if self.print {
                say(&format!(
                    "stopping: no new runs; waiting for {} running run(s) to stop",
                    running.len()
                ));
            }
        }
        while let Some(joined) = running.join_next_with_id().await {
            self.ended(joined, &mut busy);
        }
        self.state
    }

    fn ended(
        &mut self,
        joined: Result<(tokio::task::Id, RunEnd), tokio::task::JoinError>,
        busy: &mut HashMap<tokio::task::Id, String>,
    ) {
        let (id, end) = match joined {
            Ok(pair) => pair,
            Err(e) => (e.id(), RunEnd::Failed(format!("the run panicked: {e}"))),
        };
        let Some(group) = busy.remove(&id) else {
            return;
        };
        let at = self.clock.now();
        Event::Ended {
            group: &group,
            end: &end,
        }
        .emit(at, self.plan.timezone(), &mut self.state, self.print);
        self.save();
    }
}

/// Resolves at the first SIGINT or SIGTERM. The handlers are installed when this is called,
/// before any run starts, so no signal slips by.
fn stop_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `warcrow schedule JOBDIR`: run the job's scheduled groups until SIGTERM or Ctrl-C.
pub async fn schedule(job_dir: &Path, print: bool) -> Result<ScheduleState, ScheduleError> {
    if !job_dir.join(CONFIG_FILE).exists() {
        return Err(ScheduleError::NotAJob(job_dir.to_path_buf()));
    }
    let spec = JobSpec::load(job_dir)?;
    if spec.groups.iter().all(|g| g.cron.is_none()) {
        return Err(ScheduleError::NothingScheduled(job_dir.to_path_buf()));
    }
    let _lock = JobLock::try_acquire(&job_dir.join(SCHEDULER_LOCK)).map_err(|e| match e {
        LockError::Busy { .. } => ScheduleError::Busy(e),
        e => ScheduleError::Lock(e),
    })?;
    let state = load_state(job_dir)?;
    let stop = stop_signal();
    let job = job_dir.to_path_buf();
    let start = move |group: String| -> RunFuture {
        let job = job.clone();
        Box::pin(async move { run_once(&job, Some(&group), &[], None, false).await.into() })
    };
    let scheduler = Scheduler::new(job_dir, &spec, state, SystemClock, start, print);
    if print {
        let tz = spec.timezone;
        for g in &spec.groups {
            let line = match (g.cron_text(), scheduler.plan().next_of(&g.name)) {
                (Some(cron), Some(next)) => format!(
                    "{}: \"{cron}\" ({tz}), next run {}",
                    g.name,
                    next.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %Z")
                ),
                (Some(cron), None) => format!("{}: \"{cron}\" never matches again", g.name),
                (None, _) => format!(
                    "{}: no cron; runs only with `warcrow crawl --job {} --group {}`",
                    g.name,
                    job_dir.display(),
                    g.name
                ),
            };
            say(&line);
        }
    }
    Ok(scheduler.run(stop).await)
}

#[cfg(test)]
mod tests;
