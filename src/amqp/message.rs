//! Our own message and object types: what commands speak instead of amiquip's.
//! Plain data only; conversions to amiquip live in convert.rs.

use std::collections::BTreeMap;

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
pub struct AckToken(pub(super) amiquip::Delivery);

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
    /// The returned message itself (body and properties), to tell it from its neighbours.
    pub message: Message,
}

/// Exchange kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// A broker flow-control notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockedNotice {
    /// Publishing is blocked (reason, e.g. "low on memory").
    Blocked(String),
    /// Publishing may go on.
    Unblocked,
}

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
