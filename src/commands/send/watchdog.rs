//! A thread beside `send`'s publishing loop: it reports the broker's flow-control notices
//! (memory or disk alarm) as they come, and enforces `--timeout` (and a Ctrl-C) even while
//! the publishing thread is stuck inside a publish.
//!
//! Why: while RabbitMQ blocks publishers it stops reading from their sockets. Once the
//! kernel's buffers and amiquip's write buffer are full, `basic_publish` blocks (a large
//! message, or `--no-confirm`, gets there at once), and the loop that checks the deadline
//! between publishes never runs again. Past the deadline this thread prints the summary and
//! the error, and ends the process with the error's exit code without waiting on any close.

use super::summary::{Stats, print_summary};
use crate::amqp::{BlockedListener, BlockedNotice, PublishMeter};
use crate::error::Error;
use crate::{log, signals};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

const TICK: Duration = Duration::from_millis(100);
/// After a Ctrl-C/SIGTERM, how long a stuck publish may go on before the process exits
/// (the publishing thread itself waits up to 5 s for the last confirms).
const STOP_GRACE: Duration = Duration::from_secs(7);

/// What the watchdog knows of the run.
pub(super) struct Watch {
    timeout: Option<Duration>,
    target: String,
    confirm: bool,
    json: bool,
    started: Instant,
    /// The publishers' meter (one for the run, across reconnects).
    meter: PublishMeter,
    claimed: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    stats: Stats,
    /// [`PublishMeter::published`] when `stats` was taken.
    published_at: u64,
    pending: usize,
    listener: Option<BlockedListener>,
    /// The broker's reason while it blocks publishing.
    blocked: Option<String>,
}

impl Watch {
    /// Start the thread.
    pub(super) fn start(
        timeout: Option<f64>,
        target: String,
        confirm: bool,
        json: bool,
        listener: Option<BlockedListener>,
        meter: PublishMeter,
    ) -> Arc<Watch> {
        let w = Arc::new(Watch {
            timeout: timeout.map(Duration::from_secs_f64),
            target,
            confirm,
            json,
            started: Instant::now(),
            meter,
            claimed: AtomicBool::new(false),
            state: Mutex::new(State {
                listener,
                ..State::default()
            }),
        });
        let w2 = w.clone();
        let spawned = std::thread::Builder::new()
            .name("rmq-watchdog".into())
            .spawn(move || w2.run());
        if let Err(e) = spawned {
            log::debug(&format!("no watchdog thread: {e}"));
        }
        w
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The publishing thread's latest counts.
    pub(super) fn update(&self, stats: &Stats, pending: usize) {
        let mut s = self.state();
        s.stats = stats.clone();
        s.pending = pending;
        s.published_at = self.meter.published();
    }

    /// The meter that every publisher of the run counts on.
    pub(super) fn meter(&self) -> &PublishMeter {
        &self.meter
    }

    /// Listen to a new connection's notices (after a reconnect).
    pub(super) fn follow(&self, listener: Option<BlockedListener>) {
        let mut s = self.state();
        s.listener = listener;
        s.blocked = None;
    }

    /// The broker's reason, while it blocks publishing.
    pub(super) fn blocked(&self) -> Option<String> {
        self.state().blocked.clone()
    }

    /// The publishing thread reports the outcome from here on; false when the watchdog
    /// already does (the process is about to exit).
    pub(super) fn claim(&self) -> bool {
        !self.claimed.swap(true, Ordering::SeqCst)
    }

    /// Stop here for good: the watchdog is reporting and ends the process.
    pub(super) fn park_forever() -> ! {
        loop {
            std::thread::park();
        }
    }

    fn run(&self) {
        let mut stop_seen: Option<Instant> = None;
        loop {
            std::thread::sleep(TICK);
            if self.claimed.load(Ordering::SeqCst) {
                return;
            }
            self.notices();
            let stuck = self.meter.stuck_for();
            if let (Some(t), Some(s)) = (self.timeout, stuck)
                && s > t
            {
                let why = match self.blocked() {
                    Some(reason) => format!("broker blocked publishing: {}", alarm(&reason)),
                    None => "the broker took no more data on the connection".to_string(),
                };
                self.fire(Error::Timeout(format!(
                    "{why} for {} s{}",
                    t.as_secs_f64(),
                    self.unconfirmed()
                )));
            }
            if signals::stop_requested() {
                let since = *stop_seen.get_or_insert_with(Instant::now);
                if since.elapsed() > STOP_GRACE && stuck.is_some() {
                    self.fire(Error::Interrupted(format!(
                        "stopped while the broker took no more messages{}",
                        self.unconfirmed()
                    )));
                }
            }
        }
    }

    fn unconfirmed(&self) -> String {
        let n = self.state().pending;
        if self.confirm && n > 0 {
            format!("; {n} message(s) unconfirmed")
        } else {
            String::new()
        }
    }

    fn notices(&self) {
        let mut s = self.state();
        let Some(notice) = s.listener.as_ref().and_then(BlockedListener::poll) else {
            return;
        };
        match notice {
            BlockedNotice::Blocked(reason) => {
                if s.blocked.is_none() {
                    log::warn(&format!(
                        "broker blocked publishing: {} (the broker says '{reason}'); waiting \
                         for it to clear (--timeout bounds the wait)",
                        alarm(&reason)
                    ));
                }
                s.blocked = Some(reason);
            }
            BlockedNotice::Unblocked => {
                if s.blocked.take().is_some() {
                    log::note("broker unblocked publishing");
                }
            }
        }
    }

    /// Report (summary, then the error) and end the process, unless the publishing thread
    /// has already claimed the report.
    fn fire(&self, e: Error) {
        if !self.claim() {
            return;
        }
        let mut stats = {
            let s = self.state();
            let mut st = s.stats.clone();
            st.sent += self.meter.published().saturating_sub(s.published_at);
            st
        };
        if !self.confirm {
            stats.confirmed = 0;
        }
        print_summary(
            &stats,
            &self.target,
            self.confirm,
            self.started.elapsed().as_secs_f64(),
            self.json,
        );
        let code = crate::report(&e);
        // No destructors: closing a connection to a broker that reads nothing would hang.
        std::process::exit(i32::from(code));
    }
}

/// "low on memory" → "memory alarm" (RabbitMQ's reasons for connection.blocked).
pub(super) fn alarm(reason: &str) -> String {
    let r = reason.to_ascii_lowercase();
    if r.contains("memory") {
        "memory alarm".into()
    } else if r.contains("disk") {
        "disk alarm".into()
    } else {
        reason.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::alarm;

    #[test]
    fn alarm_names_the_resource() {
        assert_eq!(alarm("low on memory"), "memory alarm");
        assert_eq!(alarm("low on disk"), "disk alarm");
        assert_eq!(alarm("other"), "other");
    }
}
