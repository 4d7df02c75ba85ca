//! The progress line on stderr (indicatif), hidden when stderr is not a terminal.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
    started: Instant,
}

impl Progress {
    pub fn new(enabled: bool) -> Progress {
        // indicatif itself stays quiet when stderr is not a terminal.
        let target = if enabled {
            ProgressDrawTarget::stderr_with_hz(4)
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress {
            bar,
            started: Instant::now(),
        }
    }

    pub fn update(&self, pages: u64, queued: usize, in_flight: usize, errors: u64) {
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        self.bar.set_message(format!(
            "{pages} pages, {queued} queued, {in_flight} in flight, {errors} errors, {:.1} pages/s",
            pages as f64 / secs
        ));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
