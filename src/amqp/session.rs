//! An open connection (Session): channels, the declare/bind/delete operations, flow-control
//! notices, and closes that never hang (bounded waits).

use super::connect::{ConnectOptions, open_one};
use super::consumer::ConsumerChannel;
use super::convert::{exchange_type, queue_info, to_field_table};
use super::errors::{Ctx, map_err};
use super::limits::short_str;
use super::message::{BlockedNotice, ExchangeSpec, QueueInfo, QueueSpec, Table, Value};
use super::publisher::Publisher;
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use amiquip::{
    Channel, Connection, ConnectionBlockedNotification, ExchangeDeclareOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use std::sync::mpsc;
use std::time::Duration;

/// An open AMQP connection.
pub struct Session {
    conn: Option<Connection>,
    endpoint: Endpoint,
    blocked: Option<crossbeam_channel::Receiver<ConnectionBlockedNotification>>,
    /// A channel that a successful operation left healthy, taken by the next one: a one-message
    /// `send` then skips one channel.close and one channel.open (two round trips).
    spare: Option<Chan>,
}

impl Session {
    /// A session over a connection that connect.rs opened.
    pub(super) fn new(
        conn: Connection,
        endpoint: Endpoint,
        blocked: Option<crossbeam_channel::Receiver<ConnectionBlockedNotification>>,
    ) -> Session {
        Session {
            conn: Some(conn),
            endpoint,
            blocked,
            spare: None,
        }
    }

    /// Connect to the first endpoint that answers.
    pub fn open(opts: &ConnectOptions) -> Result<Session> {
        let mut last = None;
        for ep in &opts.endpoints {
            match open_one(ep, opts) {
                Ok(s) => return Ok(s),
                // Wrong credentials or vhost are the same on every node: stop at once.
                Err(e @ (Error::AccessRefused { .. } | Error::NotFound { .. })) => return Err(e),
                Err(Error::Usage(m)) => return Err(Error::Usage(m)),
                Err(e) => {
                    crate::log::debug(&format!("{}: {e}", ep.redacted()));
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::Usage("no broker URL given".into())))
    }

    /// The broker this session is connected to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn conn(&mut self) -> Result<&mut Connection> {
        self.conn
            .as_mut()
            .ok_or_else(|| Error::Other("connection already closed".into()))
    }

    fn raw_channel(&mut self) -> Result<Chan> {
        if let Some(ch) = self.spare.take() {
            return Ok(ch);
        }
        let conn = self.conn()?;
        conn.open_channel(None)
            .map(|ch| Chan(Some(ch)))
            .map_err(|e| map_err(e, "channel", &Ctx::None))
    }

    /// A channel for publishing: confirms (optional) and a return listener.
    pub fn publisher(&mut self, confirms: bool) -> Result<Publisher> {
        let ch = self.raw_channel()?;
        Publisher::new(ch, confirms, &self.endpoint.vhost)
    }

    /// A channel for consuming (and for publishing replies: it has a return listener).
    pub fn consumer_channel(&mut self, prefetch: Option<u16>) -> Result<ConsumerChannel> {
        let ch = self.raw_channel()?;
        if let Some(n) = prefetch {
            ch.qos(0, n, false)
                .map_err(|e| map_err(e, "basic.qos", &Ctx::None))?;
        }
        let returns = ch
            .listen_for_returns()
            .map_err(|e| map_err(e, "", &Ctx::None))?;
        Ok(ConsumerChannel::new(ch, returns, &self.endpoint.vhost))
    }

    /// Run one operation on a fresh channel (a 404/406 kills the channel it happens on), with
    /// errors described by `ctx`. After a success the channel is healthy: it is kept for the
    /// next operation instead of being closed.
    fn once<T>(&mut self, ctx: Ctx, op: impl FnOnce(&Channel) -> amiquip::Result<T>) -> Result<T> {
        ctx.check_names()?;
        let ch = self.raw_channel()?;
        let r = op(&ch).map_err(|e| map_err(e, "", &ctx));
        if r.is_ok() {
            self.spare = Some(ch);
        }
        r
    }

    /// Passive queue declare: `None` when the queue does not exist.
    pub fn queue_inspect(&mut self, name: &str) -> Result<Option<QueueInfo>> {
        let ctx = Ctx::queue(name, &self.endpoint);
        match self.once(ctx, |ch| {
            ch.queue_declare_passive(name).map(|q| queue_info(&q))
        }) {
            Ok(info) => Ok(Some(info)),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Is the existing queue `name` a stream? `Err(kind)` names what it is otherwise
    /// ("classic", "quorum", "transient classic"). AMQP has no way to ask, so this declares
    /// it again as a durable stream: the broker accepts that for a stream and names the
    /// differing type (or durability) for anything else. Call it only for a queue known to
    /// exist (it would create a stream otherwise). A stream whose other arguments differ is
    /// refused on one of those, which still says the type matched.
    pub fn stream_check(&mut self, name: &str) -> Result<std::result::Result<(), String>> {
        let spec = QueueSpec {
            durable: true,
            args: Table::from([("x-queue-type".to_string(), Value::Str("stream".into()))]),
            ..QueueSpec::default()
        };
        match self.queue_declare(name, &spec) {
            Ok(_) => Ok(Ok(())),
            Err(Error::Precondition { reason, .. }) => {
                Ok(not_a_stream(&reason).map_or(Ok(()), Err))
            }
            Err(other) => Err(other),
        }
    }

    /// Declare a queue exactly ("" gets a server-assigned name).
    pub fn queue_declare(&mut self, name: &str, spec: &QueueSpec) -> Result<QueueInfo> {
        let opts = QueueDeclareOptions {
            durable: spec.durable,
            exclusive: spec.exclusive,
            auto_delete: spec.auto_delete,
            arguments: to_field_table(&spec.args),
        };
        let ctx = Ctx::queue(name, &self.endpoint);
        self.once(ctx, |ch| {
            ch.queue_declare(name, opts).map(|q| queue_info(&q))
        })
    }

    /// Does the exchange exist?
    pub fn exchange_exists(&mut self, name: &str) -> Result<bool> {
        if name.is_empty() || name.starts_with("amq.") {
            // The default exchange cannot be declared passively; amq.* always exist.
            return Ok(true);
        }
        let ctx = Ctx::exchange(name, &self.endpoint);
        match self.once(ctx, |ch| ch.exchange_declare_passive(name).map(|_| ())) {
            Ok(()) => Ok(true),
            Err(Error::NotFound { .. }) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// Declare an exchange exactly.
    pub fn exchange_declare(&mut self, name: &str, spec: &ExchangeSpec) -> Result<()> {
        let kind = exchange_type(spec.kind);
        let opts = ExchangeDeclareOptions {
            durable: spec.durable,
            auto_delete: spec.auto_delete,
            internal: spec.internal,
            arguments: to_field_table(&spec.args),
        };
        let ctx = Ctx::exchange(name, &self.endpoint);
        self.once(ctx, |ch| ch.exchange_declare(kind, name, opts).map(|_| ()))
    }

    /// Bind a queue to an exchange (`bind`), or remove that binding (`!bind`).
    pub fn queue_binding(
        &mut self,
        bind: bool,
        queue: &str,
        exchange: &str,
        key: &str,
        args: &Table,
    ) -> Result<()> {
        short_str("routing key", key)?;
        let ctx = Ctx::binding(queue, exchange, &self.endpoint);
        let args = to_field_table(args);
        self.once(ctx, |ch| {
            if bind {
                ch.queue_bind(queue, exchange, key, args)
            } else {
                ch.queue_unbind(queue, exchange, key, args)
            }
        })
    }

    /// Bind a queue to an exchange.
    pub fn queue_bind(
        &mut self,
        queue: &str,
        exchange: &str,
        key: &str,
        args: &Table,
    ) -> Result<()> {
        self.queue_binding(true, queue, exchange, key, args)
    }

    /// Purge a queue; returns how many messages were removed.
    ///
    /// A stream refuses to be purged: exit 6 with the broker's words.
    pub fn queue_purge(&mut self, queue: &str) -> Result<u32> {
        let ctx = Ctx::queue(queue, &self.endpoint);
        let what = ctx.describe();
        self.once(ctx, |ch| ch.queue_purge(queue))
            .map_err(|e| match e {
                // A stream answers queue.purge with 540 NOT_IMPLEMENTED, closing the connection:
                // that is a refusal of this queue, not a lost broker.
                Error::ConnectionLost { reason, .. } if reason.contains("(code 540)") => {
                    Error::Precondition {
                        what,
                        reason: reason
                            .trim_start_matches("the broker closed the connection: ")
                            .to_string(),
                        hint: "a stream cannot be purged: its retention (--max-age, \
                               --max-length-bytes) removes old messages, or delete it with \
                               rmq queue-delete"
                            .into(),
                    }
                }
                other => other,
            })
    }

    /// Delete a queue; returns how many messages it held.
    pub fn queue_delete(&mut self, queue: &str, if_unused: bool, if_empty: bool) -> Result<u32> {
        let ctx = Ctx::queue(queue, &self.endpoint);
        let opts = QueueDeleteOptions {
            if_unused,
            if_empty,
        };
        self.once(ctx, |ch| ch.queue_delete(queue, opts))
    }

    /// Delete an exchange.
    pub fn exchange_delete(&mut self, exchange: &str, if_unused: bool) -> Result<()> {
        let ctx = Ctx::exchange(exchange, &self.endpoint);
        self.once(ctx, |ch| ch.exchange_delete(exchange, if_unused))
    }

    /// A handle another thread can poll for this connection's flow-control notices.
    pub fn blocked_listener(&self) -> Option<BlockedListener> {
        self.blocked.clone().map(BlockedListener)
    }

    /// After a consumer or publisher lost the connection: the I/O thread's own reason when
    /// it has one ("missed heartbeats from the broker" rather than "the channel is gone").
    /// The connection is done for either way; this closes it (bounded).
    pub fn why_lost(&mut self, e: Error) -> Error {
        let Error::ConnectionLost { confirmed, .. } = e else {
            return e;
        };
        let Some(conn) = self.conn.take() else {
            return e;
        };
        match bounded(move || conn.close()) {
            Some(Err(io)) => match map_err(io, "", &Ctx::None) {
                Error::ConnectionLost { reason, .. } => Error::ConnectionLost { reason, confirmed },
                other => other,
            },
            _ => e,
        }
    }

    /// Close the connection cleanly (bounded: a dead broker does not make us hang).
    pub fn close(mut self) {
        self.shut();
    }

    /// Close the connection, and with it the publisher's channel: closing that channel
    /// afterwards would only ask the ended I/O thread, from one more thread (a tenth of a
    /// millisecond of a one-message send).
    pub fn close_with(self, publisher: Publisher) {
        self.close();
        publisher.forget();
    }

    /// connection.close takes every channel with it: the spare one is let go afterwards
    /// without a close of its own (no round trip, no thread, and no second bounded wait when
    /// the broker did not answer).
    fn shut(&mut self) {
        let spare = self.spare.take();
        if let Some(conn) = self.conn.take() {
            close_bounded(conn);
        }
        if let Some(spare) = spare {
            spare.forget();
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.shut();
    }
}

fn close_bounded(conn: Connection) {
    bounded(move || {
        let _ = conn.close();
    });
}

/// Run a blocking amiquip call on a thread and stop waiting for it after 1 s: amiquip's
/// closes wait for the broker's answer with no deadline (a blocked or dead broker never
/// answers), and rmq must never hang on its way out. `None` when it did not return in time.
fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(1)).ok()
}

/// A channel whose close, explicit or on drop, is bounded (see [`bounded`]).
pub(super) struct Chan(Option<Channel>);

impl std::ops::Deref for Chan {
    type Target = Channel;
    fn deref(&self) -> &Channel {
        match &self.0 {
            Some(ch) => ch,
            // Only `Drop` takes the channel out.
            None => unreachable!("channel used after drop"),
        }
    }
}

impl Chan {
    /// Let the channel go without closing it (its connection is closed).
    pub(super) fn forget(mut self) {
        if let Some(ch) = self.0.take() {
            std::mem::forget(ch);
        }
    }
}

impl Drop for Chan {
    fn drop(&mut self) {
        if let Some(ch) = self.0.take() {
            bounded(move || {
                let _ = ch.close();
            });
        }
    }
}

/// Polls a connection's flow-control notices from any thread.
pub struct BlockedListener(crossbeam_channel::Receiver<ConnectionBlockedNotification>);

impl BlockedListener {
    /// The latest notice that arrived since the last poll, if any.
    pub fn poll(&self) -> Option<BlockedNotice> {
        let mut last = None;
        while let Ok(n) = self.0.try_recv() {
            last = Some(match n {
                ConnectionBlockedNotification::Blocked(reason) => BlockedNotice::Blocked(reason),
                ConnectionBlockedNotification::Unblocked => BlockedNotice::Unblocked,
            });
        }
        last
    }
}

/// The queue's kind when a stream re-declaration was refused for its type or durability;
/// `None` when the broker objected to another argument (the type matched).
fn not_a_stream(reason: &str) -> Option<String> {
    if reason.contains("inequivalent arg 'durable'") {
        return Some("transient classic".into());
    }
    if !reason.contains("inequivalent arg 'x-queue-type'") {
        return None;
    }
    let current = reason.rsplit("current is ").next().unwrap_or("");
    Some(match current.trim_matches('\'') {
        "none" => "classic".to_string(),
        other => other.to_string(),
    })
}
