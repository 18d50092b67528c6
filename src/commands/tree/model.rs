//! The topology of one vhost as `rmq tree` sees it: the management API's exchanges, bindings
//! and queues (as [`Topology`]), and the nested [`Tree`] the text and JSON outputs show
//! (exchange → binding → queue or exchange, cycles cut). No requests and no printing here:
//! tree.rs fetches, text.rs, dot.rs and json.rs render.

use crate::commands::list_queues::{num_field, str_field};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// An exchange as the API lists it.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// "" for the default exchange.
    pub name: String,
    /// fanout, direct, topic, headers or a plugin's type; `None` when the exchange was not
    /// in the listing (deleted between the requests).
    pub kind: Option<String>,
}

/// A queue and its counts, as the broker sent them (`null` when its statistics are not in
/// yet, or the queue was not in the listing).
#[derive(Clone, Debug)]
pub struct Queue {
    /// The queue's name.
    pub name: String,
    /// Ready plus unacknowledged.
    pub messages: Value,
    /// Consumers subscribed to it.
    pub consumers: Value,
}

/// One binding.
#[derive(Clone, Debug)]
pub struct Binding {
    /// The source exchange ("" for the default exchange's implicit bindings).
    pub source: String,
    /// The destination queue or exchange.
    pub destination: String,
    /// The destination is an exchange (an exchange-to-exchange binding), not a queue.
    pub to_exchange: bool,
    /// The binding (routing) key.
    pub routing_key: String,
    /// The binding's arguments (a headers binding's `x-match` and headers).
    pub arguments: Map<String, Value>,
}

/// Everything of a vhost that `rmq tree` shows, with what `--all` leaves in.
#[derive(Debug)]
pub struct Topology {
    exchanges: BTreeMap<String, Exchange>,
    queues: BTreeMap<String, Queue>,
    bindings: Vec<Binding>,
}

/// The tree: the root exchanges in order, and the queues bound to no exchange.
#[derive(Debug)]
pub struct Tree {
    /// Exchanges at the top level, each with its bindings nested.
    pub roots: Vec<ExchangeNode>,
    /// Queues without any binding (but the default exchange's implicit one).
    pub unbound: Vec<Queue>,
}

/// An exchange with its bindings.
#[derive(Debug)]
pub struct ExchangeNode {
    /// The exchange.
    pub exchange: Exchange,
    /// Its bindings, sorted by key, arguments, then destination.
    pub bindings: Vec<Edge>,
    /// This exchange is already being shown on the way here (a cycle of exchange-to-exchange
    /// bindings): its bindings are not repeated.
    pub cycle: bool,
}

/// A binding from the exchange above to a queue or another exchange.
#[derive(Debug)]
pub struct Edge {
    /// The binding key.
    pub routing_key: String,
    /// The binding's arguments.
    pub arguments: Map<String, Value>,
    /// Where it leads.
    pub target: Target,
}

/// A binding's destination.
#[derive(Debug)]
pub enum Target {
    /// A queue.
    Queue(Queue),
    /// An exchange, with its own bindings.
    Exchange(ExchangeNode),
}

impl Topology {
    /// The topology from the API's three listings. Without `all`, the default exchange's
    /// implicit bindings are left out, and so are the exchanges nothing is bound to or from
    /// whose name the broker reserves (`amq.*`, the default exchange): every vhost has them.
    pub fn new(exchanges: &[Value], bindings: &[Value], queues: &[Value], all: bool) -> Topology {
        let bindings: Vec<Binding> = bindings
            .iter()
            .map(binding)
            .filter(|b| all || !b.source.is_empty())
            .collect();
        let used: BTreeSet<&str> = bindings
            .iter()
            .flat_map(|b| {
                let dest = b.to_exchange.then_some(b.destination.as_str());
                std::iter::once(b.source.as_str()).chain(dest)
            })
            .collect();
        let exchanges = exchanges
            .iter()
            .map(|x| Exchange {
                name: str_field(x, "name"),
                kind: x.get("type").and_then(Value::as_str).map(str::to_string),
            })
            .filter(|x| all || used.contains(x.name.as_str()) || !reserved(&x.name))
            .map(|x| (x.name.clone(), x))
            .collect();
        let queues = queues
            .iter()
            .map(|q| Queue {
                name: str_field(q, "name"),
                messages: num_field(q, "messages"),
                consumers: num_field(q, "consumers"),
            })
            .map(|q| (q.name.clone(), q))
            .collect();
        let mut topology = Topology {
            exchanges,
            queues,
            bindings,
        };
        topology.bindings.sort_by_cached_key(Binding::sort_key);
        topology
    }

