//! The thread that polls the management API once per `--interval` and hands each answer (or
//! failure) to the thread that shows it, so that a slow or silent API never holds up the
//! keyboard, a redraw or Ctrl-C.

use super::sample::{self, Poll};
use crate::error::Result;
use crate::mgmt::Api;
use crossbeam_channel::{Receiver, bounded};
use regex::Regex;
use std::time::{Duration, Instant};

/// Start polling `vhost` every `interval` (the first poll at once). The thread ends when the
/// receiver is dropped; until then, a failed poll is sent and the next one tried on time.
pub fn start(
    api: Api,
    vhost: String,
    filter: Option<Regex>,
    interval: Duration,
) -> Result<Receiver<Result<Poll>>> {
    // One answer in flight: a reader that falls behind holds the poller back instead of
    // letting answers pile up.
    let (tx, rx) = bounded(1);
    std::thread::Builder::new()
        .name("rmq-top-poll".into())
        .spawn(move || {
            let mut next = Instant::now();
            loop {
                let polled = sample::poll(&api, &vhost, filter.as_ref());
                if tx.send(polled).is_err() {
                    return;
                }
                next += interval;
                let now = Instant::now();
                // A poll slower than the interval is followed by the next one at once.
                if next < now {
                    next = now;
                }
                std::thread::sleep(next - now);
            }
        })
        .map_err(|e| crate::error::Error::io("starting the polling thread", e))?;
    Ok(rx)
}
