//! What `rmq top` shows, from the management API: one poll of a vhost's queues (only the
//! fields top needs), each queue's history over the last minute, and the rows built from
//! them (counts, publish and deliver rates: rates.rs), sorted. Nothing here draws or prints.

use super::rates::Rate;
use crate::error::Result;
use crate::mgmt::Api;
use regex::Regex;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

/// The fields asked for (`?columns=`): the counts, and of the statistics only the publish
/// and deliver counters and the broker's rates of them. The broker still looks each queue
/// up in its statistics (consumers and rates live there), but sends about a tenth of a
/// queue's full object.
pub const FIELDS: &[&str] = &[
    "name",
    "messages",
    "messages_ready",
    "messages_unacknowledged",
    "consumers",
    "message_stats.publish",
    "message_stats.publish_details.rate",
    "message_stats.deliver_get",
    "message_stats.deliver_get_details.rate",
];

/// How far back the depth history (the sparkline) reaches.
pub const WINDOW: Duration = Duration::from_secs(60);

/// One message counter of a queue: its total so far and the broker's rate of it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counter {
    /// `message_stats.<name>`: messages so far (absent: none seen).
    pub total: Option<u64>,
    /// `message_stats.<name>_details.rate`: messages/s (absent with `rates_mode = none`).
    pub rate: Option<f64>,
}

/// One queue as polled.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Queue {
    /// The queue's name.
    pub name: String,
    /// Ready + unacked (None: the broker does not know yet, e.g. a queue just declared).
    pub messages: Option<u64>,
    /// Ready for delivery.
    pub ready: Option<u64>,
    /// Delivered, not yet acknowledged.
    pub unacked: Option<u64>,
    /// Consumers.
    pub consumers: Option<u64>,
    /// Messages published into the queue.
    pub publish: Counter,
    /// Messages delivered or fetched (`deliver_get`: with and without acks, and basic.get).
    pub deliver: Counter,
}

impl Queue {
    /// A queue from one object of the API's answer.
    pub fn from_api(v: &Value) -> Queue {
        let num = |k: &str| v.get(k).and_then(Value::as_u64);
        let stats = v.get("message_stats");
        let counter = |k: &str| Counter {
            total: stats.and_then(|s| s.get(k)).and_then(Value::as_u64),
            rate: stats
                .and_then(|s| s.get(format!("{k}_details")))
                .and_then(|d| d.get("rate"))
                .and_then(Value::as_f64),
        };
        Queue {
            name: v
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            messages: num("messages"),
            ready: num("messages_ready"),
            unacked: num("messages_unacknowledged"),
            consumers: num("consumers"),
            publish: counter("publish"),
            deliver: counter("deliver_get"),
        }
    }
}

/// One poll of the vhost's queues.
#[derive(Debug)]
pub struct Poll {
    /// When the answer arrived (for rates and the history).
    pub at: Instant,
    /// The same moment on the wall clock (for the JSON lines' timestamp).
    pub wall: SystemTime,
    /// How long the request took.
    pub took: Duration,
    /// Queues in the vhost, before `--filter`.
    pub total: usize,
    /// The queues `--filter` kept.
    pub queues: Vec<Queue>,
}

/// Ask the API for the queues of `vhost` whose name `filter` matches.
pub fn poll(api: &Api, vhost: &str, filter: Option<&Regex>) -> Result<Poll> {
    let started = Instant::now();
    let mut queues = Vec::new();
    let mut total = 0;
    api.queues_each(Some(vhost), Some(FIELDS), false, &mut |v| {
        total += 1;
        let name = v.get("name").and_then(Value::as_str).unwrap_or_default();
        if filter.is_none_or(|re| re.is_match(name)) {
            queues.push(Queue::from_api(&v));
        }
    })?;
    let at = Instant::now();
    Ok(Poll {
        at,
        wall: SystemTime::now(),
        took: at - started,
        total,
        queues,
    })
}

/// `--sort`: what comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Sort {
    /// Most messages first
    Messages,
    /// Busiest first: publish + deliver rate
    Rate,
    /// By name
    Name,
}

impl Sort {
    /// The next order (the `s` key).
    pub fn next(self) -> Sort {
        match self {
            Sort::Messages => Sort::Rate,
            Sort::Rate => Sort::Name,
            Sort::Name => Sort::Messages,
        }
    }

    /// As typed on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Sort::Messages => "messages",
            Sort::Rate => "rate",
            Sort::Name => "name",
        }
    }
}

/// One queue as shown: its counts and rates (messages/s; None: not known yet).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The queue as polled.
    pub queue: Queue,
    /// Messages/s published into the queue.
    pub publish_rate: Option<f64>,
    /// Messages/s delivered from it.
    pub deliver_rate: Option<f64>,
}

impl Row {
    fn activity(&self) -> f64 {
        self.publish_rate.unwrap_or(0.0) + self.deliver_rate.unwrap_or(0.0)
    }
}

/// Sort rows by `by` (ties by name).
pub fn sort(rows: &mut [Row], by: Sort) {
    let messages = |r: &Row| r.queue.messages.map_or(-1, |m| m as i128);
    match by {
        Sort::Messages => rows.sort_by(|a, b| {
            messages(b)
                .cmp(&messages(a))
                .then_with(|| a.queue.name.cmp(&b.queue.name))
        }),
        Sort::Rate => rows.sort_by(|a, b| {
            b.activity()
                .total_cmp(&a.activity())
                .then_with(|| a.queue.name.cmp(&b.queue.name))
        }),
        Sort::Name => rows.sort_by(|a, b| a.queue.name.cmp(&b.queue.name)),
    }
}

