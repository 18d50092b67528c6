//! A channel set up for publishing: confirms, returns, and a meter a watchdog can read.
//! Message limits are checked first (limits.rs); the confirm window is the caller's.

use super::convert::{confirm_event, to_amqp_props, to_returned};
use super::errors::{Ctx, map_err, object_in_message};
use super::limits::check_publish;
use super::message::{ConfirmEvent, Message, Returned};
use super::session::Chan;
use crate::error::{Error, Result};
use amiquip::{Confirm, Publish};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What a watchdog thread may read of a publisher: how long the call under way has been
/// blocked, and how many messages were handed to the socket. amiquip's `basic_publish`
/// blocks once its write buffer is full, which is what happens while the broker blocks
/// publishers (memory or disk alarm); the publishing thread cannot then check its own
/// deadline. One meter per publisher, or one shared by the publishers a command opens one
/// after the other (send across reconnects): never shared by publishers running at once.
#[derive(Clone, Debug)]
pub struct PublishMeter(Arc<MeterState>);

#[derive(Debug)]
struct MeterState {
    epoch: Instant,
    /// Start of the call under way, in ms since `epoch` plus one; 0 when none.
    busy_since_ms: AtomicU64,
    published: AtomicU64,
}

impl Default for PublishMeter {
    fn default() -> Self {
        PublishMeter::new()
    }
}

impl PublishMeter {
    /// A meter at zero.
    pub fn new() -> PublishMeter {
        PublishMeter(Arc::new(MeterState {
            epoch: Instant::now(),
            busy_since_ms: AtomicU64::new(0),
            published: AtomicU64::new(0),
        }))
    }

    /// How long the publish (or publisher round trip) under way has been running, if one is.
    pub fn stuck_for(&self) -> Option<Duration> {
        let since = self.0.busy_since_ms.load(Ordering::SeqCst);
        (since != 0).then(|| Duration::from_millis(self.now_ms().saturating_sub(since - 1)))
    }

    /// Messages published (handed to the socket) through this meter so far, re-sends included.
    pub fn published(&self) -> u64 {
        self.0.published.load(Ordering::SeqCst)
    }

    fn now_ms(&self) -> u64 {
        self.0.epoch.elapsed().as_millis() as u64
    }

    /// Marks a possibly blocking call until the guard is dropped.
    fn busy(&self) -> Busy<'_> {
        self.0
            .busy_since_ms
            .store(self.now_ms() + 1, Ordering::SeqCst);
        Busy(self)
    }
}

/// A possibly blocking publisher call under way (see [`PublishMeter::stuck_for`]).
struct Busy<'a>(&'a PublishMeter);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.0.busy_since_ms.store(0, Ordering::SeqCst);
    }
}

/// A channel set up for publishing.
pub struct Publisher {
    ch: Chan,
    confirms: Option<crossbeam_channel::Receiver<Confirm>>,
    returns: crossbeam_channel::Receiver<amiquip::Return>,
    published: u64,
    meter: PublishMeter,
    vhost: String,
}

impl Publisher {
    /// Set up publishing on `ch`: confirms (optional) and a return listener.
    pub(super) fn new(ch: Chan, confirms: bool, vhost: &str) -> Result<Publisher> {
        let what = Ctx::None;
        let returns = ch.listen_for_returns().map_err(|e| map_err(e, "", &what))?;
        let confirms = if confirms {
            let rx = ch
                .listen_for_publisher_confirms()
                .map_err(|e| map_err(e, "", &what))?;
            ch.enable_publisher_confirms()
                .map_err(|e| map_err(e, "", &what))?;
            Some(rx)
        } else {
            None
        };
        Ok(Publisher {
            ch,
            confirms,
            returns,
            published: 0,
            meter: PublishMeter::new(),
            vhost: vhost.to_string(),
        })
    }

