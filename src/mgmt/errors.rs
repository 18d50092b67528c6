//! How a failed management API request becomes rmq's error: the status, the broker's reason
//! and the transport failure mapped to an exit code, naming the API (redacted) and the fix.
//! The requests themselves are mod.rs's; nothing here sends one, but `judge`'s check of
//! `/api/overview` (is there an API at all?).

use super::{Api, ENABLE_HINT, Subject, TIMEOUT_ENV};
use crate::error::Error;
use serde_json::Value;

impl Api {
    /// A failed request as rmq's error: a 4xx other than 401/403 is checked against
    /// `/api/overview` (is there a management API at all?) and then reported as `subject`
    /// not found (404) or refused (400).
    pub(super) fn judge(&self, f: Failure, path: &str, subject: &Subject) -> Error {
        match f {
            Failure::Status(code, reason)
                if (400..500).contains(&code) && code != 401 && code != 403 =>
            {
                // Is there a management API at all under this base URL?
                match self.request("GET", "/api/overview", None) {
                    Ok(_) if code == 404 => Error::NotFound {
                        what: subject.describe(),
                        reason: format!(
                            "the management API answered 404 for {}",
                            strip_query(path)
                        ),
                        hint: subject.hint(),
                    },
                    Ok(_) if code == 400 => Error::Usage(format!(
                        "{}: the broker refused it: {}",
                        subject.describe(),
                        with_default(reason, "HTTP 400 Bad Request")
                    )),
                    Ok(_) => self.explain(Failure::Status(code, reason), path),
                    Err(Failure::Status(c, _)) if c != 401 && c != 403 => Error::Unreachable {
                        target: format!("the management API at {}", self.shown()),
                        reason: format!(
                            "HTTP {c} for /api/overview: no RabbitMQ management API there"
                        ),
                        hint: "--api-url should be the management UI's address, e.g. \
                               http://localhost:15672 (plus its path prefix, if one is set)"
                            .into(),
                    },
                    Err(f) => self.explain(f, "/api/overview"),
                }
            }
            f => self.explain(f, path),
        }
    }

    pub(super) fn explain(&self, f: Failure, path: &str) -> Error {
        let target = format!("the management API at {}", self.shown());
        match f {
            Failure::Status(401, reason) => Error::AccessRefused {
                what: format!("{target} as user '{}'", self.user),
                reason: with_default(reason, "HTTP 401 Unauthorized"),
                hint: format!(
                    "check --user and the password (--password-file or RMQ_PASSWORD); the user \
                     also needs a management tag: rabbitmqctl set_user_tags {} management",
                    self.user
                ),
            },
            Failure::Status(403, reason) => Error::AccessRefused {
                what: format!("{target} as user '{}'", self.user),
                reason: with_default(reason, "HTTP 403 Forbidden"),
                hint: format!(
                    "grant access: rabbitmqctl set_permissions -p '{}' '{}' '.*' '.*' '.*'",
                    self.vhost, self.user
                ),
            },
            Failure::Status(code, _) if (300..400).contains(&code) => Error::Unreachable {
                target,
                reason: format!("HTTP {code} redirect for {}", strip_query(path)),
                hint: "give --api-url the address the management API answers on (https://?)".into(),
            },
            Failure::Status(code, reason) => Error::Other(format!(
                "{target}: HTTP {code} for {}{}",
                strip_query(path),
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(": {reason}")
                }
            )),
            Failure::Transport(t)
                if is_timeout(&t) && t.kind() != ureq::ErrorKind::ConnectionFailed =>
            {
                self.no_answer(
                    target,
                    format!(
                        "no answer within {} for {}",
                        self.shown_timeout(),
                        strip_query(path)
                    ),
                )
            }
            Failure::Transport(t) => {
                use ureq::ErrorKind as K;
                let reason = transport_reason(&t);
                match t.kind() {
                    K::InvalidUrl | K::UnknownScheme => {
                        Error::Usage(format!("invalid --api-url '{}': {reason}", self.shown()))
                    }
                    K::BadStatus | K::BadHeader => Error::Unreachable {
                        target,
                        reason: format!("the answer is not HTTP ({reason})"),
                        hint: "--api-url must point at the management plugin's HTTP port \
                               (15672 by default), not at the AMQP port"
                            .into(),
                    },
                    K::ConnectionFailed if is_tls_failure(&t) => Error::Unreachable {
                        target,
                        reason,
                        hint: "check --cacert (or --insecure to skip verification) and that \
                                   --api-url's port speaks https"
                            .into(),
                    },
                    _ => Error::Unreachable {
                        target,
                        reason,
                        hint: ENABLE_HINT.into(),
                    },
                }
            }
            Failure::Cut(std::io::ErrorKind::TimedOut, _) => self.no_answer(
                target,
                format!(
                    "the answer for {} did not arrive whole within {} (it stopped part-way)",
                    strip_query(path),
                    self.shown_timeout()
                ),
            ),
            Failure::Cut(_, why) => Error::Unreachable {
                target,
                reason: format!(
                    "the connection closed in the middle of the answer for {} ({why})",
                    strip_query(path)
                ),
                hint: "the API (or a proxy in front of it) dropped the connection mid-answer: \
                       run the command again; if it keeps happening, look at the broker's log \
                       and the proxy's timeouts"
                    .into(),
            },
            Failure::Body(reason) => Error::Unreachable {
                target,
                reason: format!("bad answer for {}: {reason}", strip_query(path)),
                hint: "--api-url must point at the RabbitMQ management plugin".into(),
            },
        }
    }

    /// The API took the request and did not answer (all of it) in time.
    fn no_answer(&self, target: String, reason: String) -> Error {
        Error::Unreachable {
            target,
            reason,
            hint: format!(
                "the broker may be overloaded or stuck (look at its log, or rabbitmq-diagnostics \
                 status on its host); {TIMEOUT_ENV}=SECS allows more time"
            ),
        }
    }

    /// The request timeout in words: "30 s", "0.5 s".
    fn shown_timeout(&self) -> String {
        format!("{} s", self.timeout.as_secs_f64())
    }
}

