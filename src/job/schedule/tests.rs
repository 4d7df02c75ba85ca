use std::sync::{Arc, Mutex};

use chrono::TimeZone;

use super::*;

fn spec(text: &str) -> JobSpec {
    JobSpec::parse(text, "job.toml").unwrap()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

const NEWS: &str = r#"
timezone = "Europe/Berlin"
[[group]]
name = "front"
cron = "*/15 * * * *"
[[group]]
name = "articles"
cron = "0 3 * * *"
[[group]]
name = "comments"
cron = "0 */6 * * *"
seeds = "recent_articles"
[[group]]
name = "by-hand"
"#;

/// Every (group, due time) the plan yields from `from` up to and including `until`.
fn walk(
    plan: &mut Plan,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<(String, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut now = from;
    loop {
        let (due, wake) = plan.due(now);
        out.extend(due.into_iter().map(|g| (g, now)));
        match wake {
            Some(w) if w <= until => now = w,
            _ => return out,
        }
    }
}

fn times<'a>(runs: &'a [(String, DateTime<Utc>)], group: &'a str) -> Vec<DateTime<Utc>> {
    runs.iter()
        .filter(|(g, _)| g == group)
        .map(|(_, t)| *t)
        .collect()
}

#[test]
fn a_day_of_due_times_in_the_jobs_time_zone() {
    // 15 January: Berlin is UTC+1.
    let start = utc(2026, 1, 15, 0, 0);
    let mut plan = Plan::new(&spec(NEWS), &ScheduleState::new(), start);
    let runs = walk(&mut plan, start, start + chrono::Duration::days(1));
    let front = times(&runs, "front");
    assert_eq!(
        front.len(),
        96,
        "every 15 minutes, strictly after the start"
    );
    assert_eq!(front[0], utc(2026, 1, 15, 0, 15));
    assert!(
        front
            .windows(2)
            .all(|w| w[1] - w[0] == chrono::Duration::minutes(15))
    );
    assert_eq!(
        times(&runs, "articles"),
        [utc(2026, 1, 15, 2, 0)],
        "03:00 Berlin"
    );
    assert_eq!(
        times(&runs, "comments"),
        [
            utc(2026, 1, 15, 5, 0),
            utc(2026, 1, 15, 11, 0),
            utc(2026, 1, 15, 17, 0),
            utc(2026, 1, 15, 23, 0),
        ],
        "00, 06, 12, 18 o'clock Berlin"
    );
    assert!(
        times(&runs, "by-hand").is_empty(),
        "no cron: never scheduled"
    );
    // In summer Berlin is UTC+2.
    let july = utc(2026, 7, 1, 0, 0);
    let mut plan = Plan::new(&spec(NEWS), &ScheduleState::new(), july);
    assert_eq!(plan.next_of("articles"), Some(utc(2026, 7, 1, 1, 0)));
    // A loop that wakes late (machine asleep) runs a group once, not once per missed slot.
    let (due, _) = plan.due(utc(2026, 7, 1, 2, 7));
    assert_eq!(due, ["front", "articles"]);
    assert_eq!(plan.next_of("front"), Some(utc(2026, 7, 1, 2, 15)));
}

#[test]
fn after_a_restart_next_times_come_from_now_and_the_last_start() {
    let s = spec(NEWS);
    let now = utc(2026, 1, 15, 10, 7);
    let mut state = ScheduleState::new();
    // Down since 09:45: the 10:00 slot is not replayed.
    state.insert(
        "front".into(),
        GroupState {
            last_start: Some(utc(2026, 1, 15, 9, 45)),
            ..Default::default()
        },
    );
    // Started at 11:00 by a clock that has since gone back to 10:07: not again at 11:00.
    state.insert(
        "comments".into(),
        GroupState {
            last_start: Some(utc(2026, 1, 15, 11, 0)),
            ..Default::default()
        },
    );
    let plan = Plan::new(&s, &state, now);
    assert_eq!(plan.next_of("front"), Some(utc(2026, 1, 15, 10, 15)));
    assert_eq!(plan.next_of("comments"), Some(utc(2026, 1, 15, 17, 0)));
    assert_eq!(plan.next_of("articles"), Some(utc(2026, 1, 16, 2, 0)));
    assert_eq!(plan.next_wake(), Some(utc(2026, 1, 15, 10, 15)));
}

#[test]
fn schedule_json_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(load_state(dir.path()).unwrap(), ScheduleState::new());
    let mut state = ScheduleState::new();
    state.insert(
        "front".into(),
        GroupState {
            last_start: Some(utc(2026, 1, 15, 10, 0)),
            last_end: None,
            skipped: 3,
        },
    );
    save_state(dir.path(), &state).unwrap();
    assert_eq!(load_state(dir.path()).unwrap(), state);
    let text = std::fs::read_to_string(dir.path().join(STATE_FILE)).unwrap();
    assert!(
        text.contains("\"last_start\": \"2026-01-15T10:00:00Z\""),
        "{text}"
    );
    std::fs::write(dir.path().join(STATE_FILE), "{").unwrap();
    let err = load_state(dir.path()).unwrap_err().to_string();
    assert!(err.contains("delete the file"), "{err}");
}

