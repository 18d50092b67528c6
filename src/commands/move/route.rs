//! Where `rmq move` sends each message: a fixed queue or exchange, or back to the origin that
//! a dead-lettered message names in its first `x-death` entry. Pure decisions, no I/O; the
//! relay loop (relay.rs) publishes.

use crate::amqp::{Delivery, Message, Returned, Value};

/// The destination given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// `--to Q`: the default exchange with routing key Q.
    Queue(String),
    /// `-e X [-k K]`: exchange X, with K or else the message's own routing key.
    Exchange {
        /// The exchange.
        name: String,
        /// The routing key, when given.
        key: Option<String>,
    },
    /// `--to-origin`: each message's first x-death exchange and routing key.
    Origin,
}

/// Where one message is published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Exchange ("" for the default exchange).
    pub exchange: String,
    /// Routing key.
    pub routing_key: String,
}

impl Destination {
    /// Where `d` goes; `None` for `--to-origin` and a message that was never dead-lettered.
    pub fn route(&self, d: &Delivery) -> Option<Route> {
        match self {
            Destination::Queue(q) => Some(Route {
                exchange: String::new(),
                routing_key: q.clone(),
            }),
            Destination::Exchange { name, key } => Some(Route {
                exchange: name.clone(),
                routing_key: key.clone().unwrap_or_else(|| d.routing_key.clone()),
            }),
            Destination::Origin => origin(&d.message),
        }
    }

    /// For messages: "queue 'q'", "exchange 'x'", "their origin (x-death)".
    pub fn describe(&self) -> String {
        match self {
            Destination::Queue(q) => format!("queue '{q}'"),
            Destination::Exchange { name, key: Some(k) } => {
                format!("exchange '{name}' with routing key '{k}'")
            }
            Destination::Exchange { name, key: None } => format!("exchange '{name}'"),
            Destination::Origin => "their origin (first x-death entry)".into(),
        }
    }
}

/// The exchange and first routing key of the message's first `x-death` entry.
pub fn origin(msg: &Message) -> Option<Route> {
    let Value::Array(deaths) = msg.props.headers.as_ref()?.get("x-death")? else {
        return None;
    };
    let Value::Table(first) = deaths.first()? else {
        return None;
    };
    let Value::Str(exchange) = first.get("exchange")? else {
        return None;
    };
    let Value::Array(keys) = first.get("routing-keys")? else {
        return None;
    };
    let Value::Str(key) = keys.first()? else {
        return None;
    };
    Some(Route {
        exchange: exchange.clone(),
        routing_key: key.clone(),
    })
}

/// A short fingerprint of a body, kept for each copy in flight instead of the body itself.
pub fn fingerprint(body: &[u8]) -> (usize, u64) {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    (body.len(), h.finish())
}

/// Is `r` (its body's fingerprint `r_print`) the broker's return of the copy with body
/// fingerprint `print` published along `route`? Returns come in publish order, so the
/// earliest unreturned copy that matches is the one returned; identical copies to the same
/// place are interchangeable.
pub fn is_return_of(
    r: &Returned,
    r_print: (usize, u64),
    route: &Route,
    print: (usize, u64),
) -> bool {
    r.exchange == route.exchange && r.routing_key == route.routing_key && r_print == print
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amqp::{Properties, Table};

    fn dead_lettered(exchange: &str, key: &str) -> Message {
        let mut death = Table::new();
        death.insert("exchange".into(), Value::Str(exchange.into()));
        death.insert(
            "routing-keys".into(),
            Value::Array(vec![Value::Str(key.into()), Value::Str("cc".into())]),
        );
        death.insert("queue".into(), Value::Str("work".into()));
        let later = Table::from([("exchange".to_string(), Value::Str("other".into()))]);
        let mut headers = Table::new();
        headers.insert(
            "x-death".into(),
            Value::Array(vec![Value::Table(death), Value::Table(later)]),
        );
        Message {
            body: b"b".to_vec(),
            props: Properties {
                headers: Some(headers),
                ..Properties::default()
            },
        }
    }

    #[test]
    fn origin_is_the_first_x_death_entry() {
        let r = origin(&dead_lettered("orders", "eu.new")).unwrap();
        assert_eq!(r.exchange, "orders");
        assert_eq!(r.routing_key, "eu.new");
        // The default exchange: the routing key is the original queue.
        assert_eq!(origin(&dead_lettered("", "work")).unwrap().exchange, "");
    }

    #[test]
    fn a_message_never_dead_lettered_has_no_origin() {
        assert_eq!(origin(&Message::default()), None);
        let mut m = dead_lettered("x", "k");
        m.props
            .headers
            .as_mut()
            .unwrap()
            .insert("x-death".into(), Value::Str("not a list".into()));
        assert_eq!(origin(&m), None);
    }
}
