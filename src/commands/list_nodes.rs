//! `rmq list-nodes`: the cluster's nodes, through the management HTTP API.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::listing::{Col, ListArgs, Spec, field};
use crate::mgmt::admin::Kind;

const EXAMPLES: &str = "\
Examples:
  rmq list-nodes
  rmq list-nodes --columns name,running,mem_alarm,disk_free_alarm
  rmq list-nodes --json | jq '.[] | select(.running | not) | .name'";

/// List the cluster's nodes (through the management HTTP API)
///
/// Columns: name, type, running, mem_used, mem_alarm, disk_free, disk_free_alarm, uptime
/// (ms). Also: mem_limit, disk_free_limit, fd_used, fd_total, sockets_used, proc_used,
/// processors. Bytes as the broker counts them. --filter matches the node's name.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub list: ListArgs,
}

const COLS: &[Col] = &[
    field("name"),
    field("type"),
    field("running"),
    field("mem_used"),
    field("mem_limit"),
    field("mem_alarm"),
    field("disk_free"),
    field("disk_free_limit"),
    field("disk_free_alarm"),
    field("fd_used"),
    field("fd_total"),
    field("sockets_used"),
    field("proc_used"),
    field("processors"),
    field("uptime"),
];

const SPEC: Spec = Spec {
    kind: Kind::Nodes,
    command: "list-nodes",
    what: "nodes",
    cols: COLS,
    default: &[
        "name",
        "type",
        "running",
        "mem_used",
        "mem_alarm",
        "disk_free",
        "disk_free_alarm",
        "uptime",
    ],
    name: "name",
    sort: &["name"],
    hidden: &[],
};

/// Run `rmq list-nodes`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    SPEC.run(ctx, &args.list, false)
}
