//! When `receive` acks what it printed: the ack policies (auto, printed, credit) and the
//! deliveries not acked yet. No I/O here; the consume loop (receive.rs) sends the acks.

use super::Args;
use crate::amqp::AckToken;

/// Ack in batches (with `multiple`) at most this many deliveries apart.
const ACK_EVERY: u64 = 128;

/// When the messages printed are acked.
#[derive(Clone, Copy)]
pub(super) enum AckPolicy {
    /// `--no-ack`: auto-ack, the broker forgets each message as it sends it.
    Auto,
    /// Each message once printed, `every` at a time, and all printed ones at the end.
    Printed { every: u64 },
    /// `--no-ack --count N`: auto-ack would let the broker push (and forget) more than N, so
    /// consume with acks instead, each message acked as soon as it is written (the broker
    /// forgets it at once, as with auto-ack), but never more than N - prefetch (`ackable`)
    /// before all N have arrived: at most N are ever delivered. On exit everything received
    /// is acked (at most once, like auto-ack). One basic.get per message is much slower.
    Credit { every: u64, ackable: u64 },
}

impl AckPolicy {
    /// The policy the flags ask for, with acks at most half a prefetch apart.
    pub(super) fn of(args: &Args, prefetch: u64) -> AckPolicy {
        let half = (prefetch / 2).max(1);
        match (args.no_ack, args.count) {
            (true, Some(n)) => AckPolicy::Credit {
                every: half,
                ackable: n.saturating_sub(prefetch),
            },
            (true, None) => AckPolicy::Auto,
            (false, _) => AckPolicy::Printed {
                every: ACK_EVERY.min(half),
            },
        }
    }
}

/// The deliveries not acked yet, under an [`AckPolicy`].
pub(super) struct Acks {
    pub(super) policy: AckPolicy,
    /// The latest delivery that may be acked now (with `multiple`).
    pub(super) safe: Option<AckToken>,
    /// The latest delivery (acked at the end under [`AckPolicy::Credit`]).
    pub(super) tail: Option<AckToken>,
    /// Deliveries covered by `safe`.
    pub(super) batch: u64,
    /// The delivery tag acked up to.
    pub(super) acked: u64,
}

impl Acks {
    pub(super) fn new(policy: AckPolicy) -> Acks {
        Acks {
            policy,
            safe: None,
            tail: None,
            batch: 0,
            acked: 0,
        }
    }

    /// A delivery arrived and was `written` (or not); `received` counts the written ones.
    pub(super) fn delivered(&mut self, token: AckToken, written: bool, received: u64) {
        match self.policy {
            AckPolicy::Auto => {}
            AckPolicy::Printed { .. } => {
                if written {
                    self.safe = Some(token);
                    self.batch += 1;
                }
            }
            AckPolicy::Credit { ackable, .. } => {
                if received <= ackable {
                    self.safe = Some(token.clone());
                    self.batch += 1;
                }
                self.tail = Some(token);
            }
        }
    }

    /// Whether to flush and ack now (`done`: --count reached).
    pub(super) fn due(&self, done: bool) -> bool {
        match self.policy {
            AckPolicy::Auto => done,
            AckPolicy::Printed { every } => self.batch >= every || done,
            // Acks are only credit here (the message is forgotten either way).
            AckPolicy::Credit { every, .. } => self.batch >= every,
        }
    }
}
