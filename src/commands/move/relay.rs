//! The loop of `rmq move` on one connection: consume from the source with manual acks,
//! publish each message to its route with confirms (send's `ConfirmWindow`), ack the source
//! message once its copy is confirmed. Messages that stay (filtered, skipped, returned,
//! nacked) are never acked: they go back to the source, in order, when the channel closes.
//! What a lost connection changes (and which copies may be duplicates) is reconnect.rs's.

use super::reconnect::{Losses, Suspects};
use super::route::{Destination, Route, fingerprint, is_return_of};
use crate::amqp::{
    AckToken, ConfirmEvent, Consumer, ConsumerChannel, Delivery, Event, Publisher, Relay as Next,
    Session,
};
use crate::confirm::ConfirmWindow;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::progress::Progress;
use crate::{envelope, signals};
use std::time::{Duration, Instant};

/// The source's prefetch by default: unconfirmed copies at most (scripts/bench W9: 1,024
/// keeps pace with the broker's own shovel where 256 did not). Memory is about this many
/// messages: `--prefetch` lowers it for large ones.
pub const WINDOW: u16 = 1024;
/// How long a wait for a delivery or confirm lasts before the loop looks around.
const TICK: Duration = Duration::from_millis(200);
/// After the last delivery, how long to wait for the outstanding confirms.
const SETTLE: Duration = Duration::from_secs(30);
/// Source acks sent at most before a round trip makes sure the broker has them: only acks
/// after the last round trip can be lost with the connection (their copies then twice).
const SYNC_EVERY: usize = 1024;

/// What happened to the messages seen.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Source messages looked at (one that came back after a lost connection counts once).
    pub seen: u64,
    /// Confirmed at the destination and acked in the source.
    pub moved: u64,
    /// `--to-origin` and no x-death header: stayed.
    pub skipped: u64,
    /// `--filter` did not match: stayed.
    pub filtered: u64,
    /// Returned by the destination as unroutable: stayed.
    pub unroutable: u64,
    /// Nacked by the broker: stayed.
    pub nacked: u64,
    /// Copies that may be at the destination twice (or there and in the source): unconfirmed
    /// when the connection was lost, or moved again after their ack was lost with it.
    pub duplicates: u64,
    /// Connections lost and made again.
    pub reconnects: u64,
    /// Stopped by Ctrl-C/SIGTERM.
    pub interrupted: bool,
}

/// A copy published and not confirmed yet.
pub(super) struct InFlight {
    token: AckToken,
    route: Route,
    /// The body's fingerprint, to tell a returned copy (the body itself is not kept).
    print: (usize, u64),
    returned: bool,
}

/// One run of the relay.
pub struct Relay {
    pub(super) from: String,
    dest: Destination,
    filter: Option<Filter>,
    /// Messages the source held at the start: no more are taken.
    depth: u64,
    /// Messages to move at most.
    limit: u64,
    pub(super) tally: Tally,
    pub(super) window: ConfirmWindow<InFlight>,
    pub(super) progress: Progress,
    last_confirm: Instant,
    /// The source's prefetch (the window of unconfirmed copies).
    prefetch: u16,
    /// Reconnect after a lost connection (not --no-reconnect).
    pub(super) reconnect: bool,
    /// Fingerprints of the source messages acked since the last round trip on the channel.
    pub(super) unsynced: Vec<(usize, u64)>,
    /// Acked source messages whose ack may have been lost with a connection.
    pub(super) suspects: Suspects,
    /// Deliveries beyond what is wanted, left unacked (they go back with the channel).
    pub(super) left: u64,
    /// The connection losses so far, for the give-up rule and the wait for a dead consumer.
    pub(super) losses: Losses,
}

impl Relay {
    /// A relay from `from` to `dest`.
    pub fn new(
        from: &str,
        dest: Destination,
        filter: Option<Filter>,
        depth: u64,
        limit: u64,
        prefetch: u16,
        reconnect: bool,
    ) -> Relay {
        Relay {
            from: from.to_string(),
            dest,
            filter,
            depth,
            limit,
            tally: Tally::default(),
            window: ConfirmWindow::new(),
            progress: Progress::new(Some(limit), limit > 1),
            last_confirm: Instant::now(),
            prefetch,
            reconnect,
            unsynced: Vec::new(),
            suspects: Suspects::default(),
            left: 0,
            losses: Losses::default(),
        }
    }

