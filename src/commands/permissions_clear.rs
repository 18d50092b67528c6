//! `rmq permissions-clear`: remove a user's permissions in a vhost.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::mgmt::Api;

const EXAMPLES: &str = "\
Examples:
  rmq permissions-clear -u alice --vhost prod";

/// Remove a user's permissions in a vhost
///
/// The vhost is --vhost (or the URL's). Exit 5 when the user, the vhost, or the permissions
/// do not exist.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// The user (-u: --user is the connection's own user)
    #[arg(short = 'u', long = "for-user", value_name = "USER")]
    pub username: String,
}

/// Run `rmq permissions-clear`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let api = Api::new(ctx)?;
    let vhost = api.vhost().to_string();
    api.permissions_delete(&vhost, &args.username)?;
    crate::changes::done(
        ctx,
        &format!(
            "cleared permissions of user '{}' in vhost '{vhost}'",
            args.username
        ),
        serde_json::json!({"user": args.username, "vhost": vhost}),
    )
}
