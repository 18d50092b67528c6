//! `rmq user-delete`: delete a user (asks first).

use crate::ctx::Ctx;
use crate::error::Result;
use crate::mgmt::Api;

const EXAMPLES: &str = "\
Examples:
  rmq user-delete alice --yes";

/// Delete a user
///
/// Destructive: on a terminal rmq asks first; elsewhere -y/--yes is required, else exit 2.
/// The user's connections stay open until they close; a user that does not exist is exit 5.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Name of the user
    #[arg(value_name = "USER")]
    pub username: String,

    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// Run `rmq user-delete`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let u = &args.username;
    crate::changes::confirm(
        args.yes,
        &format!("deleting user '{u}'"),
        &format!("Delete user '{u}' and all its permissions?"),
    )?;
    Api::new(ctx)?.user_delete(u)?;
    crate::changes::done(
        ctx,
        &format!("deleted user '{u}'"),
        serde_json::json!({"user": u}),
    )
}