    /// Move, reconnecting after a lost connection unless told not to; the tally comes back
    /// with the outcome (nothing is lost either way). The session is closed on the way out.
    pub fn run(mut self, ctx: &Ctx, mut session: Session) -> (Tally, Result<()>) {
        let r = loop {
            match self.relay(&mut session) {
                Err(e @ Error::ConnectionLost { .. }) => {
                    let e = session.why_lost(e);
                    let again = self.reconnect && matches!(e, Error::ConnectionLost { .. });
                    self.lost(!again);
                    if !again {
                        break Err(e);
                    }
                    match self.reconnect(ctx, &e) {
                        Ok(s) => session = s,
                        Err(e) => break Err(e),
                    }
                }
                other => break other,
            }
        };
        if r.is_err() || self.tally.interrupted {
            // Copies still unconfirmed (e.g. no confirm came in time) and acks that may have
            // been lost are possible duplicates too: their source messages stay.
            self.tally.duplicates += self.window.len() as u64;
            self.give_up_suspects();
        }
        session.close();
        self.progress.finish();
        (self.tally, r)
    }

    fn relay(&mut self, session: &mut Session) -> Result<()> {
        if self.limit == 0 {
            return Ok(());
        }
        let ch = session.consumer_channel(Some(self.prefetch))?;
        let mut publisher = session.publisher(true)?;
        let exchange = self.exchange_shown();
        let mut consumer = ch.consume(&self.from, false, false)?;
        let mut held_at_start = self.held();
        // After a reconnect, the messages whose acks may have been lost come back first: they
        // are looked for even when enough was moved (they were counted moved).
        while self.wants_more() {
            // Held messages keep their prefetch slots: a fresh consumer has fresh ones (the
            // limit is per consumer; a channel-wide one cannot be had on quorum queues).
            if self.held() - held_at_start >= u64::from(self.prefetch / 2) {
                self.drain(&mut publisher, &consumer)?;
                consumer = ch.consume(&self.from, false, false)?;
                held_at_start = self.held();
                continue;
            }
            match consumer.next_or_confirms(&mut publisher, TICK, &exchange)? {
                Next::Confirms(events) => self.confirmed(&ch, &publisher, events)?,
                Next::Event(Event::Delivery(d)) => {
                    self.handle(&mut publisher, *d)?;
                }
                Next::Event(Event::Idle) => {
                    if self.window.is_empty()
                        && !consumer.has_pending()
                        && self.source_is_done(session)?
                    {
                        break;
                    }
                }
                Next::Event(Event::Cancelled) => {
                    return Err(Error::NotFound {
                        what: format!("queue '{}'", self.from),
                        reason: "the source queue was deleted while moving".into(),
                        hint: "the messages acked so far are at the destination".into(),
                    });
                }
                Next::Event(Event::Closed(e)) => return Err(e),
            }
        }
        // No more deliveries: those prefetched stay unacked and go back with the channel.
        consumer.cancel()?;
        self.last_confirm = Instant::now();
        while !self.window.is_empty() {
            let events = publisher.confirms(TICK, &exchange)?;
            if events.is_empty() {
                self.check_settling()?;
            } else {
                self.confirmed(&ch, &publisher, events)?;
            }
        }
        // Every ack reached the broker before the channel closes and gives back the rest.
        ch.sync()?;
        self.unsynced.clear();
        drop(consumer);
        ch.close();
        publisher.close();
        Ok(())
    }

    /// Cancel `consumer` and take the deliveries it already had.
    fn drain(&mut self, publisher: &mut Publisher, consumer: &Consumer<'_>) -> Result<()> {
        consumer.cancel()?;
        loop {
            match consumer.next(Duration::from_secs(1)) {
                // handle() leaves those beyond what is wanted.
                Event::Delivery(d) => self.handle(publisher, *d)?,
                _ => return Ok(()),
            }
        }
    }

    /// Returns first (they precede their confirms), then what the confirms settle.
    fn confirmed(
        &mut self,
        ch: &ConsumerChannel,
        publisher: &Publisher,
        events: Vec<ConfirmEvent>,
    ) -> Result<()> {
        self.last_confirm = Instant::now();
        self.take_returns(publisher);
        for e in events {
            self.settle(ch, e)?;
        }
        if self.unsynced.len() >= SYNC_EVERY {
            ch.sync()?;
            self.unsynced.clear();
        }
        Ok(())
    }

