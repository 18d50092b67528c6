//! `rmq list-consumers`: consumers of queues, through the management HTTP API.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::listing::{Col, Spec, VhostListArgs, computed, field, from, path};
use crate::mgmt::admin::Kind;
use serde_json::Value;

const EXAMPLES: &str = "\
Examples:
  rmq list-consumers
  rmq list-consumers --filter '^orders$'   # the consumers of one queue
  rmq list-consumers --json | jq -r '.[] | .consumer_tag'";

/// List consumers (through the management HTTP API)
///
/// Columns: queue, consumer_tag, channel, ack_mode (manual or auto), prefetch. Also: vhost,
/// connection, active, exclusive, arguments. Lists the vhost of the connection settings;
/// --all-vhosts lists all. --filter matches the queue's name.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub list: VhostListArgs,
}

fn ack_mode(c: &Value) -> Value {
    match c.get("ack_required").and_then(Value::as_bool) {
        Some(true) => "manual".into(),
        Some(false) => "auto".into(),
        None => Value::Null,
    }
}

const COLS: &[Col] = &[
    path("vhost", &["queue", "vhost"]),
    path("queue", &["queue", "name"]),
    field("consumer_tag"),
    path("channel", &["channel_details", "name"]),
    computed("ack_mode", ack_mode),
    from("prefetch", "prefetch_count"),
    path("connection", &["channel_details", "connection_name"]),
    field("active"),
    field("exclusive"),
    field("arguments"),
];

const SPEC: Spec = Spec {
    kind: Kind::Consumers,
    command: "list-consumers",
    what: "consumers",
    cols: COLS,
    default: &["queue", "consumer_tag", "channel", "ack_mode", "prefetch"],
    name: "queue",
    sort: &["vhost", "queue", "consumer_tag"],
    hidden: &[],
};

/// Run `rmq list-consumers`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    SPEC.run(ctx, &args.list.list, args.list.all_vhosts)
}
