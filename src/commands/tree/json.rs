//! `rmq tree --json`: the tree as one JSON document of nested objects (README, "Topology").
//! Counts are the broker's numbers as it sent them; nothing here prints.

use super::model::{Edge, ExchangeNode, Queue, Target, Tree};
use serde_json::{Map, Value, json};

/// `{"vhost", "exchanges": [exchange...], "unbound": [queue...]}`.
pub fn document(vhost: &str, tree: &Tree) -> Value {
    json!({
        "vhost": vhost,
        "exchanges": tree.roots.iter().map(exchange).collect::<Vec<_>>(),
        "unbound": tree.unbound.iter().map(queue).collect::<Vec<_>>(),
    })
}

/// `{"name", "type", "bindings": [...]}`, plus `"cycle": true` (and no bindings) where a
/// cycle of exchange-to-exchange bindings comes back to an exchange shown above.
fn exchange(node: &ExchangeNode) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), node.exchange.name.clone().into());
    o.insert("type".into(), node.exchange.kind.clone().into());
    o.insert(
        "bindings".into(),
        node.bindings.iter().map(binding).collect::<Vec<_>>().into(),
    );
    if node.cycle {
        o.insert("cycle".into(), true.into());
    }
    Value::Object(o)
}

/// `{"routing_key", "arguments"?, "destination_type", "queue"|"exchange"}`.
fn binding(edge: &Edge) -> Value {
    let mut o = Map::new();
    o.insert("routing_key".into(), edge.routing_key.clone().into());
    if !edge.arguments.is_empty() {
        o.insert("arguments".into(), Value::Object(edge.arguments.clone()));
    }
    match &edge.target {
        Target::Queue(q) => {
            o.insert("destination_type".into(), "queue".into());
            o.insert("queue".into(), queue(q));
        }
        Target::Exchange(x) => {
            o.insert("destination_type".into(), "exchange".into());
            o.insert("exchange".into(), exchange(x));
        }
    }
    Value::Object(o)
}

fn queue(q: &Queue) -> Value {
    json!({"name": q.name, "messages": q.messages, "consumers": q.consumers})
}

#[cfg(test)]
mod tests {
    use super::super::model::Topology;
    use super::*;

    #[test]
    fn nests_exchange_destinations_and_keeps_headers_arguments() {
        let xs = [
            json!({"name": "h", "type": "headers"}),
            json!({"name": "f", "type": "fanout"}),
        ];
        let bs = [
            json!({"source": "h", "destination": "f", "destination_type": "exchange",
                   "routing_key": "", "arguments": {"x-match": "any", "a": "1"}}),
            json!({"source": "f", "destination": "q", "destination_type": "queue",
                   "routing_key": "", "arguments": {}}),
        ];
        let qs = [json!({"name": "q", "messages": 12345678901u64, "consumers": 0})];
        let doc = document("/", &Topology::new(&xs, &bs, &qs, false).tree());
        assert_eq!(doc["exchanges"].as_array().unwrap().len(), 1);
        let b = &doc["exchanges"][0]["bindings"][0];
        assert_eq!(b["destination_type"], "exchange");
        assert_eq!(b["arguments"]["x-match"], "any");
        let inner = &b["exchange"]["bindings"][0];
        assert_eq!(inner.get("arguments"), None);
        assert_eq!(inner["queue"]["messages"], 12345678901u64);
        assert_eq!(doc["unbound"], json!([]));
    }
}