    /// Count this publisher's calls on `meter` (shared with earlier publishers of the same
    /// run, e.g. before a reconnect) instead of a meter of its own.
    pub fn with_meter(mut self, meter: &PublishMeter) -> Publisher {
        self.meter = meter.clone();
        self
    }

    /// The meter this publisher counts on, for a watchdog thread.
    pub fn meter(&self) -> PublishMeter {
        self.meter.clone()
    }

    /// Publish one message; returns its delivery tag (1, 2, ... on this channel).
    pub fn publish(
        &mut self,
        exchange: &str,
        routing_key: &str,
        msg: &Message,
        mandatory: bool,
    ) -> Result<u64> {
        check_publish(exchange, routing_key, msg).map_err(Error::Usage)?;
        let props = to_amqp_props(&msg.props);
        let publish = Publish {
            body: &msg.body,
            routing_key: routing_key.to_string(),
            mandatory,
            immediate: false,
            properties: props,
        };
        let busy = self.meter.busy();
        let r = self.ch.basic_publish(exchange, publish);
        drop(busy);
        match r {
            Ok(()) => {
                self.meter.0.published.fetch_add(1, Ordering::SeqCst);
                self.published += 1;
                Ok(self.published)
            }
            Err(e) => Err(self.explain(e, exchange)),
        }
    }

    /// Wait up to `timeout` for confirms; returns what arrived (empty on timeout).
    pub fn confirms(&mut self, timeout: Duration, exchange: &str) -> Result<Vec<ConfirmEvent>> {
        let Some(rx) = &self.confirms else {
            return Ok(Vec::new());
        };
        match rx.recv_timeout(timeout) {
            Ok(first) => Ok(self.with_queued(first)),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => Ok(Vec::new()),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                Err(self.closed_reason(exchange))
            }
        }
    }

    /// The confirms receiver, for a select over it and a consumer (consumer.rs).
    pub(super) fn confirm_receiver(&self) -> Option<&crossbeam_channel::Receiver<Confirm>> {
        self.confirms.as_ref()
    }

    /// `first` and every confirm queued behind it.
    pub(super) fn with_queued(&self, first: Confirm) -> Vec<ConfirmEvent> {
        let mut out = vec![confirm_event(first)];
        if let Some(rx) = &self.confirms {
            out.extend(rx.try_iter().map(confirm_event));
        }
        out
    }

    /// Returned (unroutable) messages that have arrived so far.
    pub fn returned(&self) -> Vec<Returned> {
        self.returns.try_iter().map(to_returned).collect()
    }

    /// A round trip to the broker: surfaces a channel error (e.g. a missing exchange) and makes
    /// sure every return for what was published so far has arrived.
    pub fn sync(&mut self, exchange: &str) -> Result<()> {
        let busy = self.meter.busy();
        let r = self.ch.qos(0, 0, false);
        drop(busy);
        match r {
            Ok(()) => Ok(()),
            Err(e) => Err(self.explain(e, exchange)),
        }
    }

    pub(super) fn closed_reason(&mut self, exchange: &str) -> Error {
        match self.ch.qos(0, 0, false) {
            Err(e) => self.explain(e, exchange),
            Ok(()) => Error::ConnectionLost {
                reason: "publisher confirms stopped arriving".into(),
                confirmed: None,
            },
        }
    }

    fn explain(&self, e: amiquip::Error, exchange: &str) -> Error {
        let ctx = Ctx::Exchange {
            name: exchange.to_string(),
            vhost: self.vhost.clone(),
        };
        match map_err(e, "", &ctx) {
            Error::NotFound { reason, hint, .. } => Error::NotFound {
                what: object_in_message(&reason)
                    .unwrap_or_else(|| format!("exchange '{exchange}'")),
                reason,
                hint,
            },
            other => other,
        }
    }

    /// Close the channel (bounded).
    pub fn close(self) {
        drop(self.ch);
    }

    /// Let the channel go without a close of its own (its connection is being closed).
    pub(super) fn forget(self) {
        self.ch.forget();
    }
}
