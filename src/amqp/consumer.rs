//! A channel for consuming and acknowledging, and the consumer on it.

use super::convert::{from_delivery, to_amqp_props, to_field_table, to_returned};
use super::errors::{Ctx, map_err};
use super::limits::{check_publish, short_str};
use super::message::{AckToken, ConfirmEvent, Delivery, Message, Returned, Table};
use super::publisher::Publisher;
use super::session::Chan;
use crate::error::{Error, Result};
use amiquip::{ConsumerMessage, ConsumerOptions, Publish};
use std::time::Duration;

/// A channel for consuming and acknowledging.
pub struct ConsumerChannel {
    ch: Chan,
    returns: crossbeam_channel::Receiver<amiquip::Return>,
    /// For error messages ("queue 'q' in vhost 'v'").
    vhost: String,
}

/// What a consumer yields.
#[derive(Debug)]
pub enum Event {
    /// A message.
    Delivery(Box<Delivery>),
    /// Nothing within the wait.
    Idle,
    /// The broker cancelled the consumer (queue deleted).
    Cancelled,
    /// The channel or connection is gone.
    Closed(Error),
}

/// An active consumer; borrows its channel.
pub struct Consumer<'a> {
    inner: amiquip::Consumer<'a>,
}

impl ConsumerChannel {
    pub(super) fn new(
        ch: Chan,
        returns: crossbeam_channel::Receiver<amiquip::Return>,
        vhost: &str,
    ) -> ConsumerChannel {
        ConsumerChannel {
            ch,
            returns,
            vhost: vhost.to_string(),
        }
    }

    /// Start consuming from a queue.
    pub fn consume(&self, queue: &str, no_ack: bool, exclusive: bool) -> Result<Consumer<'_>> {
        self.consume_with(queue, no_ack, exclusive, &Table::new())
    }

    /// Start consuming with consumer arguments (a stream's `x-stream-offset`).
    pub fn consume_with(
        &self,
        queue: &str,
        no_ack: bool,
        exclusive: bool,
        args: &Table,
    ) -> Result<Consumer<'_>> {
        short_str("queue name", queue)?;
        let opts = ConsumerOptions {
            no_ack,
            exclusive,
            arguments: to_field_table(args),
            ..ConsumerOptions::default()
        };
        let ctx = Ctx::Queue {
            name: queue.into(),
            vhost: self.vhost.clone(),
        };
        let inner = self
            .ch
            .basic_consume(queue, opts)
            .map_err(|e| map_err(e, "", &ctx))?;
        Ok(Consumer { inner })
    }

    /// Fetch one message with basic.get (None when the queue is empty).
    pub fn get(&self, queue: &str, no_ack: bool) -> Result<Option<Delivery>> {
        short_str("queue name", queue)?;
        let ctx = Ctx::Queue {
            name: queue.into(),
            vhost: self.vhost.clone(),
        };
        match self.ch.basic_get(queue, no_ack) {
            Ok(Some(g)) => Ok(Some(from_delivery(g.delivery))),
            Ok(None) => Ok(None),
            Err(e) => Err(map_err(e, "", &ctx)),
        }
    }

    /// Ack one delivery, or all up to it with `multiple`.
    pub fn ack(&self, token: AckToken, multiple: bool) -> Result<()> {
        let r = if multiple {
            token.0.ack_multiple(&self.ch)
        } else {
            token.0.ack(&self.ch)
        };
        r.map_err(|e| map_err(e, "ack", &Ctx::None))
    }

    /// Nack one delivery (or all up to it), requeueing or not.
    pub fn nack(&self, token: AckToken, multiple: bool, requeue: bool) -> Result<()> {
        let r = if multiple {
            token.0.nack_multiple(&self.ch, requeue)
        } else {
            token.0.nack(&self.ch, requeue)
        };
        r.map_err(|e| map_err(e, "nack", &Ctx::None))
    }

    /// Publish on this channel (needed for direct reply-to).
    pub fn publish(&self, exchange: &str, routing_key: &str, msg: &Message) -> Result<()> {
        self.publish_with(exchange, routing_key, msg, false)
    }

    /// Publish mandatory on this channel: an unroutable message comes back in
    /// [`ConsumerChannel::returned`].
    pub fn publish_mandatory(
        &self,
        exchange: &str,
        routing_key: &str,
        msg: &Message,
    ) -> Result<()> {
        self.publish_with(exchange, routing_key, msg, true)
    }

    /// Messages published mandatory on this channel that the broker returned, so far.
    pub fn returned(&self) -> Vec<Returned> {
        self.returns.try_iter().map(to_returned).collect()
    }

    fn publish_with(
        &self,
        exchange: &str,
        routing_key: &str,
        msg: &Message,
        mandatory: bool,
    ) -> Result<()> {
        check_publish(exchange, routing_key, msg).map_err(Error::Usage)?;
        let publish = Publish {
            body: &msg.body,
            routing_key: routing_key.to_string(),
            mandatory,
            immediate: false,
            properties: to_amqp_props(&msg.props),
        };
        self.ch.basic_publish(exchange, publish).map_err(|e| {
            map_err(
                e,
                "",
                &Ctx::Exchange {
                    name: exchange.into(),
                    vhost: self.vhost.clone(),
                },
            )
        })
    }

    /// A round trip on this channel: once it returns, the broker has processed every ack
    /// sent before it (acks have no reply of their own, and a close that times out could
    /// otherwise drop them on the floor).
    pub fn sync(&self) -> Result<()> {
        self.ch
            .exchange_declare_passive("amq.direct")
            .map(|_| ())
            .map_err(|e| map_err(e, "", &Ctx::None))
    }

    /// Close the channel: unacked deliveries go back to their queue. Bounded wait.
    pub fn close(self) {
        drop(self.ch);
    }
}

