//! The one error type of rmq, and the one place that maps failures to exit codes (and the
//! exit-code table the README and man page show). It never prints: `lib::report` does, through
//! `log.rs`; errors from amiquip and the HTTP client are mapped in `amqp` and `mgmt.rs`.

use std::io;

/// Exit status: success.
pub const EXIT_OK: u8 = 0;
/// Exit status: any other error.
pub const EXIT_OTHER: u8 = 1;
/// Exit status: usage error (bad flags or values, missing `--yes`).
pub const EXIT_USAGE: u8 = 2;
/// Exit status: broker or management API unreachable, connection lost.
pub const EXIT_UNREACHABLE: u8 = 3;
/// Exit status: authentication or access refused.
pub const EXIT_ACCESS: u8 = 4;
/// Exit status: not found (queue, exchange, vhost).
pub const EXIT_NOT_FOUND: u8 = 5;
/// Exit status: precondition failed (different arguments, queue not empty/unused).
pub const EXIT_PRECONDITION: u8 = 6;
/// Exit status: message returned as unroutable with `--strict`, or nacked by the broker.
pub const EXIT_UNROUTABLE: u8 = 7;
/// Exit status: timeout.
pub const EXIT_TIMEOUT: u8 = 8;
/// Exit status: a health check failed (the broker answered, and says it is not healthy).
pub const EXIT_UNHEALTHY: u8 = 9;
/// Exit status: interrupted by Ctrl-C where that is not a normal end (128 + SIGINT).
pub const EXIT_INTERRUPTED: u8 = 130;

/// The exit-code table, as documented in README and the man page.
pub const EXIT_TABLE: &[(u8, &str)] = &[
    (EXIT_OK, "success"),
    (EXIT_OTHER, "any other error"),
    (
        EXIT_USAGE,
        "usage error (bad flags or values, missing --yes)",
    ),
    (
        EXIT_UNREACHABLE,
        "broker or management API unreachable, connection lost",
    ),
    (EXIT_ACCESS, "authentication or access refused"),
    (EXIT_NOT_FOUND, "not found (queue, exchange, vhost)"),
    (
        EXIT_PRECONDITION,
        "precondition failed (re-declared with different arguments, queue not empty/unused)",
    ),
    (
        EXIT_UNROUTABLE,
        "message returned as unroutable with --strict, or nacked by the broker",
    ),
    (
        EXIT_TIMEOUT,
        "timeout (call, receive --count not reached, blocked publishing)",
    ),
    (
        EXIT_UNHEALTHY,
        "a health check failed (health-check: the broker answered, not healthy)",
    ),
];

/// Every failure rmq can report. `Display` is the one-line message; `hint` the fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags or values.
    #[error("{0}")]
    Usage(String),
    /// A destructive command without `--yes` and no terminal to ask on.
    #[error("{0} is destructive and needs confirmation")]
    ConfirmationRequired(String),
    /// The broker (or API) could not be reached.
    #[error("cannot reach {target}: {reason}")]
    Unreachable {
        /// What we tried to reach (a redacted URL).
        target: String,
        /// Why it failed.
        reason: String,
        /// How to fix it.
        hint: String,
    },
    /// An established connection was lost.
    #[error("connection lost: {reason}{}", confirmed_note(*.confirmed))]
    ConnectionLost {
        /// What the broker or the OS said.
        reason: String,
        /// Messages confirmed before the loss (for `send --no-reconnect`).
        confirmed: Option<u64>,
    },
    /// Authentication or authorisation refused.
    #[error("access refused to {what}: {reason}")]
    AccessRefused {
        /// What was refused.
        what: String,
        /// The broker's words.
        reason: String,
        /// How to fix it.
        hint: String,
    },
    /// Queue, exchange or vhost not found.
    #[error("{what} not found: {reason}")]
    NotFound {
        /// The missing object.
        what: String,
        /// The broker's words.
        reason: String,
        /// How to fix it.
        hint: String,
    },
    /// Declared with different arguments, queue not empty or in use, exclusive queue locked.
    #[error("{what}: {reason}")]
    Precondition {
        /// The object.
        what: String,
        /// The broker's words.
        reason: String,
        /// How to fix it.
        hint: String,
    },
    /// Messages returned unroutable with `--strict`.
    #[error("{returned} message(s) returned as unroutable (no queue bound for the routing key)")]
    Unroutable {
        /// How many were returned.
        returned: u64,
    },
    /// `move`: messages the destination returned as unroutable, left in the source.
    #[error("{stayed} message(s) stayed in '{queue}': the destination could not route them")]
    Stayed {
        /// How many stayed.
        stayed: u64,
        /// The source queue.
        queue: String,
    },
    /// Messages nacked by the broker.
    #[error("{nacked} message(s) nacked by the broker")]
    Nacked {
        /// How many were nacked.
        nacked: u64,
    },
    /// A wait ran out.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The broker answered a health check: not healthy (which checks, the broker's words).
    #[error("unhealthy: {0}")]
    Unhealthy(String),
    /// Interrupted by the user before the job was done.
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// Bad input data (a stdin line, a file).
    #[error("{0}")]
    Input(String),
    /// Local I/O error (stdout, stdin, files).
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The OS error.
        source: io::Error,
    },
    /// Anything else, with the broker's or library's words.
    #[error("{0}")]
    Other(String),
}

