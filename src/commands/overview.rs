//! `rmq overview`: the cluster at a glance (`/api/overview` and `/api/nodes`).

use crate::ctx::Ctx;
use crate::error::Result;
use crate::mgmt::Api;
use crate::mgmt::admin::Kind;
use crate::output::{Out, cell_text};
use serde_json::{Value, json};

const EXAMPLES: &str = "\
Examples:
  rmq overview
  rmq overview --json | jq '.totals.messages_ready'
  rmq overview --json | jq -e '[.nodes[] | .mem_alarm or .disk_free_alarm] | any | not'

Output: lines of `key: value` for people; --json one object: cluster_name, rabbitmq_version,
erlang_version, nodes (name, running, mem_alarm, disk_free_alarm, mem_used, disk_free),
totals (connections, channels, exchanges, queues, consumers, messages, messages_ready,
messages_unacknowledged) and rates (publish, deliver: messages/s), numbers as the broker
sent them.";

/// Show the cluster: versions, nodes and alarms, totals, rates
///
/// Cluster name, RabbitMQ and Erlang versions, each node (running, memory/disk alarms),
/// totals (connections, channels, queues, consumers, messages ready/unacked) and the
/// publish/deliver rates (through the management HTTP API).
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {}

fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .unwrap_or(&Value::Null)
}

/// The overview's document, from the API's two answers.
fn summary(o: &Value, nodes: &[Value]) -> Value {
    let nodes: Vec<Value> = nodes
        .iter()
        .map(|n| {
            json!({
                "name": at(n, &["name"]),
                "running": at(n, &["running"]),
                "mem_alarm": at(n, &["mem_alarm"]),
                "disk_free_alarm": at(n, &["disk_free_alarm"]),
                "mem_used": at(n, &["mem_used"]),
                "disk_free": at(n, &["disk_free"]),
            })
        })
        .collect();
    let t = |k: &str| at(o, &["object_totals", k]).clone();
    let q = |k: &str| at(o, &["queue_totals", k]).clone();
    json!({
        "cluster_name": at(o, &["cluster_name"]),
        "rabbitmq_version": at(o, &["rabbitmq_version"]),
        "erlang_version": at(o, &["erlang_version"]),
        "nodes": nodes,
        "totals": {
            "connections": t("connections"),
            "channels": t("channels"),
            "exchanges": t("exchanges"),
            "queues": t("queues"),
            "consumers": t("consumers"),
            "messages": q("messages"),
            "messages_ready": q("messages_ready"),
            "messages_unacknowledged": q("messages_unacknowledged"),
        },
        "rates": {
            "publish": at(o, &["message_stats", "publish_details", "rate"]),
            "deliver": at(o, &["message_stats", "deliver_get_details", "rate"]),
        },
    })
}

/// Run `rmq overview`.
pub fn run(_args: Args, ctx: &Ctx) -> Result<()> {
    let api = Api::new(ctx)?;
    let o = api.overview()?;
    let nodes = api.list(Kind::Nodes, None)?;
    let s = summary(&o, &nodes);
    let mut out = Out::new();
    if ctx.json() {
        out.json(&s)?;
        return out.flush();
    }
    let c = |v: &Value| cell_text(v);
    out.text(&format!("cluster:   {}", c(&s["cluster_name"])))?;
    out.text(&format!(
        "versions:  RabbitMQ {}, Erlang {}",
        c(&s["rabbitmq_version"]),
        c(&s["erlang_version"])
    ))?;
    for n in s["nodes"].as_array().into_iter().flatten() {
        let mut alarms = Vec::new();
        if n["mem_alarm"] == Value::Bool(true) {
            alarms.push("MEMORY ALARM");
        }
        if n["disk_free_alarm"] == Value::Bool(true) {
            alarms.push("DISK ALARM");
        }
        let state = if n["running"] == Value::Bool(true) {
            "running"
        } else {
            "NOT RUNNING"
        };
        let alarms = if alarms.is_empty() {
            "no alarms".to_string()
        } else {
            alarms.join(", ")
        };
        out.text(&format!("node:      {} ({state}, {alarms})", c(&n["name"])))?;
    }
    let t = &s["totals"];
    out.text(&format!(
        "totals:    {} connections, {} channels, {} queues, {} consumers, {} exchanges",
        c(&t["connections"]),
        c(&t["channels"]),
        c(&t["queues"]),
        c(&t["consumers"]),
        c(&t["exchanges"])
    ))?;
    out.text(&format!(
        "messages:  {} ({} ready, {} unacked)",
        c(&t["messages"]),
        c(&t["messages_ready"]),
        c(&t["messages_unacknowledged"])
    ))?;
    let rate = |v: &Value| v.as_f64().map_or("0".into(), |r| format!("{r:.1}"));
    out.text(&format!(
        "rates:     publish {}/s, deliver {}/s",
        rate(&s["rates"]["publish"]),
        rate(&s["rates"]["deliver"])
    ))?;
    out.flush()
}
