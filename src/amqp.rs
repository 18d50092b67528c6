//! The only module that names amiquip. Everything else speaks the small types defined here.
//!
//! Traps handled here (see shared/AMIQUIP.md): we open the TCP stream ourselves with
//! TCP_NODELAY and a connect timeout, bound the AMQP handshake by what is left of it, use a
//! fresh channel for every operation that may fail (a 404/406 kills the channel), never print
//! amiquip errors raw (some print the URL with its password), and keep the write buffer small.

use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use amiquip::{
    AmqpProperties, AmqpValue, Auth, Channel, Confirm, Connection, ConnectionBlockedNotification,
    ConnectionOptions, ConnectionTuning, ConsumerMessage, ConsumerOptions, ExchangeDeclareOptions,
    ExchangeType, FieldTable, Publish, QueueDeclareOptions, QueueDeleteOptions,
};
use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Our own message types
// ---------------------------------------------------------------------------------------------

/// A header or argument table.
pub type Table = BTreeMap<String, Value>;

/// A field value in a header or argument table.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Boolean.
    Bool(bool),
    /// Any integer type (sent as a signed 64-bit integer).
    Int(i64),
    /// Float or double.
    Float(f64),
    /// AMQP decimal.
    Decimal {
        /// Digits after the point.
        scale: u8,
        /// Unscaled value.
        value: u32,
    },
    /// UTF-8 string.
    Str(String),
    /// Byte array.
    Bytes(Vec<u8>),
    /// Array.
    Array(Vec<Value>),
    /// Nested table.
    Table(Table),
    /// Timestamp (seconds since the epoch).
    Timestamp(u64),
    /// No value.
    Void,
}

/// Basic message properties (only the ones set are `Some`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Properties {
    /// MIME content type.
    pub content_type: Option<String>,
    /// MIME content encoding.
    pub content_encoding: Option<String>,
    /// Application headers.
    pub headers: Option<Table>,
    /// 1 transient, 2 persistent.
    pub delivery_mode: Option<u8>,
    /// Priority 0-255.
    pub priority: Option<u8>,
    /// Correlation id (RPC).
    pub correlation_id: Option<String>,
    /// Reply-to queue (RPC).
    pub reply_to: Option<String>,
    /// Per-message TTL in milliseconds, as a string.
    pub expiration: Option<String>,
    /// Application message id.
    pub message_id: Option<String>,
    /// Timestamp (seconds).
    pub timestamp: Option<u64>,
    /// Message type name.
    pub kind: Option<String>,
    /// Validated user id.
    pub user_id: Option<String>,
    /// Application id.
    pub app_id: Option<String>,
    /// Cluster id (deprecated).
    pub cluster_id: Option<String>,
}

/// A message to publish.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Message {
    /// Body bytes.
    pub body: Vec<u8>,
    /// Properties.
    pub props: Properties,
}

/// What is needed to acknowledge a delivery on the channel that received it.
#[derive(Clone, Debug)]
pub struct AckToken(amiquip::Delivery);

impl AckToken {
    /// The delivery tag.
    pub fn tag(&self) -> u64 {
        self.0.delivery_tag()
    }
}

/// A message taken from a queue.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Exchange it was published to ("" for the default exchange).
    pub exchange: String,
    /// Routing key it was published with.
    pub routing_key: String,
    /// Delivered before.
    pub redelivered: bool,
    /// Body and properties.
    pub message: Message,
    /// Token to ack/nack it with.
    pub token: AckToken,
}

/// A message the broker returned as unroutable.
#[derive(Clone, Debug)]
pub struct Returned {
    /// Reply code (312 NO_ROUTE).
    pub reply_code: u16,
    /// Reply text.
    pub reply_text: String,
    /// Exchange.
    pub exchange: String,
    /// Routing key.
    pub routing_key: String,
    /// The message's id property, if set.
    pub message_id: Option<String>,
    /// The message's correlation id property, if set.
    pub correlation_id: Option<String>,
}

/// Exchange kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExchangeKind {
    /// Every bound queue gets a copy.
    Fanout,
    /// Routing key equals binding key.
    Direct,
    /// Routing key matches a pattern with `*` and `#`.
    Topic,
    /// Headers match binding arguments.
    Headers,
}

impl ExchangeKind {
    /// The broker's name for the type.
    pub fn as_str(self) -> &'static str {
        match self {
            ExchangeKind::Fanout => "fanout",
            ExchangeKind::Direct => "direct",
            ExchangeKind::Topic => "topic",
            ExchangeKind::Headers => "headers",
        }
    }
}

/// Queue declaration flags.
#[derive(Clone, Debug, Default)]
pub struct QueueSpec {
    /// Survives a broker restart.
    pub durable: bool,
    /// Deleted when its last consumer goes.
    pub auto_delete: bool,
    /// Owned by this connection.
    pub exclusive: bool,
    /// x-arguments.
    pub args: Table,
}

