//! The end of a `send` run: the last confirms, the one-line summary (or --json object), and
//! the exit status. The counting happens where messages are published (publish.rs); this
//! only reports.

use super::Sender;
use crate::error::{Error, Result};
use crate::{log, signals};
use std::time::Duration;

/// The run's counts.
#[derive(Clone, Default)]
pub(super) struct Stats {
    pub(super) sent: u64,
    pub(super) confirmed: u64,
    pub(super) returned: u64,
    pub(super) nacked: u64,
    pub(super) resent: u64,
}

impl Sender<'_> {
    /// Wait for the last confirms, report, and turn the outcome into the exit status.
    pub(super) fn finish(mut self, outcome: Result<()>) -> Result<()> {
        let settle = if signals::stop_requested() {
            Some(Duration::from_secs(5))
        } else {
            None
        };
        // After the broker refused something (and closed the channel with it), waiting for
        // confirms would only find the channel gone and reconnect to publish again.
        let settled = match &outcome {
            Err(e) if refused_by_broker(e) => Ok(()),
            _ => self.settle(settle),
        };
        if !self.watch.claim() {
            super::watchdog::Watch::park_forever();
        }
        self.progress.finish();
        self.summary();
        if let Err(e) = outcome.and(settled) {
            if matches!(e, Error::Timeout(_)) {
                // The broker reads nothing (blocked): closing would only wait on it.
                std::mem::forget(self);
            }
            return Err(e);
        }
        if self.stats.nacked > 0 {
            return Err(Error::Nacked {
                nacked: self.stats.nacked,
            });
        }
        if self.args.strict && self.stats.returned > 0 {
            return Err(Error::Unroutable {
                returned: self.stats.returned,
            });
        }
        // connection.close takes the channel with it: closing the channel first would cost
        // one more round trip (a one-message send is mostly round trips).
        let Sender {
            publisher, session, ..
        } = self;
        session.close_with(publisher);
        Ok(())
    }

    /// The summary of this run, with its counts and time.
    fn summary(&self) {
        print_summary(
            &self.stats,
            &self.target.describe(),
            self.confirm,
            self.started.elapsed().as_secs_f64(),
            self.ctx.json(),
        );
    }
}

/// The one-line summary on stderr, or a JSON object on stdout with --json.
pub(super) fn print_summary(s: &Stats, target: &str, confirm: bool, secs: f64, json: bool) {
    let rate = if secs > 0.0 {
        s.sent as f64 / secs
    } else {
        0.0
    };
    if json {
        let v = serde_json::json!({
            "sent": s.sent, "confirmed": s.confirmed, "returned": s.returned,
            "nacked": s.nacked, "resent": s.resent, "seconds": secs,
            "target": target,
        });
        let mut out = crate::output::Out::new();
        let _ = out.text(&v.to_string()).and_then(|()| out.flush());
        return;
    }
    let mut line = format!("sent {} to {target}", s.sent);
    if confirm {
        line += &format!(", confirmed {}", s.confirmed);
    }
    line += &format!(", returned {}", s.returned);
    if s.nacked > 0 {
        line += &format!(", nacked {}", s.nacked);
    }
    if s.resent > 0 {
        line += &format!(", re-sent {}", s.resent);
    }
    line += &format!(" in {secs:.3} s");
    if s.sent >= 100 {
        line += &format!(" ({rate:.0} msg/s)");
    }
    log::note(&line);
}

/// Errors that end the publisher's channel or connection: nothing is left to settle.
fn refused_by_broker(e: &Error) -> bool {
    matches!(
        e,
        Error::AccessRefused { .. }
            | Error::NotFound { .. }
            | Error::Precondition { .. }
            | Error::ConnectionLost { .. }
    )
}
