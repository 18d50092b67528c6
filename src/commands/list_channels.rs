//! `rmq list-channels`: AMQP channels, through the management HTTP API.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::listing::{Col, Spec, VhostListArgs, field, from, path};
use crate::mgmt::admin::Kind;

const EXAMPLES: &str = "\
Examples:
  rmq list-channels
  rmq list-channels --all-vhosts --columns vhost,name,unacked
  rmq list-channels --json | jq '.[] | select(.messages_unacknowledged > 100)'";

/// List channels (through the management HTTP API)
///
/// Columns: name, connection, user, vhost, number, state, consumers, prefetch, unacked,
/// unconfirmed, confirm, transactional. Also: node, global_prefetch. Lists the vhost of the
/// connection settings; --all-vhosts lists all. --filter matches the channel's name.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub list: VhostListArgs,
}

const COLS: &[Col] = &[
    field("name"),
    path("connection", &["connection_details", "name"]),
    field("user"),
    field("vhost"),
    field("number"),
    field("state"),
    from("consumers", "consumer_count"),
    from("prefetch", "prefetch_count"),
    from("unacked", "messages_unacknowledged"),
    from("unconfirmed", "messages_unconfirmed"),
    field("confirm"),
    field("transactional"),
    field("node"),
    from("global_prefetch", "global_prefetch_count"),
];

const SPEC: Spec = Spec {
    kind: Kind::Channels,
    command: "list-channels",
    what: "channels",
    cols: COLS,
    default: &[
        "name",
        "user",
        "vhost",
        "state",
        "consumers",
        "prefetch",
        "unacked",
        "confirm",
    ],
    name: "name",
    sort: &["vhost", "name"],
    hidden: &[],
};

/// Run `rmq list-channels`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    SPEC.run(ctx, &args.list.list, args.list.all_vhosts)
}