/// Wall time that moves with tokio's (paused) clock.
struct PausedClock {
    wall: DateTime<Utc>,
    at: tokio::time::Instant,
}

impl PausedClock {
    fn starting(wall: DateTime<Utc>) -> PausedClock {
        PausedClock {
            wall,
            at: tokio::time::Instant::now(),
        }
    }
}

impl Clock for PausedClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now() - self.at;
        self.wall + chrono::Duration::from_std(elapsed).unwrap()
    }
}

type Starts = Arc<Mutex<Vec<(String, DateTime<Utc>, DateTime<Utc>)>>>;

/// A starter whose runs take `minutes(group)` of (paused) time and record (group, start, end).
fn fake_runs(
    wall: DateTime<Utc>,
    minutes: fn(&str) -> u64,
) -> (impl FnMut(String) -> RunFuture, Starts) {
    let starts: Starts = Arc::default();
    let log = starts.clone();
    let t0 = tokio::time::Instant::now();
    let clock =
        move || wall + chrono::Duration::from_std(tokio::time::Instant::now() - t0).unwrap();
    let start = move |group: String| -> RunFuture {
        let log = log.clone();
        Box::pin(async move {
            let begin = clock();
            tokio::time::sleep(Duration::from_secs(60 * minutes(&group))).await;
            log.lock().unwrap().push((group, begin, clock()));
            RunEnd::Ran {
                exit_reason: "finished".into(),
                pages: 1,
            }
        })
    };
    (start, starts)
}

/// Log lines written while a test runs (tests with a paused clock run on one thread).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const OVERLAP: &str = r#"
timezone = "Europe/Berlin"
[[group]]
name = "front"
cron = "*/15 * * * *"
[[group]]
name = "articles"
cron = "0 3 * * *"
[[group]]
name = "slow"
cron = "*/15 * * * *"
"#;

fn run_minutes(group: &str) -> u64 {
    match group {
        "slow" => 20, // longer than its 15-minute period
        "articles" => 10,
        _ => 1,
    }
}

