//! `rmq policy-delete`: delete a policy.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::mgmt::Api;

const EXAMPLES: &str = "\
Examples:
  rmq policy-delete ttl --vhost prod";

/// Delete a policy
///
/// The vhost is --vhost (or the URL's). The queues it applied to lose its arguments at once.
/// A policy that does not exist is exit 5.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Name of the policy
    #[arg(value_name = "NAME")]
    pub name: String,
}

/// Run `rmq policy-delete`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let api = Api::new(ctx)?;
    let vhost = api.vhost().to_string();
    api.policy_delete(&vhost, &args.name)?;
    crate::changes::done(
        ctx,
        &format!("deleted policy '{}' in vhost '{vhost}'", args.name),
        serde_json::json!({"name": args.name, "vhost": vhost}),
    )
}
