//! Maps amiquip errors and broker close codes to our Error, naming the object and a fix.
//! Never uses amiquip's Display for variants that carry a URL (they print the password).

use super::limits::short_str;
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::kv::shorten;
use std::io;

/// What an operation was about, for error messages.
pub(super) enum Ctx {
    None,
    Queue { name: String, vhost: String },
    Exchange { name: String, vhost: String },
    Binding { queue: String, exchange: String },
}

impl Ctx {
    pub(super) fn queue(name: &str, ep: &Endpoint) -> Ctx {
        Ctx::Queue {
            name: name.into(),
            vhost: ep.vhost.clone(),
        }
    }
    pub(super) fn exchange(name: &str, ep: &Endpoint) -> Ctx {
        Ctx::Exchange {
            name: name.into(),
            vhost: ep.vhost.clone(),
        }
    }
    pub(super) fn binding(queue: &str, exchange: &str, _ep: &Endpoint) -> Ctx {
        Ctx::Binding {
            queue: queue.into(),
            exchange: exchange.into(),
        }
    }
    /// Names longer than AMQP allows, refused before they reach the broker (which would
    /// close the whole connection with a FRAME_ERROR).
    pub(super) fn check_names(&self) -> Result<()> {
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

    pub(super) fn describe(&self) -> String {
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
pub(super) fn map_err(e: amiquip::Error, op: &str, ctx: &Ctx) -> Error {
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

pub(super) fn simple_reason(e: &amiquip::Error) -> String {
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

pub(super) fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset by the broker".into(),
        io::ErrorKind::BrokenPipe => "the broker closed the socket".into(),
        _ => e.to_string(),
    }
}

pub(super) fn channel_error(code: u16, message: String, ctx: &Ctx) -> Error {
    let what = ctx.describe();
    match code {
        // The queue exists, but its node is down or still starting (a restarted node brings
        // its quorum queues and streams up one by one): not a missing object.
        404 if message.contains("is down or inaccessible") => Error::Unreachable {
            target: what,
            reason: message,
            hint: "the queue's node is down or still starting: retry in a few seconds".into(),
        },
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
pub(super) fn object_in_message(message: &str) -> Option<String> {
    let rest = message.split_once(" - no ")?.1;
    Some(rest.to_string())
}

pub(super) fn precondition_hint(message: &str, ctx: &Ctx) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_queue_whose_node_is_down_is_unreachable_not_missing() {
        let ctx = Ctx::Queue {
            name: "s".into(),
            vhost: "/".into(),
        };
        let message = "NOT_FOUND - home node 'rabbit@h' of durable queue 's' in vhost '/' is \
                       down or inaccessible";
        let e = channel_error(404, message.into(), &ctx);
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("queue 's' in vhost '/'"), "{e}");
        assert!(e.hint().unwrap_or_default().contains("retry"), "{e}");
    }
}
