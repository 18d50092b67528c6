//! `move` after a lost connection: what the loss leaves uncertain, and reconnecting (send's
//! backoff). Every source message not acked comes back to the source by itself (redelivered),
//! so nothing is re-published: the relay (relay.rs) starts again on a new connection and
//! moves what comes back. The copies unconfirmed at the loss may already be at the
//! destination: possible duplicates. So may those whose source ack was sent but perhaps
//! never processed (acked since the last round trip): each of them that comes back,
//! redelivered, is counted a duplicate and moved again.

use super::relay::Relay;
use crate::amqp::{Delivery, Session};
use crate::backoff::Backoff;
use crate::confirm::ConfirmWindow;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::{log, signals};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Connection losses with nothing moved in between before giving up.
const MAX_LOSSES_IN_A_ROW: u32 = 5;
/// How long reconnection is tried before giving up.
const RECONNECT_FOR: Duration = Duration::from_secs(60);
/// Longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3);

/// Fingerprints (body length and hash) of acked source messages whose ack may have been
/// lost, with how many of each.
#[derive(Debug, Default)]
pub struct Suspects(HashMap<(usize, u64), u32>);

impl Suspects {
    /// None left to look for.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many are left.
    pub fn len(&self) -> u64 {
        self.0.values().map(|&n| u64::from(n)).sum()
    }

    /// Look for these too.
    pub fn extend(&mut self, prints: impl IntoIterator<Item = (usize, u64)>) {
        for p in prints {
            *self.0.entry(p).or_default() += 1;
        }
    }

    /// Is `print` one of them? Then it is taken out (identical bodies are interchangeable).
    pub fn take(&mut self, print: (usize, u64)) -> bool {
        let Some(n) = self.0.get_mut(&print) else {
            return false;
        };
        *n -= 1;
        if *n == 0 {
            self.0.remove(&print);
        }
        true
    }

    /// Stop looking (they will not come back: their acks went through).
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// The connection losses of a run.
#[derive(Debug, Default)]
pub struct Losses {
    in_a_row: u32,
    moved_at_last: u64,
    /// When the last one happened.
    last: Option<Instant>,
}

impl Relay {
    /// The connection is gone: its delivery tags are worthless, and every message it had not
    /// acked goes back to the source. `last`: no reconnect follows, so the acks that may have
    /// been lost stay possible duplicates.
    pub(super) fn lost(&mut self, last: bool) {
        self.tally.duplicates += self.window.len() as u64;
        self.window = ConfirmWindow::new();
        self.suspects.extend(self.unsynced.drain(..));
        self.losses.last = Some(Instant::now());
        if last {
            self.give_up_suspects();
            return;
        }
        // What comes back is seen again (the depth bound counts each message once).
        let t = &mut self.tally;
        t.seen = t.moved;
        (t.skipped, t.filtered, t.unroutable, t.nacked) = (0, 0, 0, 0);
        self.left = 0;
    }

    /// The run ends with suspects not seen again: they may be in both places.
    pub(super) fn give_up_suspects(&mut self) {
        self.tally.duplicates += self.suspects.len();
        self.suspects.clear();
    }

    /// Is `d` a message acked on a lost connection whose ack did not reach the broker? Then
    /// its copy is at the destination already: it was not moved after all, and moving it
    /// again makes a duplicate.
    pub(super) fn came_back(&mut self, d: &Delivery, print: (usize, u64)) -> bool {
        if !d.redelivered || !self.suspects.take(print) {
            return false;
        }
        let t = &mut self.tally;
        t.moved = t.moved.saturating_sub(1);
        t.seen = t.seen.saturating_sub(1);
        t.duplicates += 1;
        true
    }

    /// Nothing more to wait for in the source: no message ready, and no consumer of a lost
    /// connection of ours still holding some. A broker that has not yet noticed a silent
    /// connection gone (half-open) gives its messages back only once it has (two of its
    /// heartbeats): wait that long for a second consumer to go away, not longer (it may be
    /// someone else's).
    pub(super) fn source_is_done(&mut self, session: &mut Session) -> Result<bool> {
        let Some(q) = session.queue_inspect(&self.from)? else {
            return Ok(true);
        };
        if q.messages > 0 {
            return Ok(false);
        }
        let Some(lost_at) = self.losses.last else {
            return Ok(true);
        };
        let heartbeat = u64::from(session.endpoint().heartbeat);
        let patience = if heartbeat == 0 {
            30
        } else {
            3 * heartbeat + 5
        };
        Ok(q.consumers <= 1 || lost_at.elapsed() >= Duration::from_secs(patience))
    }

    /// Connect again (backing off, for at most a minute); give up after
    /// [`MAX_LOSSES_IN_A_ROW`] losses with nothing moved in between.
    pub(super) fn reconnect(&mut self, ctx: &Ctx, why: &Error) -> Result<Session> {
        self.count_loss(why)?;
        self.progress
            .suspend(|| log::warn(&format!("{why}; reconnecting (Ctrl-C to stop)")));
        let mut backoff = Backoff::for_at_most(MAX_BACKOFF, RECONNECT_FOR);
        let since = self.losses.last.unwrap_or_else(Instant::now);
        loop {
            if signals::stop_requested() {
                self.tally.interrupted = true;
                return Err(Error::Interrupted(format!(
                    "stopped while reconnecting, after moving {}; the rest stayed in '{}'",
                    self.tally.moved, self.from
                )));
            }
            match ctx.connect("rmq move") {
                Ok(s) => {
                    self.tally.reconnects += 1;
                    let note = format!(
                        "reconnected to {} {:.2} s after the loss",
                        s.endpoint().redacted(),
                        since.elapsed().as_secs_f64()
                    );
                    self.progress.suspend(|| log::note(&note));
                    return Ok(s);
                }
                Err(
                    e @ (Error::AccessRefused { .. } | Error::NotFound { .. } | Error::Usage(_)),
                ) => return Err(e),
                Err(e) if backoff.expired() => return Err(e),
                Err(e) => {
                    log::debug(&format!("reconnect failed: {e}"));
                    std::thread::sleep(backoff.next_delay());
                }
            }
        }
    }

    fn count_loss(&mut self, why: &Error) -> Result<()> {
        let l = &mut self.losses;
        if self.tally.moved > l.moved_at_last {
            l.in_a_row = 0;
        }
        l.in_a_row += 1;
        l.moved_at_last = self.tally.moved;
        if l.in_a_row > MAX_LOSSES_IN_A_ROW {
            let reason = match why {
                Error::ConnectionLost { reason, .. } => reason.clone(),
                other => other.to_string(),
            };
            return Err(Error::ConnectionLost {
                reason: format!(
                    "{reason}; lost {} times in a row with nothing moved in between, giving up",
                    l.in_a_row
                ),
                confirmed: None,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suspects_are_a_multiset() {
        let mut s = Suspects::default();
        s.extend([(1, 7), (1, 7), (2, 9)]);
        assert_eq!(s.len(), 3);
        assert!(s.take((1, 7)));
        assert!(s.take((1, 7)));
        assert!(!s.take((1, 7)));
        assert!(!s.take((3, 3)));
        assert_eq!(s.len(), 1);
        s.clear();
        assert!(s.is_empty());
    }
}
