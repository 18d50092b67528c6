//! `rmq tree --dot`: the topology as a Graphviz digraph, for `rmq tree --dot | dot -Tsvg`.
//! Exchanges are rounded boxes, queues cylinders, bindings edges labelled with their key
//! (a headers binding: its arguments; a fanout: no label). Node IDs are `x:NAME` and
//! `q:NAME` in double quotes, escaped, so that any name (quotes, spaces, dots, backslashes,
//! unicode) is one node. Nothing here fetches or prints: it returns the text.

use super::model::{Queue, Topology, arguments_text};
use super::text::count;
use std::fmt::Write as _;

/// The digraph of the vhost: the same exchanges and bindings as the tree, and every queue.
pub fn digraph(vhost: &str, topology: &Topology) -> String {
    let mut out = String::new();
    let title = quote(&format!("rmq tree: vhost {vhost}"));
    let _ = writeln!(out, "digraph {title} {{");
    out.push_str("  rankdir=LR;\n");
    out.push_str("  node [fontname=\"Helvetica\", fontsize=11];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for x in topology.exchanges() {
        let name = if x.name.is_empty() {
            "(AMQP default)"
        } else {
            &x.name
        };
        let kind = x.kind.as_deref().unwrap_or("exchange");
        let _ = writeln!(
            out,
            "  {} [shape=box, style=\"rounded,filled\", fillcolor=\"#fdebd0\", label={}];",
            quote(&format!("x:{}", x.name)),
            quote(&format!("{name}\n{kind}"))
        );
    }
    for q in topology.queues() {
        let _ = writeln!(
            out,
            "  {} [shape=cylinder, style=filled, fillcolor=\"#d6eaf8\", label={}];",
            quote(&format!("q:{}", q.name)),
            quote(&queue_label(q))
        );
    }
    for b in topology.bindings() {
        let from = quote(&format!("x:{}", b.source));
        let prefix = if b.to_exchange { "x" } else { "q" };
        let to = quote(&format!("{prefix}:{}", b.destination));
        let kind = topology.exchange(&b.source).kind;
        let label = match kind.as_deref() {
            Some("fanout") => String::new(),
            Some("headers") => arguments_text(&b.arguments),
            _ if b.arguments.is_empty() => b.routing_key.clone(),
            _ => format!("{} [{}]", b.routing_key, arguments_text(&b.arguments)),
        };
        if label.is_empty() {
            let _ = writeln!(out, "  {from} -> {to};");
        } else {
            let _ = writeln!(out, "  {from} -> {to} [label={}];", quote(&label));
        }
    }
    out.push('}');
    out
}

fn queue_label(q: &Queue) -> String {
    format!(
        "{}\n{}, {}",
        q.name,
        count(&q.messages, "message"),
        count(&q.consumers, "consumer")
    )
}

/// A DOT double-quoted string: `"` and `\` escaped, a line break as `\n` (a centred line in a
/// label), other control characters as `\u{..}` text.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_quoted_and_escaped() {
        assert_eq!(quote("a \"b\" c.d"), r#""a \"b\" c.d""#);
        assert_eq!(quote("back\\slash"), r#""back\\slash""#);
        assert_eq!(quote("two\nlines\u{1}"), r#""two\nlines\\u{1}""#);
        assert_eq!(quote("ünï"), "\"ünï\"");
    }

    #[test]
    fn exchanges_and_queues_are_distinct_nodes_even_with_the_same_name() {
        let xs = [json!({"name": "same", "type": "direct"})];
        let bs = [
            json!({"source": "same", "destination": "same", "destination_type": "queue",
                         "routing_key": "k", "arguments": {}}),
        ];
        let qs = [json!({"name": "same", "messages": 3, "consumers": 1})];
        let dot = digraph("/", &Topology::new(&xs, &bs, &qs, false));
        assert!(dot.contains("\"x:same\" [shape=box"), "{dot}");
        assert!(dot.contains("\"q:same\" [shape=cylinder"), "{dot}");
        assert!(
            dot.contains("\"x:same\" -> \"q:same\" [label=\"k\"];"),
            "{dot}"
        );
    }
}
