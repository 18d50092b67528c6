//! `rmq top` on a pipe or with `--json`: one JSON object per queue per poll (NDJSON), flushed
//! after each poll, so that `rmq top --json >> depth.log` is a log of the queues' depths.
//! A failed poll ends the run with its error (exit 3 for an unreachable API); Ctrl-C,
//! SIGTERM and a reader that went away (`| head`) end it cleanly.

use super::sample::{History, Poll, Row, Sort, sort};
use crate::error::{Error, Result};
use crate::output::Out;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use serde_json::{Map, Value};
use std::time::{Duration, SystemTime};

/// Write the lines of each poll `polls` brings until a stop is asked for or a poll fails.
pub fn run(polls: Receiver<Result<Poll>>, vhost: &str, by: Sort) -> Result<()> {
    crate::signals::install(true);
    let mut out = Out::new();
    let mut history = History::default();
    while !crate::signals::stop_requested() {
        let poll = match polls.recv_timeout(Duration::from_millis(50)) {
            Ok(polled) => polled?,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Error::Other("the polling thread stopped".into()));
            }
        };
        let stamp = timestamp(poll.wall);
        let mut rows = history.record(poll);
        sort(&mut rows, by);
        for row in &rows {
            out.text(&line(&stamp, vhost, row).to_string())?;
        }
        out.flush()?;
    }
    Ok(())
}

/// RFC 3339 in UTC, to the millisecond: `2026-12-02T20:31:44.123Z`.
fn timestamp(t: SystemTime) -> String {
    match jiff::Timestamp::try_from(t) {
        Ok(ts) => format!("{ts:.3}"),
        Err(_) => String::new(),
    }
}

/// One queue's object: timestamp, vhost, name, messages, ready, unacked, consumers,
/// publish_rate, deliver_rate (messages/s; null while not known).
pub fn line(stamp: &str, vhost: &str, row: &Row) -> Value {
    let q = &row.queue;
    let mut m = Map::new();
    m.insert("timestamp".into(), stamp.into());
    m.insert("vhost".into(), vhost.into());
    m.insert("name".into(), q.name.clone().into());
    for (k, v) in [
        ("messages", q.messages),
        ("ready", q.ready),
        ("unacked", q.unacked),
        ("consumers", q.consumers),
    ] {
        m.insert(k.into(), v.into());
    }
    for (k, v) in [
        ("publish_rate", row.publish_rate),
        ("deliver_rate", row.deliver_rate),
    ] {
        m.insert(k.into(), v.map(|r| (r * 100.0).round() / 100.0).into());
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::super::sample::{Counter, Queue};
    use super::*;

    #[test]
    fn a_line_has_every_field_in_order() {
        let row = Row {
            queue: Queue {
                name: "orders".into(),
                messages: Some(5),
                ready: Some(4),
                unacked: Some(1),
                consumers: None,
                publish: Counter::default(),
                deliver: Counter::default(),
            },
            publish_rate: Some(1.0 / 3.0),
            deliver_rate: None,
        };
        let l = line("2026-12-02T20:31:44.123Z", "/", &row).to_string();
        assert_eq!(
            l,
            r#"{"timestamp":"2026-12-02T20:31:44.123Z","vhost":"/","name":"orders","messages":5,"ready":4,"unacked":1,"consumers":null,"publish_rate":0.33,"deliver_rate":null}"#
        );
    }

    #[test]
    fn timestamps_are_utc_to_the_millisecond() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_243_504_123);
        assert_eq!(timestamp(t), "2026-12-02T20:31:44.123Z");
    }
}
