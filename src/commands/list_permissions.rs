//! `rmq list-permissions`: users' permissions in vhosts, through the management HTTP API.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::listing::{Col, Spec, VhostListArgs, field};
use crate::mgmt::admin::Kind;

const EXAMPLES: &str = "\
Examples:
  rmq list-permissions                     # who may do what in the connection's vhost
  rmq list-permissions --all-vhosts --filter '^alice$'";

/// List permissions (through the management HTTP API)
///
/// Columns: user, vhost, configure, write, read (regular expressions on resource names).
/// Lists the vhost of the connection settings; --all-vhosts lists all. --filter matches the
/// user name.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub list: VhostListArgs,
}

const COLS: &[Col] = &[
    field("user"),
    field("vhost"),
    field("configure"),
    field("write"),
    field("read"),
];

const SPEC: Spec = Spec {
    kind: Kind::Permissions,
    command: "list-permissions",
    what: "permissions",
    cols: COLS,
    default: &["user", "vhost", "configure", "write", "read"],
    name: "user",
    sort: &["vhost", "user"],
    hidden: &[],
};

/// Run `rmq list-permissions`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    SPEC.run(ctx, &args.list.list, args.list.all_vhosts)
}
