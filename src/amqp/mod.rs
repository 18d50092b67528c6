//! The AMQP boundary: the only module that names amiquip (and amq-protocol). Commands use
//! what is re-exported here — our own message types, a `Session` with its `Publisher` and
//! `ConsumerChannel` — and never an amiquip type. ARCHITECTURE.md.
//!
//! Traps handled inside: we open the TCP stream ourselves with TCP_NODELAY and a connect
//! timeout, bound the AMQP handshake by what is left of it, use a fresh channel for every
//! operation that may fail (a 404/406 kills the channel), never print amiquip errors raw
//! (some print the URL with its password), and keep the write buffer small.

mod connect;
mod consumer;
mod convert;
mod errors;
mod limits;
mod message;
mod publisher;
mod session;
mod tls_stream;

pub use connect::ConnectOptions;
pub use consumer::{Consumer, ConsumerChannel, Event, Next, Relay};
pub use limits::{MAX_PROPERTIES, MAX_SHORT, check_name, check_publish};
pub use message::{
    AckToken, BlockedNotice, ConfirmEvent, Delivery, ExchangeKind, ExchangeSpec, Message,
    Properties, QueueInfo, QueueSpec, Returned, Table, Value,
};
pub use publisher::{PublishMeter, Publisher};
pub use session::{BlockedListener, Session};