#[tokio::test(start_paused = true)]
async fn a_day_of_runs_with_an_overlapping_group_skipped_and_logged() {
    let logs = Captured::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 1, 15, 0, 0);
    let (starter, starts) = fake_runs(start, run_minutes);
    let scheduler = Scheduler::new(
        dir.path(),
        &spec(OVERLAP),
        ScheduleState::new(),
        PausedClock::starting(start),
        starter,
        false,
    );
    // Stop at 23:50: the slow run started at 23:45 is still going and is waited for.
    let state = scheduler
        .run(tokio::time::sleep(Duration::from_secs((23 * 60 + 50) * 60)))
        .await;
    let starts = starts.lock().unwrap().clone();
    let of = |group: &str| -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        starts
            .iter()
            .filter(|(g, ..)| g == group)
            .map(|(_, b, e)| (*b, *e))
            .collect()
    };
    // 00:15 .. 23:45: 95 slots.
    let front = of("front");
    assert_eq!(front.len(), 95);
    assert!(front.iter().all(|(b, _)| b.timestamp() % (15 * 60) == 0));
    assert_eq!(
        of("articles"),
        [(utc(2026, 1, 15, 2, 0), utc(2026, 1, 15, 2, 10))]
    );
    // slow: every other slot starts (00:15, 00:45, ... 23:45); the ones between are skipped.
    let slow = of("slow");
    assert_eq!(slow.len(), 48);
    assert_eq!(slow[0].0, utc(2026, 1, 15, 0, 15));
    assert!(
        slow.windows(2).all(|w| w[1].0 >= w[0].1),
        "two runs of slow overlapped"
    );
    assert_eq!(
        slow.last().map(|r| r.1),
        Some(utc(2026, 1, 16, 0, 5)),
        "waited for"
    );
    assert_eq!(state["slow"].skipped, 47);
    assert_eq!(state["front"].skipped, 0);
    assert_eq!(state["slow"].last_start, Some(utc(2026, 1, 15, 23, 45)));
    assert_eq!(state["slow"].last_end, Some(utc(2026, 1, 16, 0, 5)));
    assert_eq!(
        load_state(dir.path()).unwrap(),
        state,
        "schedule.json is kept up to date"
    );
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let skipped: Vec<&str> = text.lines().filter(|l| l.contains("skipped")).collect();
    assert_eq!(skipped.len(), 47, "{text}");
    assert!(
        skipped
            .iter()
            .all(|l| l.contains("WARN") && l.contains("slow")),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_restarted_scheduler_continues_from_schedule_json() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 1, 15, 0, 0);
    let hour = Duration::from_secs(3600);
    let (starter, _) = fake_runs(start, run_minutes);
    let first = Scheduler::new(
        dir.path(),
        &spec(OVERLAP),
        ScheduleState::new(),
        PausedClock::starting(start),
        starter,
        false,
    );
    // 00:00 to 01:05: slow starts at 00:15 and 00:45, skips 00:30 and 01:00.
    first
        .run(tokio::time::sleep(hour + Duration::from_secs(300)))
        .await;
    let saved = load_state(dir.path()).unwrap();
    assert_eq!(saved["slow"].skipped, 2);
    assert_eq!(saved["slow"].last_start, Some(utc(2026, 1, 15, 0, 45)));

    // Down for 50 minutes (the 01:15, 01:30 and 01:45 slots are not replayed), then
    // restarted at 01:55 from the saved state.
    tokio::time::advance(Duration::from_secs(50 * 60)).await;
    let restart = utc(2026, 1, 15, 1, 55);
    let (starter, starts) = fake_runs(restart, run_minutes);
    let second = Scheduler::new(
        dir.path(),
        &spec(OVERLAP),
        saved,
        PausedClock::starting(restart),
        starter,
        false,
    );
    assert_eq!(second.plan().next_of("slow"), Some(utc(2026, 1, 15, 2, 0)));
    let state = second.run(tokio::time::sleep(hour)).await;
    let starts = starts.lock().unwrap().clone();
    let slow: Vec<DateTime<Utc>> = starts
        .iter()
        .filter(|(g, ..)| g == "slow")
        .map(|(_, b, _)| *b)
        .collect();
    assert_eq!(slow, [utc(2026, 1, 15, 2, 0), utc(2026, 1, 15, 2, 30)]);
    // 02:15 and 02:45 skipped, on top of the first scheduler's two.
    assert_eq!(state["slow"].skipped, 4);
}

#[tokio::test]
async fn schedule_refuses_what_it_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let err = schedule(dir.path(), false).await.unwrap_err().to_string();
    assert!(err.contains("is not a job"), "{err}");
    std::fs::write(dir.path().join(CONFIG_FILE), "").unwrap();
    let err = schedule(dir.path(), false).await.unwrap_err().to_string();
    assert!(err.contains("no group has a `cron`"), "{err}");
    std::fs::write(
        dir.path().join("job.toml"),
        "[[group]]\nname = \"f\"\ncron = \"0 3 * * *\"\n",
    )
    .unwrap();
    let _held = JobLock::try_acquire(&dir.path().join(SCHEDULER_LOCK)).unwrap();
    let err = schedule(dir.path(), false).await.unwrap_err().to_string();
    assert!(
        err.contains("another `warcrow schedule` runs this job"),
        "{err}"
    );
}