/// A request that did not give a usable answer.
pub(super) enum Failure {
    /// An error status, with the broker's reason.
    Status(u16, String),
    /// No answer: connecting, sending, or waiting for the status line and headers failed.
    Transport(Box<ureq::Transport>),
    /// The body stopped before its end: the connection closed (or reset), or it timed out.
    Cut(std::io::ErrorKind, String),
    /// The body is all there, and not what the API sends (not JSON, not UTF-8).
    Body(String),
}

impl Failure {
    /// A failure reading the body.
    pub(super) fn reading(e: &std::io::Error) -> Failure {
        match e.kind() {
            std::io::ErrorKind::InvalidData => Failure::Body(e.to_string()),
            kind => Failure::Cut(kind, e.to_string()),
        }
    }

    /// A body that does not parse: cut short when it ends in the middle of the JSON.
    pub(super) fn json(e: &serde_json::Error) -> Failure {
        match e.io_error_kind() {
            Some(kind) => Failure::Cut(kind, e.to_string()),
            None if e.is_eof() => Failure::Cut(
                std::io::ErrorKind::UnexpectedEof,
                format!("the JSON stops: {e}"),
            ),
            None => Failure::Body(format!("not JSON ({e})")),
        }
    }
}

impl Failure {
    /// An error status with the broker's reason from its JSON answer.
    pub(super) fn status(code: u16, answer: &Value) -> Failure {
        Failure::Status(code, reason_of(answer))
    }
}

/// The broker's `reason` in an error answer ("" when none).
pub(super) fn reason_of(answer: &Value) -> String {
    answer
        .get("reason")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_default()
}

pub(super) fn with_default(reason: String, default: &str) -> String {
    if reason.is_empty() {
        default.to_string()
    } else {
        reason
    }
}

pub(super) fn strip_query(path: &str) -> &str {
    path.split_once('?').map_or(path, |(p, _)| p)
}

/// A timeout (of the connect, or of the whole request), by the I/O error underneath.
fn is_timeout(t: &ureq::Transport) -> bool {
    use std::error::Error as _;
    t.source()
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .is_some_and(|e| {
            matches!(
                e.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            )
        })
}

/// ureq's "tls connection creation/init failed": the https handshake, not the network.
fn is_tls_failure(t: &ureq::Transport) -> bool {
    t.message().is_some_and(|m| m.starts_with("tls "))
}

/// Words for a transport failure, without the URL (ureq's Display includes it).
fn transport_reason(t: &ureq::Transport) -> String {
    use std::error::Error as _;
    use ureq::ErrorKind as K;
    let io = t
        .source()
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .map(|e| e.kind());
    match (t.kind(), io) {
        (_, Some(std::io::ErrorKind::ConnectionRefused)) => "connection refused".into(),
        (_, Some(std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock)) => {
            "cannot connect within --connect-timeout (timed out)".into()
        }
        (_, Some(std::io::ErrorKind::ConnectionReset)) => "connection reset".into(),
        (K::Dns, _) => "the host name does not resolve".into(),
        (K::ConnectionFailed, _) => match (t.message(), t.source()) {
            // The TLS handshake's own words, e.g. "invalid peer certificate: UnknownIssuer".
            (Some(m), Some(s)) if is_tls_failure(t) => format!("cannot connect ({m}: {s})"),
            (Some(m), _) => format!("cannot connect ({m})"),
            (None, _) => "cannot connect".into(),
        },
        (kind, _) => match (t.message(), t.source()) {
            (Some(m), _) => format!("{kind}: {m}"),
            (None, Some(s)) => format!("{kind}: {s}"),
            (None, None) => kind.to_string(),
        },
    }
}
