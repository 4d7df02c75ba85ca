//! Stop requests from outside: Ctrl-C (SIGINT) and SIGTERM (what systemd, cron wrappers and
//! `kill` send). The crawl loop waits on [`StopSignals::next`] beside its workers; what a stop
//! does (finish in-flight fetches, or abandon them on the second signal) is the loop's call.

pub struct StopSignals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    pub fn new() -> StopSignals {
        StopSignals {
            // Without a SIGTERM handler (it cannot be installed), Ctrl-C still works.
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok(),
        }
    }

    /// Resolves at the next SIGINT or SIGTERM.
    pub async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(term) = self.term.as_mut() {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
