//! `--offset`: where reading a stream starts (`first`, `last`, `next`, an offset, a time or
//! an age), parsed into [`StreamOffset`] and turned into the `x-stream-offset` consumer
//! argument. Parsing only: it never talks to the broker; consuming a stream is receive's job.

use crate::amqp::Value;
use crate::error::{Error, Result};

/// The forms `--offset` accepts, for error messages and help.
pub const FORMS: &str = "first, last, next, an offset (e.g. 1000), an RFC 3339 time \
(e.g. 2026-12-01T10:00:00Z) or an age: one number and one unit of Y, M, D, h, m, s \
(e.g. 1h, 30m, 2D)";

/// Where to start reading a stream (RabbitMQ's `x-stream-offset`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamOffset {
    /// The first message still in the stream.
    First,
    /// The last chunk of messages written.
    Last,
    /// Only messages written from now on (the default).
    Next,
    /// This offset (0 is the first message ever written).
    Offset(u64),
    /// Messages written at or after this time, in seconds since the Unix epoch (UTC).
    Timestamp(i64),
    /// Messages written at most this long ago, as RabbitMQ reads it: one number and one unit
    /// among `Y` (years), `M` (months), `D` (days), `h`, `m`, `s`, e.g. `1h`, `30m`, `2D`.
    Age(String),
}

impl StreamOffset {
    /// Parse an `--offset` value. Anything else is a one-line [`Error::Usage`] naming the
    /// value and listing the accepted forms.
    pub fn parse(s: &str) -> Result<StreamOffset> {
        match s {
            "first" => return Ok(StreamOffset::First),
            "last" => return Ok(StreamOffset::Last),
            "next" => return Ok(StreamOffset::Next),
            _ => {}
        }
        if is_digits(s) {
            return match s.parse::<i64>() {
                Ok(n) => Ok(StreamOffset::Offset(n as u64)),
                Err(_) => Err(invalid(s, "too large for an offset")),
            };
        }
        if let Some(number) = s.strip_suffix(['Y', 'M', 'D', 'h', 'm', 's'])
            && is_digits(number)
        {
            return match number.parse::<u64>() {
                Ok(0) => Err(invalid(s, "an age must be more than 0")),
                Ok(_) => Ok(StreamOffset::Age(s.to_string())),
                Err(_) => Err(invalid(s, "too large for an age")),
            };
        }
        match s.parse::<jiff::Timestamp>() {
            Ok(t) if t.as_second() < 0 => Err(invalid(s, "a time before 1970")),
            Ok(t) => Ok(StreamOffset::Timestamp(t.as_second())),
            // A value shaped like a date gets the reason; anything else only the forms.
            Err(e) if looks_like_a_date(s) => Err(invalid(s, &format!("not a valid time: {e}"))),
            Err(_) => Err(invalid(s, "")),
        }
    }

    /// The value of the `x-stream-offset` consumer argument: a string for `first`, `last`,
    /// `next` and an age, an integer for an offset, an AMQP timestamp for a time.
    pub fn argument(&self) -> Value {
        match self {
            StreamOffset::First => Value::Str("first".into()),
            StreamOffset::Last => Value::Str("last".into()),
            StreamOffset::Next => Value::Str("next".into()),
            // parse() keeps both within i64 and at or after the epoch.
            StreamOffset::Offset(n) => Value::Int(i64::try_from(*n).unwrap_or(i64::MAX)),
            StreamOffset::Timestamp(t) => Value::Timestamp(u64::try_from(*t).unwrap_or(0)),
            StreamOffset::Age(a) => Value::Str(a.clone()),
        }
    }
}

impl StreamOffset {
    /// The consumer arguments that start a stream reader here.
    pub fn consumer_args(&self) -> crate::amqp::Table {
        crate::amqp::Table::from([("x-stream-offset".to_string(), self.argument())])
    }
}

/// Whether the existing `queue` is a stream; with `--offset` given (`offset`), anything else
/// is exit 2 naming what it is.
pub fn is_stream(session: &mut crate::amqp::Session, queue: &str, offset: bool) -> Result<bool> {
    match session.stream_check(queue)? {
        Ok(()) => Ok(true),
        Err(kind) if offset => Err(not_a_stream(queue, &kind)),
        Err(_) => Ok(false),
    }
}

/// `--offset` given for a queue that is not a stream (exit 2, naming what it is).
fn not_a_stream(queue: &str, kind: &str) -> Error {
    Error::Usage(format!(
        "--offset reads streams, and queue '{queue}' is a {kind} queue: drop --offset, or \
         declare a stream (rmq queue-declare NAME --stream)"
    ))
}