/// The end of a lost connection's message: how many were confirmed, when that is known.
fn confirmed_note(confirmed: Option<u64>) -> String {
    confirmed
        .map(|n| format!(" (confirmed {n})"))
        .unwrap_or_default()
}

/// Result with rmq's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The exit code for this error (README, "Exit codes"). Exhaustive on purpose: a new
    /// variant must choose its code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::ConfirmationRequired(_) => EXIT_USAGE,
            Error::Unreachable { .. } | Error::ConnectionLost { .. } => EXIT_UNREACHABLE,
            Error::AccessRefused { .. } => EXIT_ACCESS,
            Error::NotFound { .. } => EXIT_NOT_FOUND,
            Error::Precondition { .. } => EXIT_PRECONDITION,
            Error::Unroutable { .. } | Error::Stayed { .. } | Error::Nacked { .. } => {
                EXIT_UNROUTABLE
            }
            Error::Timeout(_) => EXIT_TIMEOUT,
            Error::Unhealthy(_) => EXIT_UNHEALTHY,
            Error::Interrupted(_) => EXIT_INTERRUPTED,
            Error::Input(_) | Error::Io { .. } | Error::Other(_) => EXIT_OTHER,
        }
    }

    /// The suggested fix, printed as a second line, if any.
    pub fn hint(&self) -> Option<String> {
        let h = match self {
            Error::Unreachable { hint, .. }
            | Error::AccessRefused { hint, .. }
            | Error::NotFound { hint, .. }
            | Error::Precondition { hint, .. } => hint.clone(),
            Error::ConfirmationRequired(_) => {
                "pass -y/--yes to confirm when not running on a terminal".to_string()
            }
            Error::Unroutable { .. } => {
                "bind a queue to the exchange with that routing key (rmq bind), or drop --strict"
                    .to_string()
            }
            Error::Stayed { .. } => "bind a queue for their routing key at the destination \
                                     (rmq bind), then move them again"
                .to_string(),
            Error::ConnectionLost {
                confirmed: Some(n), ..
            } => format!("confirmed {n}: resume from input line {}", n + 1),
            _ => String::new(),
        };
        if h.is_empty() { None } else { Some(h) }
    }

    /// True when the error is a closed stdout (a `| head` pipe): a clean exit.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }

    /// A local I/O error with what we were doing.
    pub fn io(context: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_distinct() {
        let mut codes: Vec<u8> = EXIT_TABLE.iter().map(|(c, _)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), EXIT_TABLE.len());
        assert_eq!(codes, (0..=9).collect::<Vec<u8>>());
    }

    #[test]
    fn every_message_reads_as_documented() {
        let s = |t: &str| t.to_string();
        let cases = [
            (Error::Usage(s("bad flag")), "bad flag"),
            (
                Error::ConfirmationRequired(s("queue-purge 'q'")),
                "queue-purge 'q' is destructive and needs confirmation",
            ),
            (
                Error::Unreachable {
                    target: s("amqp://h:1/%2F"),
                    reason: s("refused"),
                    hint: s("h"),
                },
                "cannot reach amqp://h:1/%2F: refused",
            ),
            (
                Error::ConnectionLost {
                    reason: s("reset"),
                    confirmed: Some(7),
                },
                "connection lost: reset (confirmed 7)",
            ),
            (
                Error::ConnectionLost {
                    reason: s("reset"),
                    confirmed: None,
                },
                "connection lost: reset",
            ),
            (
                Error::AccessRefused {
                    what: s("vhost 'v'"),
                    reason: s("no"),
                    hint: s("h"),
                },
                "access refused to vhost 'v': no",
            ),
            (
                Error::NotFound {
                    what: s("queue 'q'"),
                    reason: s("gone"),
                    hint: s("h"),
                },
                "queue 'q' not found: gone",
            ),
            (
                Error::Precondition {
                    what: s("queue 'q'"),
                    reason: s("durable differs"),
                    hint: s("h"),
                },
                "queue 'q': durable differs",
            ),
            (
                Error::Unroutable { returned: 2 },
                "2 message(s) returned as unroutable (no queue bound for the routing key)",
            ),
            (
                Error::Stayed {
                    stayed: 4,
                    queue: "q".into(),
                },
                "4 message(s) stayed in 'q': the destination could not route them",
            ),
            (
                Error::Nacked { nacked: 3 },
                "3 message(s) nacked by the broker",
            ),
            (Error::Timeout(s("no reply")), "timed out: no reply"),
            (Error::Interrupted(s("stop")), "interrupted: stop"),
            (Error::Input(s("line 3: bad")), "line 3: bad"),
            (
                Error::io("reading x", io::Error::other("boom")),
                "reading x: boom",
            ),
            (Error::Other(s("else")), "else"),
        ];
        for (e, want) in cases {
            assert_eq!(e.to_string(), want, "{e:?}");
        }
    }

    #[test]
    fn broken_pipe_is_detected() {
        let e = Error::io("writing", io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(e.is_broken_pipe());
        assert_eq!(Error::Timeout("x".into()).exit_code(), 8);
    }
}
