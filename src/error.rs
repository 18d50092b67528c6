//! The one error type of rmq, and the one place that maps failures to exit codes.

use std::fmt;
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
#[derive(Debug)]
pub enum Error {
    /// Bad flags or values.
    Usage(String),
    /// A destructive command without `--yes` and no terminal to ask on.
    ConfirmationRequired(String),
    /// The broker (or API) could not be reached.
    Unreachable {
        /// What we tried to reach (a redacted URL).
        target: String,
        /// Why it failed.
        reason: String,
        /// How to fix it.
        hint: String,
    },
    /// An established connection was lost.
    ConnectionLost {
        /// What the broker or the OS said.
        reason: String,
        /// Messages confirmed before the loss (for `send --no-reconnect`).
        confirmed: Option<u64>,
    },
    /// Authentication or authorisation refused.
    AccessRefused {
        /// What was refused.
        what: String,
        /// The broker's words.
        reason: String,
        /// How to fix it.
        hint: String,
    },
    /// Queue, exchange or vhost not found.
    NotFound {
        /// The missing object.
        what: String,
        /// The broker's words.
        reason: String,
        /// How to fix it.
        hint: String,
    },
    /// Declared with different arguments, queue not empty or in use, exclusive queue locked.
    Precondition {
        /// The object.
        what: String,
        /// The broker's words.
        reason: String,
        /// How to fix it.
        hint: String,
    },
    /// Messages returned unroutable with `--strict`.
    Unroutable {
        /// How many were returned.
        returned: u64,
    },
    /// Messages nacked by the broker.
    Nacked {
        /// How many were nacked.
        nacked: u64,
    },
    /// A wait ran out.
    Timeout(String),
    /// The broker answered a health check: not healthy (which checks, the broker's words).
    Unhealthy(String),
    /// Interrupted by the user before the job was done.
    Interrupted(String),
    /// Bad input data (a stdin line, a file).
    Input(String),
    /// Local I/O error (stdout, stdin, files).
    Io {
        /// What we were doing.
        context: String,
        /// The OS error.
        source: io::Error,
    },
    /// Anything else, with the broker's or library's words.
    Other(String),
}

/// Result with rmq's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The exit code for this error (CLI.md, "Exit codes"). Exhaustive on purpose.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::ConfirmationRequired(_) => EXIT_USAGE,
            Error::Unreachable { .. } | Error::ConnectionLost { .. } => EXIT_UNREACHABLE,
            Error::AccessRefused { .. } => EXIT_ACCESS,
            Error::NotFound { .. } => EXIT_NOT_FOUND,
            Error::Precondition { .. } => EXIT_PRECONDITION,
            Error::Unroutable { .. } | Error::Nacked { .. } => EXIT_UNROUTABLE,
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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::Input(m) | Error::Other(m) => write!(f, "{m}"),
            Error::ConfirmationRequired(what) => {
                write!(f, "{what} is destructive and needs confirmation")
            }
            Error::Unreachable { target, reason, .. } => {
                write!(f, "cannot reach {target}: {reason}")
            }
            Error::ConnectionLost { reason, confirmed } => match confirmed {
                Some(n) => write!(f, "connection lost: {reason} (confirmed {n})"),
                None => write!(f, "connection lost: {reason}"),
            },
            Error::AccessRefused { what, reason, .. } => {
                write!(f, "access refused to {what}: {reason}")
            }
            Error::NotFound { what, reason, .. } => write!(f, "{what} not found: {reason}"),
            Error::Precondition { what, reason, .. } => write!(f, "{what}: {reason}"),
            Error::Unroutable { returned } => write!(
                f,
                "{returned} message(s) returned as unroutable (no queue bound for the routing key)"
            ),
            Error::Nacked { nacked } => write!(f, "{nacked} message(s) nacked by the broker"),
            Error::Timeout(m) => write!(f, "timed out: {m}"),
            Error::Unhealthy(m) => write!(f, "unhealthy: {m}"),
            Error::Interrupted(m) => write!(f, "interrupted: {m}"),
            Error::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for Error {}

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
    fn broken_pipe_is_detected() {
        let e = Error::io("writing", io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(e.is_broken_pipe());
        assert_eq!(Error::Timeout("x".into()).exit_code(), 8);
    }
}
