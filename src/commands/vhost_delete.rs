//! `rmq vhost-delete`: delete a virtual host and everything in it (asks first).

use crate::ctx::Ctx;
use crate::error::Result;
use crate::mgmt::Api;

const EXAMPLES: &str = "\
Examples:
  rmq vhost-delete staging                 # asks on a terminal
  rmq vhost-delete staging --yes           # in scripts";

/// Delete a virtual host with all its queues, exchanges, bindings and messages
///
/// Destructive: on a terminal rmq asks first; elsewhere -y/--yes is required, else exit 2 and
/// nothing changes. A vhost that does not exist is exit 5.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Name of the vhost
    #[arg(value_name = "VHOST")]
    pub name: String,

    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// Run `rmq vhost-delete`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let v = &args.name;
    crate::changes::confirm(
        args.yes,
        &format!("deleting vhost '{v}'"),
        &format!("Delete vhost '{v}' and every queue, exchange and message in it?"),
    )?;
    Api::new(ctx)?.vhost_delete(v)?;
    crate::changes::done(
        ctx,
        &format!("deleted vhost '{v}'"),
        serde_json::json!({"vhost": v}),
    )
}