/// Exchange declaration flags.
#[derive(Clone, Debug)]
pub struct ExchangeSpec {
    /// Type.
    pub kind: ExchangeKind,
    /// Survives a broker restart.
    pub durable: bool,
    /// Deleted when its last binding goes.
    pub auto_delete: bool,
    /// Only exchanges can publish to it.
    pub internal: bool,
    /// Arguments.
    pub args: Table,
}

/// What a queue declaration reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueInfo {
    /// Name (server-assigned for "").
    pub name: String,
    /// Ready messages.
    pub messages: u32,
    /// Consumers.
    pub consumers: u32,
}

// ---------------------------------------------------------------------------------------------
// Connecting
// ---------------------------------------------------------------------------------------------

/// How to connect.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Brokers to try, in order.
    pub endpoints: Vec<Endpoint>,
    /// TCP connect plus handshake deadline.
    pub timeout: Duration,
    /// TLS settings from the command line.
    pub tls: crate::tls::TlsFiles,
    /// Shown in the management UI ("rmq send").
    pub name: String,
    /// The messages published on this connection are known to be large (64 KiB and more).
    pub large_messages: bool,
}

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
        })
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
        Ok(ConsumerChannel { ch, returns })
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
        let kind = match spec.kind {
            ExchangeKind::Fanout => ExchangeType::Fanout,
            ExchangeKind::Direct => ExchangeType::Direct,
            ExchangeKind::Topic => ExchangeType::Topic,
            ExchangeKind::Headers => ExchangeType::Headers,
        };
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
    pub fn queue_purge(&mut self, queue: &str) -> Result<u32> {
        let ctx = Ctx::queue(queue, &self.endpoint);
        self.once(ctx, |ch| ch.queue_purge(queue))
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

    /// A pending "connection blocked" notice, if the broker sent one.
    pub fn blocked_notice(&self) -> Option<BlockedNotice> {
        let rx = self.blocked.as_ref()?;
        let mut last = None;
        while let Ok(n) = rx.try_recv() {
            last = Some(match n {
                ConnectionBlockedNotification::Blocked(reason) => BlockedNotice::Blocked(reason),
                ConnectionBlockedNotification::Unblocked => BlockedNotice::Unblocked,
            });
        }
        last
    }

    /// A handle another thread can poll for this connection's flow-control notices (it
    /// takes them: poll either this or [`Session::blocked_notice`], not both).
    pub fn blocked_listener(&self) -> Option<BlockedListener> {
        self.blocked.clone().map(BlockedListener)
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
        publisher.ch.forget();
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
/// answers), and rmq must never hang on its way out.
fn bounded(f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    let _ = rx.recv_timeout(Duration::from_secs(1));
}

/// A channel whose close, explicit or on drop, is bounded (see [`bounded`]).
struct Chan(Option<Channel>);

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
    fn forget(mut self) {
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

/// How long the publish (or publisher round trip) under way has been running, if one is:
/// for a watchdog thread. amiquip's `basic_publish` blocks once its write buffer is full,
/// which is what happens while the broker blocks publishers (memory or disk alarm), and then
/// the publishing thread cannot check its own deadline.
pub fn publish_stuck_for() -> Option<Duration> {
    let since = BUSY_SINCE_MS.load(Ordering::SeqCst);
    (since != 0).then(|| Duration::from_millis(ms_since_epoch().saturating_sub(since - 1)))
}

/// Messages published (and handed to the socket) so far by this process, re-sends included.
pub fn published_total() -> u64 {
    PUBLISHED.load(Ordering::SeqCst)
}

static EPOCH: OnceLock<Instant> = OnceLock::new();
/// Start of the call under way, in ms since [`EPOCH`] plus one; 0 when none.
static BUSY_SINCE_MS: AtomicU64 = AtomicU64::new(0);
static PUBLISHED: AtomicU64 = AtomicU64::new(0);

fn ms_since_epoch() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Marks a possibly blocking publisher call for [`publish_stuck_for`].
struct Busy;

impl Busy {
    fn enter() -> Busy {
        BUSY_SINCE_MS.store(ms_since_epoch() + 1, Ordering::SeqCst);
        Busy
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY_SINCE_MS.store(0, Ordering::SeqCst);
    }
}

/// Longest AMQP short string: queue, exchange and vhost names, routing keys, header names,
/// most properties.
pub const MAX_SHORT: usize = 255;
/// Room for the properties and headers of one message: they travel in a single frame, and
/// RabbitMQ's frame_max is 131072 bytes by default (less 8 bytes of frame overhead and a
/// margin for the property flags).
pub const MAX_PROPERTIES: usize = 131_072 - 64;

fn short_str(what: &str, s: &str) -> Result<()> {
    check_short(what, s).map_err(Error::Usage)
}

fn check_short(what: &str, s: &str) -> std::result::Result<(), String> {
    if s.len() > MAX_SHORT {
        Err(format!(
            "{what} '{}' is {} bytes long; AMQP allows at most {MAX_SHORT}",
            shorten(s, 40),
            s.len()
        ))
    } else {
        Ok(())
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        s.to_string()
    } else {
        format!("{}...", &s[..s.floor_char_boundary(max)])
    }
}

/// Can this message be published as it is? Names and properties within AMQP's limits, and
/// headers that fit in a frame. The error says what is wrong (the caller adds where).
pub fn check_publish(
    exchange: &str,
    routing_key: &str,
    msg: &Message,
) -> std::result::Result<(), String> {
    check_short("exchange name", exchange)?;
    check_short("routing key", routing_key)?;
    let p = &msg.props;
    for (what, v) in [
        ("content-type", &p.content_type),
        ("content-encoding", &p.content_encoding),
        ("correlation-id", &p.correlation_id),
        ("reply-to", &p.reply_to),
        ("expiration", &p.expiration),
        ("message-id", &p.message_id),
        ("type", &p.kind),
        ("user-id", &p.user_id),
        ("app-id", &p.app_id),
        ("cluster-id", &p.cluster_id),
    ] {
        if let Some(v) = v {
            check_short(what, v)?;
        }
    }
    if let Some(e) = &p.expiration
        && e.parse::<u32>().is_err()
    {
        return Err(format!(
            "expiration '{}' is not a number of milliseconds (0 to 4294967295)",
            shorten(e, 40)
        ));
    }
    if let Some(h) = &p.headers {
        check_table_keys(h)?;
        let size = table_size(h);
        if size > MAX_PROPERTIES {
            return Err(format!(
                "the headers take {size} bytes; with the other properties they must fit in one \
                 frame (RabbitMQ's frame_max, 131072 bytes by default): put large data in the body"
            ));
        }
    }
    Ok(())
}

fn check_table_keys(t: &Table) -> std::result::Result<(), String> {
    for (k, v) in t {
        check_short("header name", k)?;
        match v {
            Value::Table(t) => check_table_keys(t)?,
            Value::Array(a) => {
                for x in a {
                    if let Value::Table(t) = x {
                        check_table_keys(t)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Encoded size of a field table (close to the wire size, never less).
fn table_size(t: &Table) -> usize {
    4 + t
        .iter()
        .map(|(k, v)| 1 + k.len() + value_size(v))
        .sum::<usize>()
}

fn value_size(v: &Value) -> usize {
    1 + match v {
        Value::Bool(_) => 1,
        Value::Int(_) | Value::Float(_) | Value::Timestamp(_) => 8,
        Value::Decimal { .. } => 5,
        Value::Str(s) => 4 + s.len(),
        Value::Bytes(b) => 4 + b.len(),
        Value::Array(a) => 4 + a.iter().map(value_size).sum::<usize>(),
        Value::Table(t) => table_size(t),
        Value::Void => 0,
    }
}

/// A broker flow-control notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockedNotice {
    /// Publishing is blocked (reason, e.g. "low on memory").
    Blocked(String),
    /// Publishing may go on.
    Unblocked,
}

fn queue_info(q: &amiquip::Queue) -> QueueInfo {
    QueueInfo {
        name: q.name().to_string(),
        messages: q.declared_message_count().unwrap_or(0),
        consumers: q.declared_consumer_count().unwrap_or(0),
    }
}

fn open_one(ep: &Endpoint, opts: &ConnectOptions) -> Result<Session> {
    short_str("vhost", &ep.vhost)?;
    let deadline = Instant::now() + ep.connect_timeout.unwrap_or(opts.timeout);
    let target = ep.redacted();
    let stream = tcp_connect(ep, deadline).map_err(|e| unreachable(&target, &e.to_string()))?;
    stream.set_nodelay(true).ok();
    let auth = if ep.auth_external {
        Auth::External
    } else {
        Auth::Plain {
            username: ep.user.clone(),
            password: ep.password.clone(),
        }
    };
    let options = ConnectionOptions::<Auth>::default()
        .auth(auth)
        .virtual_host(ep.vhost.clone())
        .heartbeat(ep.heartbeat)
        .channel_max(ep.channel_max)
        .frame_max(ep.frame_max)
        .information(Some(opts.name.clone()));
    // mem_channel_bound: frames a channel may queue for the I/O thread before publish blocks
    // (amiquip's default 16 makes a fast publisher and the I/O thread wake each other every
    // few messages; 64 cut rmq's CPU per message by a quarter in scripts/bench W1). For large
    // messages the bound is what limits memory: the I/O thread moves every queued frame (up
    // to frame_max, 128 KiB) into its write buffer while the publisher refills the queue, so
    // 64 frames of 1 MiB messages grew it past 20 MB with an 8 MiB confirm window; 8 frames
    // kept it near 11 MB (see send's WINDOW_BYTES_LARGE). A write buffer of 256 KiB keeps
    // the same rate as 1 MiB with 1 MB less peak RSS (W1, W6); amiquip's default is 16 MiB.
    let bound = if opts.large_messages { 8 } else { 64 };
    let tuning = ConnectionTuning::default()
        .buffered_writes_high_water(256 << 10)
        .mem_channel_bound(bound);
    let mut stream = stream;
    // TLS is negotiated on the blocking socket, within the connect deadline.
    let tls = if ep.tls {
        let config = crate::tls::client_config(&tls_files(ep, &opts.tls))?;
        let name = crate::tls::server_name(&tls_domain(ep))?;
        let conn = crate::tls::handshake(config, name, &mut stream, deadline)
            .map_err(|reason| tls_failed(&target, &reason))?;
        Some(conn)
    } else {
        None
    };
    let stream = mio::net::TcpStream::from_stream(stream)
        .map_err(|e| unreachable(&target, &e.to_string()))?;
    // amiquip's handshake fails after this long with nothing from the broker: a silent port
    // ends at the deadline. (It is a wait per read, not in all, so a server trickling bytes
    // could take longer; a thread of ours holding a hard deadline cost more time per
    // one-message send than a round trip.)
    let left = deadline.saturating_duration_since(Instant::now());
    let options = options.connection_timeout(Some(left));
    let opened = match tls {
        Some(conn) => Connection::insecure_open_stream(
            crate::tls::TlsStream::new(stream, conn),
            options,
            tuning,
        ),
        None => Connection::insecure_open_stream(stream, options, tuning),
    };
    let mut conn = match opened {
        Ok(c) => c,
        Err(amiquip::Error::ConnectionTimeout) => {
            return Err(unreachable(
                &target,
                "no AMQP handshake within the connect timeout (is it a RabbitMQ AMQP port?)",
            ));
        }
        Err(e) => return Err(map_connect_err(e, ep)),
    };
    let blocked = conn.listen_for_connection_blocked().ok();
    crate::log::info(&format!("connected to {target}"));
    Ok(Session {
        conn: Some(conn),
        endpoint: ep.clone(),
        blocked,
        spare: None,
    })
}

fn tcp_connect(ep: &Endpoint, deadline: Instant) -> io::Result<TcpStream> {
    let addrs: Vec<SocketAddr> = (ep.host.as_str(), ep.port).to_socket_addrs()?.collect();
    // Prefer IPv4 first: brokers often listen on 127.0.0.1 only while "localhost" is ::1 too.
    let mut addrs = addrs;
    addrs.sort_by_key(|a| !a.is_ipv4());
    let mut last = io::Error::new(io::ErrorKind::NotFound, "host name resolved to no address");
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"));
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn tls_domain(ep: &Endpoint) -> String {
    ep.server_name.clone().unwrap_or_else(|| ep.host.clone())
}

/// The TLS files and verification for `ep`: command-line options first, then the URL's
/// query (cacertfile=, certfile=, keyfile=, verify=verify_none).
fn tls_files(ep: &Endpoint, tls: &crate::tls::TlsFiles) -> crate::tls::TlsFiles {
    crate::tls::TlsFiles {
        cacert: tls.cacert.clone().or_else(|| ep.cacertfile.clone()),
        cert: tls.cert.clone().or_else(|| ep.certfile.clone()),
        key: tls.key.clone().or_else(|| ep.keyfile.clone()),
        insecure: tls.insecure || ep.verify_none,
    }
}

fn tls_failed(target: &str, reason: &str) -> Error {
    Error::Unreachable {
        target: target.to_string(),
        reason: format!("TLS handshake failed: {reason}"),
        hint: "check --cacert (or --insecure to skip verification) and that the port speaks TLS"
            .into(),
    }
}

impl amiquip::IoStream for crate::tls::TlsStream {}

fn unreachable(target: &str, reason: &str) -> Error {
    Error::Unreachable {
        target: target.to_string(),
        reason: reason.to_string(),
        hint: "check that RabbitMQ is running and the host/port are right (--url, RMQ_URL, \
               --connect-timeout)"
            .to_string(),
    }
}

fn map_connect_err(e: amiquip::Error, ep: &Endpoint) -> Error {
    let target = ep.redacted();
    match e {
        amiquip::Error::InvalidCredentials => Error::AccessRefused {
            what: format!("{target} as user '{}'", ep.user),
            reason: "the broker refused the user name or password".into(),
            hint: "check --user and the password (--password-file or RMQ_PASSWORD)".into(),
        },
        amiquip::Error::ServerClosedConnection { code, message } if code == 530 || code == 403 => {
            if message.contains("not found") {
                Error::NotFound {
                    what: format!("vhost '{}'", ep.vhost),
                    reason: message,
                    hint: "create it with rabbitmqctl add_vhost, or pick another with --vhost"
                        .into(),
                }
            } else {
                Error::AccessRefused {
                    what: format!("vhost '{}' for user '{}'", ep.vhost, ep.user),
                    reason: message,
                    hint: format!(
                        "grant access: rabbitmqctl set_permissions -p '{}' '{}' '.*' '.*' '.*'",
                        ep.vhost, ep.user
                    ),
                }
            }
        }
        amiquip::Error::UnsupportedAuthMechanism {
            available,
            requested,
        } => Error::AccessRefused {
            what: target,
            reason: format!("auth mechanism {requested} not offered (broker offers {available})"),
            hint: "enable rabbitmq_auth_mechanism_ssl for EXTERNAL, or use a password".into(),
        },
        other => {
            let mapped = map_err(other, "connect", &Ctx::None);
            match mapped {
                Error::ConnectionLost { reason, .. } => unreachable(&target, &reason),
                m => m,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Error mapping
// ---------------------------------------------------------------------------------------------

/// What an operation was about, for error messages.
enum Ctx {
    None,
    Queue { name: String, vhost: String },
    Exchange { name: String, vhost: String },
    Binding { queue: String, exchange: String },
}

impl Ctx {
    fn queue(name: &str, ep: &Endpoint) -> Ctx {
        Ctx::Queue {
            name: name.into(),
            vhost: ep.vhost.clone(),
        }
    }
    fn exchange(name: &str, ep: &Endpoint) -> Ctx {
        Ctx::Exchange {
            name: name.into(),
            vhost: ep.vhost.clone(),
        }
    }
    fn binding(queue: &str, exchange: &str, _ep: &Endpoint) -> Ctx {
        Ctx::Binding {
            queue: queue.into(),
            exchange: exchange.into(),
        }
    }
    /// Names longer than AMQP allows, refused before they reach the broker (which would
    /// close the whole connection with a FRAME_ERROR).
    fn check_names(&self) -> Result<()> {
        match self {
            Ctx::None => Ok(()),
            Ctx::Queue { name, .. } => short_str("queue name", name),
            Ctx::Exchange { name, .. } => short_str("exchange name", name),
            Ctx::Binding { queue, exchange } => {
                short_str("queue name", queue)?;
                short_str("exchange name", exchange)
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            Ctx::None => "the broker".into(),
            Ctx::Queue { name, vhost } => format!("queue '{name}' in vhost '{vhost}'"),
            Ctx::Exchange { name, vhost } => format!("exchange '{name}' in vhost '{vhost}'"),
            Ctx::Binding { queue, exchange } => {
                format!("binding of queue '{queue}' to exchange '{exchange}'")
            }
        }
    }
}

/// Turn an amiquip error into ours. Never uses amiquip's Display for URL-carrying variants.
fn map_err(e: amiquip::Error, op: &str, ctx: &Ctx) -> Error {
    use amiquip::Error as A;
    match e {
        A::ServerClosedChannel { code, message, .. } => channel_error(code, message, ctx),
        A::ServerClosedConnection { code, message } => match code {
            // The broker refused what we sent (FRAME_ERROR, SYNTAX_ERROR, COMMAND_INVALID,
            // UNEXPECTED_FRAME, RESOURCE_ERROR, INTERNAL_ERROR): sending it again on a new
            // connection would fail the same way, so this is no reason to reconnect. (540
            // NOT_IMPLEMENTED stays a lost connection: queue-delete handles it.)
            501..=506 | 541 => Error::Other(format!(
                "the broker closed the connection: {} (code {code}){}",
                shorten(&message, 200),
                if message.contains("frame_too_large") {
                    "; the message's headers and properties must fit in one frame (frame_max)"
                } else {
                    ""
                }
            )),
            403 | 530 => Error::AccessRefused {
                what: ctx.describe(),
                reason: message,
                hint: "check the user's permissions (rabbitmqctl list_permissions)".into(),
            },
            _ => Error::ConnectionLost {
                reason: format!("the broker closed the connection: {message} (code {code})"),
                confirmed: None,
            },
        },
        A::InvalidCredentials => Error::AccessRefused {
            what: "the broker".into(),
            reason: "the broker refused the user name or password".into(),
            hint: "check --user and the password".into(),
        },
        A::IoErrorReadingSocket { source } | A::IoErrorWritingSocket { source } => {
            Error::ConnectionLost {
                reason: io_reason(&source),
                confirmed: None,
            }
        }
        A::FailedToConnect { source, .. } | A::ResolveUrlToSocketAddr { source, .. } => {
            Error::ConnectionLost {
                reason: io_reason(&source),
                confirmed: None,
            }
        }
        A::UnexpectedSocketClose
        | A::MissedServerHeartbeats
        | A::EventLoopDropped
        | A::EventLoopClientDropped
        | A::ClientClosedConnection
        | A::ConnectionTimeout => Error::ConnectionLost {
            reason: simple_reason(&e),
            confirmed: None,
        },
        A::UrlParseError { .. }
        | A::InsecureUrl { .. }
        | A::UrlNoSocketAddrs { .. }
        | A::SpecifyUrlPort { .. }
        | A::InvalidUrlScheme { .. }
        | A::UrlMissingDomain { .. }
        | A::ExtraUrlPathSegments { .. }
        | A::UrlParseHeartbeat { .. }
        | A::UrlParseChannelMax { .. }
        | A::UrlParseConnectionTimeout { .. }
        | A::UrlInvalidAuthMechanism { .. }
        | A::UrlUnsupportedParameter { .. } => Error::Usage("invalid broker URL".into()),
        other => {
            let what = if op.is_empty() {
                ctx.describe()
            } else {
                op.to_string()
            };
            Error::Other(format!("{what}: {}", simple_reason(&other)))
        }
    }
}

fn simple_reason(e: &amiquip::Error) -> String {
    use amiquip::Error as A;
    match e {
        A::UnexpectedSocketClose => "the broker closed the socket".into(),
        A::MissedServerHeartbeats => "missed heartbeats from the broker".into(),
        A::EventLoopDropped | A::EventLoopClientDropped => "the connection is gone".into(),
        A::ClientClosedConnection => "the connection was closed".into(),
        A::ConnectionTimeout => "connect timed out".into(),
        // Display of the remaining variants carries no URL.
        other => other.to_string(),
    }
}

fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset by the broker".into(),
        io::ErrorKind::BrokenPipe => "the broker closed the socket".into(),
        _ => e.to_string(),
    }
}

fn channel_error(code: u16, message: String, ctx: &Ctx) -> Error {
    let what = ctx.describe();
    match code {
        404 => {
            let hint = match ctx {
                Ctx::Exchange { name, .. } => format!(
                    "declare it first: rmq exchange-declare {name} -t fanout|direct|topic|headers \
                     (or give -t to rmq send/receive)"
                ),
                Ctx::Queue { name, .. } => {
                    format!("declare it first: rmq queue-declare {name} (or drop --no-declare)")
                }
                Ctx::Binding { .. } => "declare the queue and the exchange first".into(),
                Ctx::None => "declare the queue or exchange first".into(),
            };
            Error::NotFound {
                what: object_in_message(&message).unwrap_or(what),
                reason: message,
                hint,
            }
        }
        406 | 405 => {
            let hint = precondition_hint(&message, ctx);
            Error::Precondition {
                what,
                reason: message,
                hint,
            }
        }
        403 => Error::AccessRefused {
            what,
            reason: message,
            hint: "check the user's permissions (rabbitmqctl list_permissions)".into(),
        },
        _ => Error::Other(format!("{what}: {message} (code {code})")),
    }
}

/// "NOT_FOUND - no exchange 'x' in vhost '/'" → "exchange 'x' in vhost '/'".
fn object_in_message(message: &str) -> Option<String> {
    let rest = message.split_once(" - no ")?.1;
    Some(rest.to_string())
}

fn precondition_hint(message: &str, ctx: &Ctx) -> String {
    let name = match ctx {
        Ctx::Queue { name, .. } | Ctx::Exchange { name, .. } => name.as_str(),
        _ => "",
    };
    let delete = match ctx {
        Ctx::Exchange { .. } => format!("rmq exchange-delete {name}"),
        _ => format!("rmq queue-delete {name}"),
    };
    if message.contains("inequivalent arg") {
        format!(
            "use the object as it is (drop the contradicting flag), or delete it first: {delete}"
        )
    } else if message.contains("in use") || message.contains("not empty") {
        "drop --if-unused/--if-empty, or consume/purge it first".into()
    } else if message.contains("exclusive") || message.contains("locked") {
        "the queue is exclusive to another connection; use another name".into()
    } else {
        "check the arguments against the existing object".into()
    }
}

// ---------------------------------------------------------------------------------------------
// Publishing
// ---------------------------------------------------------------------------------------------

/// A publisher-confirm event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfirmEvent {
    /// Acked up to `tag` (all ≤ tag when `multiple`).
    Ack {
        /// Delivery tag.
        tag: u64,
        /// Covers all earlier tags too.
        multiple: bool,
    },
    /// Nacked.
    Nack {
        /// Delivery tag.
        tag: u64,
        /// Covers all earlier tags too.
        multiple: bool,
    },
}

/// A channel set up for publishing.
pub struct Publisher {
    ch: Chan,
    confirms: Option<crossbeam_channel::Receiver<Confirm>>,
    returns: crossbeam_channel::Receiver<amiquip::Return>,
    published: u64,
}

impl Publisher {
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
        let busy = Busy::enter();
        let r = self.ch.basic_publish(exchange, publish);
        drop(busy);
        match r {
            Ok(()) => {
                PUBLISHED.fetch_add(1, Ordering::SeqCst);
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
        let first = match rx.recv_timeout(timeout) {
            Ok(c) => c,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => return Ok(Vec::new()),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                return Err(self.closed_reason(exchange));
            }
        };
        let mut out = vec![confirm_event(first)];
        while let Ok(c) = rx.try_recv() {
            out.push(confirm_event(c));
        }
        Ok(out)
    }

    /// Returned (unroutable) messages that have arrived so far.
    pub fn returned(&self) -> Vec<Returned> {
        self.returns.try_iter().map(to_returned).collect()
    }

    /// A round trip to the broker: surfaces a channel error (e.g. a missing exchange) and makes
    /// sure every return for what was published so far has arrived.
    pub fn sync(&mut self, exchange: &str) -> Result<()> {
        let busy = Busy::enter();
        let r = self.ch.qos(0, 0, false);
        drop(busy);
        match r {
            Ok(()) => Ok(()),
            Err(e) => Err(self.explain(e, exchange)),
        }
    }

    fn closed_reason(&mut self, exchange: &str) -> Error {
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
            vhost: String::new(),
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
}

fn to_returned(r: amiquip::Return) -> Returned {
    Returned {
        reply_code: r.reply_code,
        reply_text: r.reply_text,
        exchange: r.exchange,
        routing_key: r.routing_key,
        message_id: r.properties.message_id().clone(),
        correlation_id: r.properties.correlation_id().clone(),
    }
}

fn confirm_event(c: Confirm) -> ConfirmEvent {
    match c {
        Confirm::Ack(p) => ConfirmEvent::Ack {
            tag: p.delivery_tag,
            multiple: p.multiple,
        },
        Confirm::Nack(p) => ConfirmEvent::Nack {
            tag: p.delivery_tag,
            multiple: p.multiple,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Consuming
// ---------------------------------------------------------------------------------------------

/// A channel for consuming and acknowledging.
pub struct ConsumerChannel {
    ch: Chan,
    returns: crossbeam_channel::Receiver<amiquip::Return>,
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
    ch: &'a ConsumerChannel,
}

impl ConsumerChannel {
    /// Start consuming from a queue.
    pub fn consume(&self, queue: &str, no_ack: bool, exclusive: bool) -> Result<Consumer<'_>> {
        short_str("queue name", queue)?;
        let opts = ConsumerOptions {
            no_ack,
            exclusive,
            ..ConsumerOptions::default()
        };
        let ctx = Ctx::Queue {
            name: queue.into(),
            vhost: String::new(),
        };
        let inner = self
            .ch
            .basic_consume(queue, opts)
            .map_err(|e| map_err(e, "", &ctx))?;
        Ok(Consumer { inner, ch: self })
    }

    /// Fetch one message with basic.get (None when the queue is empty).
    pub fn get(&self, queue: &str, no_ack: bool) -> Result<Option<Delivery>> {
        short_str("queue name", queue)?;
        let ctx = Ctx::Queue {
            name: queue.into(),
            vhost: String::new(),
        };
        match self.ch.basic_get(queue, no_ack) {
            Ok(Some(g)) => Ok(Some(to_delivery(g.delivery))),
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
                    vhost: String::new(),
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

    /// Is another delivery already waiting?
    pub fn has_pending(&self) -> bool {
        !self.inner.receiver().is_empty()
    }

    /// The channel this consumer lives on.
    pub fn channel(&self) -> &ConsumerChannel {
        self.ch
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
        ConsumerMessage::Delivery(d) => Event::Delivery(Box::new(to_delivery(d))),
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

fn to_delivery(mut d: amiquip::Delivery) -> Delivery {
    let body = std::mem::take(&mut d.body);
    let props = from_amqp_props(&d.properties);
    d.properties = AmqpProperties::default();
    Delivery {
        exchange: std::mem::take(&mut d.exchange),
        routing_key: std::mem::take(&mut d.routing_key),
        redelivered: d.redelivered,
        message: Message { body, props },
        token: AckToken(d),
    }
}

// ---------------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------------

fn to_field_table(t: &Table) -> FieldTable {
    t.iter()
        .map(|(k, v)| (k.clone(), to_amqp_value(v)))
        .collect()
}

fn to_amqp_value(v: &Value) -> AmqpValue {
    match v {
        Value::Bool(b) => AmqpValue::Boolean(*b),
        Value::Int(i) => AmqpValue::LongLongInt(*i),
        Value::Float(f) => AmqpValue::Double(*f),
        Value::Decimal { scale, value } => {
            AmqpValue::DecimalValue(amq_protocol_types_decimal(*scale, *value))
        }
        Value::Str(s) => AmqpValue::LongString(s.clone()),
        Value::Bytes(b) => AmqpValue::ByteArray(b.clone()),
        Value::Array(a) => AmqpValue::FieldArray(a.iter().map(to_amqp_value).collect()),
        Value::Table(t) => AmqpValue::FieldTable(to_field_table(t)),
        Value::Timestamp(t) => AmqpValue::Timestamp(*t),
        Value::Void => AmqpValue::Void,
    }
}

fn amq_protocol_types_decimal(scale: u8, value: u32) -> amq_protocol_types::DecimalValue {
    amq_protocol_types::DecimalValue { scale, value }
}

fn from_field_table(t: &FieldTable) -> Table {
    t.iter()
        .map(|(k, v)| (k.clone(), from_amqp_value(v)))
        .collect()
}

fn from_amqp_value(v: &AmqpValue) -> Value {
    match v {
        AmqpValue::Boolean(b) => Value::Bool(*b),
        AmqpValue::ShortShortInt(i) => Value::Int(i64::from(*i)),
        AmqpValue::ShortShortUInt(i) => Value::Int(i64::from(*i)),
        AmqpValue::ShortInt(i) => Value::Int(i64::from(*i)),
        AmqpValue::ShortUInt(i) => Value::Int(i64::from(*i)),
        AmqpValue::LongInt(i) => Value::Int(i64::from(*i)),
        AmqpValue::LongUInt(i) => Value::Int(i64::from(*i)),
        AmqpValue::LongLongInt(i) => Value::Int(*i),
        AmqpValue::Float(f) => Value::Float(f64::from(*f)),
        AmqpValue::Double(f) => Value::Float(*f),
        AmqpValue::DecimalValue(d) => Value::Decimal {
            scale: d.scale,
            value: d.value,
        },
        AmqpValue::LongString(s) => Value::Str(s.clone()),
        AmqpValue::FieldArray(a) => Value::Array(a.iter().map(from_amqp_value).collect()),
        AmqpValue::Timestamp(t) => Value::Timestamp(*t),
        AmqpValue::FieldTable(t) => Value::Table(from_field_table(t)),
        AmqpValue::ByteArray(b) => Value::Bytes(b.clone()),
        AmqpValue::Void => Value::Void,
    }
}

fn to_amqp_props(p: &Properties) -> AmqpProperties {
    let mut a = AmqpProperties::default();
    macro_rules! set {
        ($field:ident, $with:ident) => {
            if let Some(v) = &p.$field {
                a = a.$with(v.clone());
            }
        };
    }
    set!(content_type, with_content_type);
    set!(content_encoding, with_content_encoding);
    set!(delivery_mode, with_delivery_mode);
    set!(priority, with_priority);
    set!(correlation_id, with_correlation_id);
    set!(reply_to, with_reply_to);
    set!(expiration, with_expiration);
    set!(message_id, with_message_id);
    set!(timestamp, with_timestamp);
    set!(kind, with_type_);
    set!(user_id, with_user_id);
    set!(app_id, with_app_id);
    set!(cluster_id, with_cluster_id);
    if let Some(h) = &p.headers {
        a = a.with_headers(to_field_table(h));
    }
    a
}

fn from_amqp_props(a: &AmqpProperties) -> Properties {
    Properties {
        content_type: a.content_type().clone(),
        content_encoding: a.content_encoding().clone(),
        headers: a.headers().as_ref().map(from_field_table),
        delivery_mode: *a.delivery_mode(),
        priority: *a.priority(),
        correlation_id: a.correlation_id().clone(),
        reply_to: a.reply_to().clone(),
        expiration: a.expiration().clone(),
        message_id: a.message_id().clone(),
        timestamp: *a.timestamp(),
        kind: a.type_().clone(),
        user_id: a.user_id().clone(),
        app_id: a.app_id().clone(),
        cluster_id: a.cluster_id().clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_round_trip_through_amiquip() {
        let mut headers = Table::new();
        headers.insert("a".into(), Value::Int(-5));
        headers.insert("b".into(), Value::Bytes(vec![0, 255]));
        headers.insert(
            "c".into(),
            Value::Array(vec![Value::Str("x".into()), Value::Bool(true)]),
        );
        let p = Properties {
            content_type: Some("text/plain".into()),
            headers: Some(headers),
            delivery_mode: Some(2),
            priority: Some(9),
            timestamp: Some(1_700_000_000),
            kind: Some("t".into()),
            ..Properties::default()
        };
        assert_eq!(from_amqp_props(&to_amqp_props(&p)), p);
    }

    #[test]
    fn not_found_names_the_object() {
        let e = channel_error(
            404,
            "NOT_FOUND - no exchange 'nope' in vhost '/'".into(),
            &Ctx::None,
        );
        assert_eq!(e.exit_code(), 5);
        assert!(e.to_string().starts_with("exchange 'nope' in vhost '/'"));
    }
}
