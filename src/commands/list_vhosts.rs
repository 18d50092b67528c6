//! `rmq list-vhosts`: virtual hosts, through the management HTTP API.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::listing::{Col, ListArgs, Spec, field, from};
use crate::mgmt::admin::Kind;

const EXAMPLES: &str = "\
Examples:
  rmq list-vhosts
  rmq list-vhosts --columns name | tail -n +2 | while read -r v; do rmq list-queues --vhost \"$v\"; done";

/// List virtual hosts (through the management HTTP API)
///
/// Columns: name, messages, ready, unacked, tracing, description. Also: tags,
/// default_queue_type. --filter matches the name.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub list: ListArgs,
}

const COLS: &[Col] = &[
    field("name"),
    field("messages"),
    from("ready", "messages_ready"),
    from("unacked", "messages_unacknowledged"),
    field("tracing"),
    field("description"),
    field("tags"),
    field("default_queue_type"),
];

const SPEC: Spec = Spec {
    kind: Kind::Vhosts,
    command: "list-vhosts",
    what: "vhosts",
    cols: COLS,
    default: &[
        "name",
        "messages",
        "ready",
        "unacked",
        "tracing",
        "description",
    ],
    name: "name",
    sort: &["name"],
    hidden: &[],
};

/// Run `rmq list-vhosts`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    SPEC.run(ctx, &args.list, false)
}