    /// The exchanges shown, by name.
    pub fn exchanges(&self) -> impl Iterator<Item = &Exchange> {
        self.exchanges.values()
    }

    /// Every queue of the vhost, by name.
    pub fn queues(&self) -> impl Iterator<Item = &Queue> {
        self.queues.values()
    }

    /// The bindings shown, sorted by source, key, arguments, destination.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The exchange named `name`, or one of unknown type when it is not in the listing.
    pub fn exchange(&self, name: &str) -> Exchange {
        self.exchanges.get(name).cloned().unwrap_or(Exchange {
            name: name.to_string(),
            kind: None,
        })
    }

    /// The queue named `name`, without counts when it is not in the listing.
    pub fn queue(&self, name: &str) -> Queue {
        self.queues.get(name).cloned().unwrap_or(Queue {
            name: name.to_string(),
            messages: Value::Null,
            consumers: Value::Null,
        })
    }

    /// The nested tree. Roots are the exchanges that no other exchange is bound to, by name;
    /// an exchange that is the destination of an exchange-to-exchange binding is shown under
    /// its source (under each, when it has several). Exchanges only reachable through a
    /// cycle become roots too, the first by name of each cycle. Roots are sorted by name.
    pub fn tree(&self) -> Tree {
        let destinations: BTreeSet<&str> = self
            .bindings
            .iter()
            .filter(|b| b.to_exchange && b.source != b.destination)
            .map(|b| b.destination.as_str())
            .collect();
        let mut seen = BTreeSet::new();
        let mut roots = Vec::new();
        for name in self.exchanges.keys() {
            if !destinations.contains(name.as_str()) {
                roots.push(self.node(name, &mut Vec::new(), &mut seen));
            }
        }
        while let Some(name) = self.exchanges.keys().find(|n| !seen.contains(n.as_str())) {
            roots.push(self.node(name, &mut Vec::new(), &mut seen));
        }
        roots.sort_by(|a, b| a.exchange.name.cmp(&b.exchange.name));
        let bound: BTreeSet<&str> = self
            .bindings
            .iter()
            .filter(|b| !b.to_exchange && !b.source.is_empty())
            .map(|b| b.destination.as_str())
            .collect();
        let unbound = self
            .queues
            .values()
            .filter(|q| !bound.contains(q.name.as_str()))
            .cloned()
            .collect();
        Tree { roots, unbound }
    }

