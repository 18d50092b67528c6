//! `rmq vhost-declare`: create a virtual host (management HTTP API).

use crate::ctx::Ctx;
use crate::error::Result;
use crate::mgmt::Api;

const EXAMPLES: &str = "\
Examples:
  rmq vhost-declare staging
  rmq vhost-declare staging && rmq --vhost staging queue-declare jobs --durable";

/// Create a virtual host
///
/// Declaring one that exists changes nothing (and says so). The user running rmq is not
/// granted any permissions in it: use `rmq permissions-set`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Name of the vhost
    #[arg(value_name = "VHOST")]
    pub name: String,
}

/// Run `rmq vhost-declare`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let api = Api::new(ctx)?;
    let v = &args.name;
    let existed = api.vhost_exists(v)?;
    if !existed {
        api.vhost_put(v)?;
    }
    let note = if existed {
        format!("vhost '{v}' already exists; nothing changed")
    } else {
        format!("created vhost '{v}'")
    };
    crate::changes::done(
        ctx,
        &note,
        serde_json::json!({"vhost": v, "created": !existed}),
    )
}
