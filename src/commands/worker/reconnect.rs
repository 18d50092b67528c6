//! `worker` after its connection (or channel) is lost: forget what belonged to it, wait for
//! running tasks when needed, and reconnect with backoff. The consume loop (consume.rs)
//! starts again on the new connection.

use super::task::Done;
use super::{End, TICK, Worker};
use crate::amqp::Session;
use crate::backoff::Backoff;
use crate::error::{Error, Result};
use crate::{log, signals};
use std::time::{Duration, Instant};

/// Longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often "still reconnecting" is said.
const RECONNECT_NOTE_EVERY: Duration = Duration::from_secs(30);

impl Worker<'_> {
    /// The channel is gone: tokens of this generation are worthless, jobs not started are
    /// forgotten (the broker redelivers them).
    pub(super) fn lost(&mut self) {
        self.live = false;
        for job in std::mem::take(&mut self.backlog) {
            self.in_flight.remove(&job.id);
        }
    }

    /// Wait for running tasks when there is no channel to settle them on.
    pub(super) fn finish_running(&mut self) {
        self.live = false;
        while self.running > 0 {
            self.check_abort();
            if let Ok(done) = self.pool.done().recv_timeout(TICK) {
                // Not live: this only counts it as dropped.
                self.drop_verdict(done);
            }
        }
    }

    /// A verdict with no channel to act on: counted, and the broker redelivers the message.
    fn drop_verdict(&mut self, done: Done) {
        self.running -= 1;
        if self.in_flight.remove(&done.id).is_some() {
            self.stats.dropped += 1;
        }
    }

    /// Reconnect with backoff. `Ok(None)`: stopped by Ctrl-C meanwhile.
    pub(super) fn reconnect(&mut self, why: &Error) -> Result<Option<Session>> {
        log::warn(&format!("{why}; reconnecting (Ctrl-C to stop)"));
        let mut backoff = Backoff::new(MAX_BACKOFF);
        let mut said = Instant::now();
        loop {
            if signals::stop_requested() {
                self.finish_running();
                return Ok(None);
            }
            match self.ctx.connect("rmq worker") {
                Ok(s) => {
                    log::note(&format!("reconnected to {}", s.endpoint().redacted()));
                    return Ok(Some(s));
                }
                Err(
                    e @ (Error::AccessRefused { .. } | Error::NotFound { .. } | Error::Usage(_)),
                ) => {
                    return Err(e);
                }
                Err(e) => {
                    if said.elapsed() >= RECONNECT_NOTE_EVERY {
                        log::note(&format!("still reconnecting: {e}"));
                        said = Instant::now();
                    } else {
                        log::debug(&format!("reconnect failed: {e}"));
                    }
                }
            }
            self.pause(backoff.next_delay());
        }
    }

    /// Wait `delay` (less on Ctrl-C). Meanwhile, tasks of the lost connection finish: their
    /// verdicts are dropped.
    fn pause(&mut self, delay: Duration) {
        let until = Instant::now() + delay;
        while Instant::now() < until && !signals::stop_requested() {
            let left = until.saturating_duration_since(Instant::now()).min(TICK);
            if let Ok(done) = self.pool.done().recv_timeout(left) {
                self.drop_verdict(done);
            }
        }
    }
}

/// A lost connection (or a channel closed by the broker's ack timeout) is worth a
/// reconnect; anything else ends the worker.
pub(super) fn classify(e: Error) -> End {
    match e {
        Error::ConnectionLost { .. } => End::Lost(e),
        Error::Precondition { ref reason, .. } if reason.contains("acknowledgement") => {
            log::warn(
                "a message stayed unacked longer than the broker's consumer_timeout (30 min by \
                 default; raise it in rabbitmq.conf for long tasks): its channel was closed",
            );
            End::Lost(e)
        }
        e => End::Failed(e),
    }
}