/// What is kept of one poll for one queue.
#[derive(Clone, Copy, Debug)]
pub(super) struct Point {
    pub(super) at: Instant,
    pub(super) messages: Option<u64>,
    pub(super) publish: Option<u64>,
    pub(super) deliver: Option<u64>,
}

/// One queue's polls of the last minute, and the rates last shown.
#[derive(Debug, Default)]
struct Track {
    points: VecDeque<Point>,
    publish: Rate,
    deliver: Rate,
}

/// Each queue's polls of the last minute.
#[derive(Debug, Default)]
pub struct History {
    queues: HashMap<String, Track>,
}

impl History {
    /// Keep `poll` (forgetting queues that are gone and points older than [`WINDOW`]) and
    /// return its rows, unsorted.
    pub fn record(&mut self, poll: Poll) -> Vec<Row> {
        let mut seen: HashMap<String, Track> = HashMap::with_capacity(poll.queues.len());
        let mut rows = Vec::with_capacity(poll.queues.len());
        for q in poll.queues {
            let mut t = self.queues.remove(&q.name).unwrap_or_default();
            while t
                .points
                .front()
                .is_some_and(|p| poll.at.duration_since(p.at) > WINDOW)
            {
                t.points.pop_front();
            }
            t.points.push_back(Point {
                at: poll.at,
                messages: q.messages,
                publish: q.publish.total,
                deliver: q.deliver.total,
            });
            let publish_rate = t.publish.next(q.publish, &t.points, |p| p.publish);
            let deliver_rate = t.deliver.next(q.deliver, &t.points, |p| p.deliver);
            seen.insert(q.name.clone(), t);
            rows.push(Row {
                queue: q,
                publish_rate,
                deliver_rate,
            });
        }
        self.queues = seen;
        rows
    }

    /// The depths (messages) of `queue` over the last minute, oldest first.
    pub fn depths(&self, queue: &str) -> Vec<Option<u64>> {
        self.queues
            .get(queue)
            .map(|t| t.points.iter().map(|p| p.messages).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn poll_at(at: Instant, queues: Vec<Queue>) -> Poll {
        Poll {
            at,
            wall: SystemTime::now(),
            took: Duration::ZERO,
            total: queues.len(),
            queues,
        }
    }

    fn queue(name: &str, messages: u64) -> Queue {
        Queue {
            name: name.into(),
            messages: Some(messages),
            ..Queue::default()
        }
    }

    #[test]
    fn an_api_object_becomes_a_queue() {
        let q = Queue::from_api(&json!({
            "name": "orders", "messages": 5, "messages_ready": 3,
            "messages_unacknowledged": 2, "consumers": 1,
            "message_stats": {"publish": 40, "publish_details": {"rate": 2.5}}
        }));
        assert_eq!(q.name, "orders");
        assert_eq!(
            (q.messages, q.ready, q.unacked),
            (Some(5), Some(3), Some(2))
        );
        assert_eq!(q.consumers, Some(1));
        assert_eq!(
            q.publish,
            Counter {
                total: Some(40),
                rate: Some(2.5)
            }
        );
        assert_eq!(q.deliver, Counter::default());
        // A queue just declared: the statistics do not know it yet.
        let q = Queue::from_api(&json!({"name": "new"}));
        assert_eq!((q.messages, q.consumers), (None, None));
    }

    #[test]
    fn history_keeps_a_minute_and_forgets_deleted_queues() {
        let t0 = Instant::now();
        let mut h = History::default();
        for s in 0..40u64 {
            let qs = if s < 39 {
                vec![queue("a", s), queue("b", 1)]
            } else {
                vec![queue("a", s)]
            };
            h.record(poll_at(t0 + Duration::from_secs(s * 2), qs));
        }
        let a = h.depths("a");
        assert_eq!(a.len(), 31, "polls of the last 60 s, both ends included");
        assert_eq!(a.first(), Some(&Some(9)));
        assert_eq!(a.last(), Some(&Some(39)));
        assert!(h.depths("b").is_empty());
    }

    #[test]
    fn rows_sort_by_messages_rate_or_name() {
        let row = |name: &str, messages: Option<u64>, rate: f64| Row {
            queue: Queue {
                name: name.into(),
                messages,
                ..Queue::default()
            },
            publish_rate: Some(rate),
            deliver_rate: None,
        };
        let mut rows = vec![
            row("b", Some(5), 1.0),
            row("a", None, 0.0),
            row("c", Some(5), 9.0),
            row("d", Some(50), 0.5),
        ];
        let names =
            |rows: &[Row]| -> Vec<String> { rows.iter().map(|r| r.queue.name.clone()).collect() };
        sort(&mut rows, Sort::Messages);
        assert_eq!(names(&rows), ["d", "b", "c", "a"]);
        sort(&mut rows, Sort::Rate);
        assert_eq!(names(&rows), ["c", "b", "d", "a"]);
        sort(&mut rows, Sort::Name);
        assert_eq!(names(&rows), ["a", "b", "c", "d"]);
        assert_eq!(Sort::Messages.next().next().next(), Sort::Messages);
    }
}
