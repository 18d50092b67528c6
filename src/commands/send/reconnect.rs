//! `send` after a failure: on a lost connection, reconnect (with backoff) and publish every
//! unconfirmed message again; otherwise name what failed (and how far the input was
//! confirmed). The publishing loop is publish.rs; this only restores its state.

use super::{Sender, plan};
use crate::backoff::Backoff;
use crate::error::{Error, Result};
use crate::{log, signals};
use std::time::{Duration, Instant};

/// Connection losses with no confirm in between before giving up.
const MAX_LOSSES_IN_A_ROW: u32 = 5;
/// How long reconnection is tried before giving up.
const RECONNECT_FOR: Duration = Duration::from_secs(60);
/// Longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3);

impl Sender<'_> {
    /// A failure while publishing: reconnect if it is a lost connection, else give up.
    pub(super) fn recover(&mut self, e: Error) -> Result<()> {
        // The I/O thread's own words ("missed heartbeats from the broker") when it has them.
        let e = self.session.why_lost(e);
        let Error::ConnectionLost { reason, .. } = e else {
            return Err(self.name_refused_message(e));
        };
        if self.args.no_reconnect || !self.confirm {
            return Err(Error::ConnectionLost {
                reason,
                confirmed: Some(self.confirmed_prefix()),
            });
        }
        self.losses_in_a_row += 1;
        if self.losses_in_a_row > MAX_LOSSES_IN_A_ROW {
            return Err(Error::ConnectionLost {
                reason: format!(
                    "{reason}; lost {} times in a row with nothing confirmed in between, giving up",
                    self.losses_in_a_row
                ),
                confirmed: Some(self.confirmed_prefix()),
            });
        }
        self.progress
            .suspend(|| log::warn(&format!("connection lost ({reason}); reconnecting")));
        let mut backoff = Backoff::for_at_most(MAX_BACKOFF, RECONNECT_FOR);
        loop {
            if signals::stop_requested() {
                return Err(Error::Interrupted("stopped while reconnecting".into()));
            }
            match self.reconnect_once() {
                Ok(()) => return Ok(()),
                Err(e @ (Error::AccessRefused { .. } | Error::Usage(_))) => return Err(e),
                Err(e) if backoff.expired() => return Err(e),
                Err(e) => {
                    log::debug(&format!("reconnect failed: {e}"));
                    std::thread::sleep(backoff.next_delay());
                }
            }
        }
    }

    /// One attempt: a new connection, the target declared again, and every unconfirmed
    /// message published again on it.
    fn reconnect_once(&mut self) -> Result<()> {
        let mut session = plan::connect(self.ctx, self.large)?;
        plan::declare_target(&mut session, &self.target, self.args)?;
        let mut publisher = session
            .publisher(self.confirm)?
            .with_meter(self.watch.meter());
        // A failure here (the connection lost again) leaves the window as it was: nothing is
        // forgotten, the next attempt re-publishes them all.
        let count = self.window.republish(|m| {
            publisher.publish(&m.dest.exchange, &m.dest.routing_key, &m.message, true)
        })?;
        self.probe = None;
        self.stats.resent += count;
        self.session = session;
        self.watch.follow(self.session.blocked_listener());
        self.publisher = publisher;
        self.last_progress = Instant::now();
        log::note(&format!(
            "reconnected to {}; re-published {count} unconfirmed message(s)",
            self.session.endpoint().redacted()
        ));
        Ok(())
    }

    /// The broker refused a message on its channel (too large): with confirms, it is the
    /// first unconfirmed one, and later ones were discarded with the channel.
    fn name_refused_message(&mut self, e: Error) -> Error {
        match e {
            Error::Precondition { reason, .. } if reason.contains("message size") => {
                // Confirms that arrived before the close still count.
                while let Ok(events) = self
                    .publisher
                    .confirms(Duration::ZERO, plan::exchange_of(&self.target))
                    && !events.is_empty()
                {
                    for ev in events {
                        self.apply(ev);
                    }
                }
                let n = self.confirmed_prefix() + 1;
                let what = if self.args.lines || self.args.ndjson {
                    format!("message {n} (stdin line {n})")
                } else {
                    format!("message {n}")
                };
                Error::Precondition {
                    what,
                    reason,
                    hint: "the broker's max_message_size (128 MiB by default) limits each \
                           message: split the data, or raise the limit in rabbitmq.conf"
                        .into(),
                }
            }
            other => other,
        }
    }

    /// Messages confirmed with every earlier one confirmed too (safe to resume after).
    pub(super) fn confirmed_prefix(&self) -> u64 {
        if !self.confirm {
            return 0;
        }
        match self.window.tokens().map(|m| m.seq).min() {
            Some(first_unconfirmed) => first_unconfirmed - 1,
            None => self.stats.sent,
        }
    }
}