impl std::str::FromStr for StreamOffset {
    type Err = Error;

    fn from_str(s: &str) -> Result<StreamOffset> {
        StreamOffset::parse(s)
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn looks_like_a_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

fn invalid(value: &str, why: &str) -> Error {
    let shown: String = value.chars().flat_map(char::escape_default).collect();
    let why = if why.is_empty() {
        String::new()
    } else {
        format!(" ({why})")
    };
    Error::Usage(format!("invalid --offset '{shown}'{why}: expected {FORMS}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> StreamOffset {
        StreamOffset::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn bad(s: &str) -> String {
        let e = StreamOffset::parse(s).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::EXIT_USAGE, "{s:?}");
        let msg = e.to_string();
        assert!(!msg.contains('\n'), "{msg}");
        assert!(msg.contains("first, last, next"), "{msg}");
        msg
    }

    #[test]
    fn keywords_parse() {
        assert_eq!(ok("first"), StreamOffset::First);
        assert_eq!(ok("last"), StreamOffset::Last);
        assert_eq!(ok("next"), StreamOffset::Next);
        bad("First");
        bad("NEXT");
    }

    #[test]
    fn numbers_are_offsets() {
        assert_eq!(ok("0"), StreamOffset::Offset(0));
        assert_eq!(ok("1000"), StreamOffset::Offset(1000));
        assert_eq!(ok("007"), StreamOffset::Offset(7));
        let max = i64::MAX.to_string();
        assert_eq!(ok(&max), StreamOffset::Offset(i64::MAX as u64));
        assert!(bad("9223372036854775808").contains("too large"));
        for s in ["-1", "+5", "1.5", "1e3", " 1", "1 "] {
            bad(s);
        }
    }

    #[test]
    fn rfc3339_times_are_seconds_since_the_epoch() {
        assert_eq!(
            ok("2026-12-01T10:00:00Z"),
            StreamOffset::Timestamp(1_796_119_200)
        );
        assert_eq!(
            ok("2026-12-01T11:00:00+01:00"),
            StreamOffset::Timestamp(1_796_119_200)
        );
        assert_eq!(
            ok("2026-12-01T10:00:00.750Z"),
            StreamOffset::Timestamp(1_796_119_200)
        );
        assert_eq!(ok("1970-01-01T00:00:00Z"), StreamOffset::Timestamp(0));
        assert!(bad("1969-12-31T23:59:59Z").contains("before 1970"));
        // A date needs a time and an offset from UTC; a wrong one says why.
        assert!(bad("2026-13-01T10:00:00Z").contains("not a valid time"));
        assert!(bad("2026-12-01T10:00:00").contains("not a valid time"));
        assert!(bad("2026-12-01").contains("not a valid time"));
    }

    #[test]
    fn ages_are_one_number_and_one_unit() {
        for s in ["1h", "30m", "2D", "90m", "1Y", "6M", "45s", "1000000s"] {
            assert_eq!(ok(s), StreamOffset::Age(s.to_string()));
        }
        for s in [
            "1h30m", "10ms", "-1h", "", "h", "1H", "1d", "1 h", "1.5h", "0h", "1w", "+1h",
        ] {
            bad(s);
        }
        assert!(bad("0h").contains("more than 0"));
    }

    #[test]
    fn a_bad_value_is_named_on_one_line() {
        let msg = bad("1h30m");
        assert!(msg.starts_with("invalid --offset '1h30m'"), "{msg}");
        assert!(msg.contains("1h, 30m, 2D"), "{msg}");
        assert!(bad("a\nb").contains("'a\\nb'"));
        assert!(bad("").contains("''"));
        let e: Result<StreamOffset> = "soon".parse();
        assert!(e.is_err());
    }

    #[test]
    fn arguments_have_the_types_rabbitmq_expects() {
        assert_eq!(ok("first").argument(), Value::Str("first".into()));
        assert_eq!(ok("last").argument(), Value::Str("last".into()));
        assert_eq!(ok("next").argument(), Value::Str("next".into()));
        assert_eq!(ok("42").argument(), Value::Int(42));
        assert_eq!(
            ok("2026-12-01T10:00:00Z").argument(),
            Value::Timestamp(1_796_119_200)
        );
        assert_eq!(ok("2D").argument(), Value::Str("2D".into()));
    }
}
