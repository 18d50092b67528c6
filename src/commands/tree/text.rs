//! `rmq tree` for people: the tree drawn with box-drawing branches (`├── `, `└── `, `│   `),
//! the same on a terminal and on a pipe. Each exchange shows its type; under it the binding
//! keys (a headers exchange: the bindings' arguments; a fanout: the destinations directly,
//! since it ignores keys), and under each key its queues (messages, consumers) and
//! exchanges (with their own bindings). Names are printed as they are, control characters
//! escaped. Nothing here fetches or prints: it returns lines.

use super::model::{Edge, ExchangeNode, Queue, Target, Tree, arguments_text};
use crate::table::terminal_safe;
use serde_json::Value;
use std::collections::BTreeMap;

/// The heading of the queues bound to no exchange.
pub const UNBOUND: &str = "(unbound queues)";

/// A line of the tree and the lines below it.
struct Item {
    label: String,
    children: Vec<Item>,
}

/// The whole tree as lines: one block per root exchange, then the unbound queues.
pub fn lines(tree: &Tree) -> Vec<String> {
    let mut items: Vec<Item> = tree.roots.iter().map(exchange).collect();
    if !tree.unbound.is_empty() {
        items.push(Item {
            label: UNBOUND.into(),
            children: tree.unbound.iter().map(queue).collect(),
        });
    }
    let mut out = Vec::new();
    for item in &items {
        out.push(item.label.clone());
        draw_children(item, "", &mut out);
    }
    out
}

fn draw_children(item: &Item, prefix: &str, out: &mut Vec<String>) {
    let n = item.children.len();
    for (i, child) in item.children.iter().enumerate() {
        let last = i + 1 == n;
        let (branch, more) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        out.push(format!("{prefix}{branch}{}", child.label));
        draw_children(child, &format!("{prefix}{more}"), out);
    }
}

/// `name (type exchange)`, its bindings below.
fn exchange(node: &ExchangeNode) -> Item {
    let x = &node.exchange;
    let name = if x.name.is_empty() {
        "(AMQP default)".to_string()
    } else {
        terminal_safe(&x.name)
    };
    let kind = x.kind.as_deref().map_or("exchange".to_string(), |k| {
        format!("{} exchange", terminal_safe(k))
    });
    let mut label = format!("{name} ({kind})");
    if node.cycle {
        label.push_str(" (cycle: its bindings are shown above)");
    }
    let children = match x.kind.as_deref() {
        Some("fanout") => node.bindings.iter().map(target).collect(),
        headers => grouped(&node.bindings, headers == Some("headers")),
    };
    Item { label, children }
}

/// The bindings grouped under their key (or, for a headers exchange, their arguments), in
/// the order of the keys.
fn grouped(edges: &[Edge], headers: bool) -> Vec<Item> {
    let mut groups: BTreeMap<(String, String), Item> = BTreeMap::new();
    for edge in edges {
        let args = arguments_text(&edge.arguments);
        let key = if headers {
            String::new()
        } else {
            edge.routing_key.clone()
        };
        groups
            .entry((key, args))
            .or_insert_with_key(|(key, args)| Item {
                label: group_label(key, args, headers),
                children: Vec::new(),
            })
            .children
            .push(target(edge));
    }
    groups.into_values().collect()
}

fn group_label(key: &str, args: &str, headers: bool) -> String {
    let key = if key.is_empty() {
        "\"\"".to_string()
    } else {
        terminal_safe(key)
    };
    match (headers, args.is_empty()) {
        (true, true) => "(no arguments: every message)".into(),
        (true, false) => terminal_safe(args),
        (false, true) => key,
        (false, false) => format!("{key} [{}]", terminal_safe(args)),
    }
}

fn target(edge: &Edge) -> Item {
    match &edge.target {
        Target::Queue(q) => queue(q),
        Target::Exchange(x) => exchange(x),
    }
}

/// `name (queue, 3 messages, 1 consumer)`; `?` for a count not known yet.
fn queue(q: &Queue) -> Item {
    Item {
        label: format!(
            "{} (queue, {}, {})",
            terminal_safe(&q.name),
            count(&q.messages, "message"),
            count(&q.consumers, "consumer")
        ),
        children: Vec::new(),
    }
}

/// `3 messages`, `1 consumer`, `? messages` (not known yet).
pub fn count(n: &Value, what: &str) -> String {
    match n {
        Value::Number(n) if n.as_u64() == Some(1) => format!("1 {what}"),
        Value::Number(n) => format!("{n} {what}s"),
        _ => format!("? {what}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::Topology;
    use super::*;
    use serde_json::json;

    #[test]
    fn draws_keys_queues_and_nested_exchanges() {
        let xs = [
            json!({"name": "t", "type": "topic"}),
            json!({"name": "f", "type": "fanout"}),
        ];
        let bind = |s: &str, d: &str, kind: &str, k: &str| {
            json!({"source": s, "destination": d, "destination_type": kind,
                   "routing_key": k, "arguments": {}})
        };
        let bs = [
            bind("t", "q1", "queue", "a.*"),
            bind("t", "q2", "queue", "a.*"),
            bind("t", "f", "exchange", "b.#"),
            bind("f", "q3", "queue", "ignored"),
        ];
        let qs = [
            json!({"name": "q1", "messages": 1, "consumers": 2}),
            json!({"name": "q2", "messages": 0}),
            json!({"name": "q3", "messages": 5, "consumers": 1}),
            json!({"name": "q\nx", "messages": 0, "consumers": 0}),
        ];
        let got = lines(&Topology::new(&xs, &bs, &qs, false).tree());
        let want = [
            "t (topic exchange)",
            "├── a.*",
            "│   ├── q1 (queue, 1 message, 2 consumers)",
            "│   └── q2 (queue, 0 messages, ? consumers)",
            "└── b.#",
            "    └── f (fanout exchange)",
            "        └── q3 (queue, 5 messages, 1 consumer)",
            "(unbound queues)",
            "└── q\\nx (queue, 0 messages, 0 consumers)",
        ];
        assert_eq!(got, want);
    }
}