    /// Go on taking messages: not [`Relay::enough`], or (unless stopped) after a reconnect
    /// the messages whose acks may have been lost can still come back (they were counted
    /// moved, and come first).
    fn wants_more(&mut self) -> bool {
        !self.enough() || (!self.tally.interrupted && !self.suspects.is_empty())
    }

    /// Stop taking messages: all that the source held seen, -n reached, or Ctrl-C.
    fn enough(&mut self) -> bool {
        if signals::stop_requested() {
            self.tally.interrupted = true;
            return true;
        }
        self.tally.seen >= self.depth || self.tally.moved + self.window.len() as u64 >= self.limit
    }

    fn exchange_shown(&self) -> String {
        match &self.dest {
            Destination::Exchange { name, .. } => name.clone(),
            _ => String::new(),
        }
    }

    /// Publish a delivery's message to its route, or hold it in the source.
    fn handle(&mut self, publisher: &mut Publisher, d: Delivery) -> Result<()> {
        let print = fingerprint(&d.message.body);
        if !self.came_back(&d, print) && self.enough() {
            // Beyond what is wanted (met while looking for lost acks, which come first):
            // unacked, it goes back with the channel.
            self.suspects.clear();
            self.left += 1;
            return Ok(());
        }
        self.tally.seen += 1;
        if let Some(f) = &self.filter
            && !f.matches(&envelope::to_json(&d))?
        {
            self.tally.filtered += 1;
            return Ok(());
        }
        let Some(route) = self.dest.route(&d) else {
            self.tally.skipped += 1;
            return Ok(());
        };
        let tag = publisher.publish(&route.exchange, &route.routing_key, &d.message, true)?;
        self.window.insert(
            tag,
            InFlight {
                token: d.token,
                route,
                print,
                returned: false,
            },
        );
        Ok(())
    }

    /// Messages kept unacked in the source (they hold prefetch slots and go back, in their
    /// place, when the channel closes): every one not moved.
    fn held(&self) -> u64 {
        let t = &self.tally;
        t.skipped + t.filtered + t.unroutable + t.nacked + self.left
    }

    /// Mark the copies the broker returned; they stay in the source when confirmed.
    fn take_returns(&mut self, publisher: &Publisher) {
        for r in publisher.returned() {
            // Hashed once, not once per copy it is compared with.
            let r_print = fingerprint(&r.message.body);
            if let Some(f) = self
                .window
                .tokens_mut()
                .find(|f| !f.returned && is_return_of(&r, r_print, &f.route, f.print))
            {
                f.returned = true;
            }
        }
    }

    fn settle(&mut self, ch: &ConsumerChannel, event: ConfirmEvent) -> Result<()> {
        let covers_all_before = matches!(event, ConfirmEvent::Ack { multiple: true, .. });
        let settled = self.window.apply(event);
        let acked = settled.acked;
        let items: Vec<InFlight> = settled.into_items().collect();
        // One ack with `multiple` for the lot when that acks exactly these: nothing is held
        // in the source (a held message below them would be acked too), the confirm covers
        // every earlier copy, and none of these came back unroutable.
        // Each copy is counted moved (and its ack unsynced) before its ack goes out: when the
        // ack fails with the connection, the source message comes back, and is known then.
        if acked && self.held() == 0 && covers_all_before && items.iter().all(|f| !f.returned) {
            self.unsynced.extend(items.iter().map(|f| f.print));
            self.tally.moved += items.len() as u64;
            self.progress.add(items.len() as u64);
            if let Some(last) = items.last() {
                ch.ack(last.token.clone(), true)?;
            }
            return Ok(());
        }
        let mut acks = Vec::new();
        for f in items {
            if acked && !f.returned {
                self.unsynced.push(f.print);
                self.tally.moved += 1;
                self.progress.inc();
                acks.push(f.token);
            } else if f.returned {
                self.tally.unroutable += 1;
            } else {
                self.tally.nacked += 1;
            }
        }
        acks.into_iter().try_for_each(|t| ch.ack(t, false))
    }

    /// Waiting for the last confirms: give up once none came for [`SETTLE`] (the
    /// unconfirmed messages stay in the source).
    fn check_settling(&self) -> Result<()> {
        if self.last_confirm.elapsed() < SETTLE {
            return Ok(());
        }
        Err(Error::Timeout(format!(
            "the broker confirmed no copy for {} s; {} message(s) stay in '{}'",
            SETTLE.as_secs(),
            self.window.len(),
            self.from
        )))
    }
}