    /// Exchange `name` with its bindings; `path` holds the exchanges above it (a cycle stops
    /// there), `seen` collects every exchange shown.
    fn node(
        &self,
        name: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> ExchangeNode {
        let exchange = self.exchange(name);
        seen.insert(name.to_string());
        if path.iter().any(|p| p == name) {
            return ExchangeNode {
                exchange,
                bindings: Vec::new(),
                cycle: true,
            };
        }
        path.push(name.to_string());
        // Sorted by source first: the exchange's bindings are one run.
        let start = self.bindings.partition_point(|b| b.source.as_str() < name);
        let bindings = self.bindings[start..]
            .iter()
            .take_while(|b| b.source == name)
            .map(|b| Edge {
                routing_key: b.routing_key.clone(),
                arguments: b.arguments.clone(),
                target: if b.to_exchange {
                    Target::Exchange(self.node(&b.destination, path, seen))
                } else {
                    Target::Queue(self.queue(&b.destination))
                },
            })
            .collect();
        path.pop();
        ExchangeNode {
            exchange,
            bindings,
            cycle: false,
        }
    }
}

impl Binding {
    fn sort_key(&self) -> (String, String, String, String, bool) {
        (
            self.source.clone(),
            self.routing_key.clone(),
            arguments_text(&self.arguments),
            self.destination.clone(),
            self.to_exchange,
        )
    }
}

fn binding(b: &Value) -> Binding {
    Binding {
        source: str_field(b, "source"),
        destination: str_field(b, "destination"),
        to_exchange: str_field(b, "destination_type") == "exchange",
        routing_key: str_field(b, "routing_key"),
        arguments: b
            .get("arguments")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    }
}

/// The names the broker gives its own exchanges: the default exchange and `amq.*`.
fn reserved(name: &str) -> bool {
    name.is_empty() || name.starts_with("amq.")
}

/// Arguments as `k=v` pairs, `x-match` first, then by key: `x-match=all, format=pdf`.
/// Strings as they are, other values as JSON.
pub fn arguments_text(arguments: &Map<String, Value>) -> String {
    let mut pairs: Vec<(&String, &Value)> = arguments.iter().collect();
    pairs.sort_by_key(|(k, _)| (k.as_str() != "x-match", k.as_str()));
    pairs
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn x(name: &str, kind: &str) -> Value {
        json!({"name": name, "type": kind})
    }

    fn b(source: &str, dest: &str, kind: &str, key: &str) -> Value {
        json!({"source": source, "destination": dest, "destination_type": kind,
               "routing_key": key, "arguments": {}})
    }

    fn names(tree: &Tree) -> Vec<&str> {
        tree.roots
            .iter()
            .map(|r| r.exchange.name.as_str())
            .collect()
    }

    #[test]
    fn the_default_and_unused_reserved_exchanges_are_left_out_unless_all() {
        let xs = [
            x("", "direct"),
            x("amq.topic", "topic"),
            x("amq.fanout", "fanout"),
        ];
        let xs = [&xs[..], &[x("logs", "fanout")]].concat();
        let bs = [b("", "q", "queue", "q"), b("amq.topic", "q", "queue", "k")];
        let qs = [json!({"name": "q", "messages": 1, "consumers": 0})];
        let t = Topology::new(&xs, &bs, &qs, false).tree();
        assert_eq!(names(&t), ["amq.topic", "logs"]);
        assert!(t.unbound.is_empty());
        let t = Topology::new(&xs, &bs, &qs, true).tree();
        assert_eq!(names(&t), ["", "amq.fanout", "amq.topic", "logs"]);
    }

    #[test]
    fn exchange_destinations_nest_under_their_source_and_cycles_stop() {
        let xs = [
            x("a", "fanout"),
            x("b", "fanout"),
            x("c", "topic"),
            x("d", "topic"),
            x("0-self", "direct"),
        ];
        let bs = [
            b("a", "b", "exchange", ""),
            b("b", "q", "queue", ""),
            // c <-> d: a cycle nothing else leads to.
            b("c", "d", "exchange", "k"),
            b("d", "c", "exchange", "k"),
            b("0-self", "0-self", "exchange", "k"),
        ];
        let t = Topology::new(&xs, &bs, &[], false).tree();
        assert_eq!(names(&t), ["0-self", "a", "c"]);
        assert!(matches!(&t.roots[0].bindings[0].target, Target::Exchange(s) if s.cycle));
        let Target::Exchange(inner) = &t.roots[1].bindings[0].target else {
            panic!("a -> b is an exchange binding");
        };
        assert_eq!(inner.exchange.name, "b");
        assert!(matches!(&inner.bindings[0].target, Target::Queue(q) if q.name == "q"));
        let Target::Exchange(d) = &t.roots[2].bindings[0].target else {
            panic!("c -> d");
        };
        let Target::Exchange(c_again) = &d.bindings[0].target else {
            panic!("d -> c");
        };
        assert!(c_again.cycle && c_again.bindings.is_empty());
        // A queue that only the default exchange reaches is unbound; a missing one has no counts.
        assert_eq!(t.unbound.len(), 0);
        let qs = [json!({"name": "lonely", "messages": 2, "consumers": 1})];
        let t = Topology::new(&xs, &bs, &qs, false).tree();
        assert_eq!(t.unbound[0].name, "lonely");
        assert_eq!(t.unbound[0].messages, 2);
    }

    #[test]
    fn headers_arguments_read_x_match_first() {
        let args = json!({"type": "report", "x-match": "all", "n": 2});
        let args = args.as_object().unwrap();
        assert_eq!(arguments_text(args), "x-match=all, n=2, type=report");
    }
}
