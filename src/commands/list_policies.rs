//! `rmq list-policies`: policies, through the management HTTP API.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::listing::{Col, Spec, VhostListArgs, field, from};
use crate::mgmt::admin::Kind;

const EXAMPLES: &str = "\
Examples:
  rmq list-policies
  rmq list-policies --all-vhosts --json | jq '.[] | {name, definition}'";

/// List policies (through the management HTTP API)
///
/// Columns: vhost, name, pattern, apply_to, priority, definition (JSON). Lists the vhost of
/// the connection settings; --all-vhosts lists all. --filter matches the policy's name.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub list: VhostListArgs,
}

const COLS: &[Col] = &[
    field("vhost"),
    field("name"),
    field("pattern"),
    from("apply_to", "apply-to"),
    field("priority"),
    field("definition"),
];

const SPEC: Spec = Spec {
    kind: Kind::Policies,
    command: "list-policies",
    what: "policies",
    cols: COLS,
    default: &[
        "vhost",
        "name",
        "pattern",
        "apply_to",
        "priority",
        "definition",
    ],
    name: "name",
    sort: &["vhost", "name"],
    hidden: &[],
};

/// Run `rmq list-policies`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    SPEC.run(ctx, &args.list.list, args.list.all_vhosts)
}