/// What [`Consumer::next_or_confirms`] got first.
#[derive(Debug)]
pub enum Relay {
    /// An event of the consumer ([`Event::Idle`] when nothing came within the wait).
    Event(Event),
    /// Publisher confirms (at least one).
    Confirms(Vec<ConfirmEvent>),
}

/// What [`Consumer::next_or`] got first.
#[derive(Debug)]
pub enum Next<T> {
    /// An event of the consumer ([`Event::Idle`] when nothing came within the wait).
    Event(Event),
    /// A message on the other channel.
    Other(T),
}

impl Consumer<'_> {
    /// Wait up to `timeout` for the next event.
    pub fn next(&self, timeout: Duration) -> Event {
        match self.inner.receiver().recv_timeout(timeout) {
            Ok(m) => consumer_event(m),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => Event::Idle,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => consumer_gone(),
        }
    }

    /// Wait up to `timeout` for the next event or a message on `other`, whichever comes
    /// first (so the thread owning the channel can settle work done elsewhere without
    /// polling). A disconnected `other` counts as never ready.
    pub fn next_or<T>(&self, other: &crossbeam_channel::Receiver<T>, timeout: Duration) -> Next<T> {
        crossbeam_channel::select! {
            recv(self.inner.receiver()) -> m => Next::Event(match m {
                Ok(m) => consumer_event(m),
                Err(_) => consumer_gone(),
            }),
            recv(other) -> m => match m {
                Ok(v) => Next::Other(v),
                Err(_) => Next::Event(self.next(timeout)),
            },
            default(timeout) => Next::Event(Event::Idle),
        }
    }

    /// Wait up to `timeout` for the next delivery or the next confirms of `publisher`,
    /// whichever comes first: one thread relays messages from this consumer to the publisher
    /// and settles each source message when its copy is confirmed (`rmq move`). Confirms are
    /// taken first, so acks are never starved by a fast queue.
    pub fn next_or_confirms(
        &self,
        publisher: &mut Publisher,
        timeout: Duration,
        exchange: &str,
    ) -> Result<Relay> {
        let Some(confirms) = publisher.confirm_receiver() else {
            return Ok(Relay::Event(self.next(timeout)));
        };
        if let Ok(first) = confirms.try_recv() {
            return Ok(Relay::Confirms(publisher.with_queued(first)));
        }
        crossbeam_channel::select! {
            recv(confirms) -> c => match c {
                Ok(first) => Ok(Relay::Confirms(publisher.with_queued(first))),
                Err(_) => Err(publisher.closed_reason(exchange)),
            },
            recv(self.inner.receiver()) -> m => Ok(Relay::Event(match m {
                Ok(m) => consumer_event(m),
                Err(_) => consumer_gone(),
            })),
            default(timeout) => Ok(Relay::Event(Event::Idle)),
        }
    }

    /// Is another delivery already waiting?
    pub fn has_pending(&self) -> bool {
        !self.inner.receiver().is_empty()
    }

    /// Stop the broker sending more deliveries.
    pub fn cancel(&self) -> Result<()> {
        self.inner
            .cancel()
            .map_err(|e| map_err(e, "basic.cancel", &Ctx::None))
    }
}

fn consumer_gone() -> Event {
    Event::Closed(Error::ConnectionLost {
        reason: "the consumer's channel is gone".into(),
        confirmed: None,
    })
}

fn consumer_event(m: ConsumerMessage) -> Event {
    match m {
        ConsumerMessage::Delivery(d) => Event::Delivery(Box::new(from_delivery(d))),
        ConsumerMessage::ServerCancelled => Event::Cancelled,
        ConsumerMessage::ClientCancelled
        | ConsumerMessage::ClientClosedChannel
        | ConsumerMessage::ClientClosedConnection => Event::Closed(Error::ConnectionLost {
            reason: "closed by rmq".into(),
            confirmed: None,
        }),
        ConsumerMessage::ServerClosedChannel(e) | ConsumerMessage::ServerClosedConnection(e) => {
            Event::Closed(map_err(e, "", &Ctx::None))
        }
    }
}
