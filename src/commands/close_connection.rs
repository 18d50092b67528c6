//! `rmq close-connection`: close client connections by name or by user (asks first).

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::listing::{ColumnsArg, Scope};
use crate::mgmt::Api;
use crate::mgmt::admin::Kind;
use serde_json::Value;

const EXAMPLES: &str = "\
Examples:
  rmq list-connections --columns name,user,client
  rmq close-connection '127.0.0.1:51234 -> 127.0.0.1:5672' --reason 'maintenance'
  rmq close-connection -u batch --all-vhosts --yes     # every connection of user batch

The client is told the reason (AMQP connection.close 320 CONNECTION_FORCED).";

/// Close client connections
///
/// Give connection names (as list-connections shows them) or -u USER for all of that user's
/// connections (in the vhost of --vhost / the URL; --all-vhosts for all). Destructive: on a
/// terminal rmq lists them and asks; elsewhere -y/--yes is required, else exit 2. An unknown
/// connection name is exit 5; a user without connections closes nothing (exit 0).
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Names of the connections to close
    #[arg(
        value_name = "NAME",
        required_unless_present = "for_user",
        conflicts_with = "for_user"
    )]
    pub names: Vec<String>,

    /// Close every connection of this user (-u: --user is the connection's own user)
    #[arg(short = 'u', long = "for-user", value_name = "USER")]
    pub for_user: Option<String>,

    /// With -u: the user's connections in every vhost
    #[arg(long, requires = "for_user")]
    pub all_vhosts: bool,

    /// Reason the clients are told
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "closed by rmq close-connection"
    )]
    pub reason: String,

    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// Run `rmq close-connection`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let what = match &args.for_user {
        Some(u) => format!("closing the connections of user '{u}'"),
        None => format!("closing {} connection(s)", args.names.len()),
    };
    let confirm = crate::prompt::Confirm::require(args.yes, &what)?;
    let api = Api::new(ctx)?;
    let names = match &args.for_user {
        None => args.names.clone(),
        Some(u) => {
            let vhost = (!args.all_vhosts).then(|| api.vhost().to_string());
            let all = api.list(Kind::Connections, vhost.as_deref())?;
            let names: Vec<String> = all
                .iter()
                .filter(|c| c.get("user").and_then(Value::as_str) == Some(u))
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(String::from))
                .collect();
            if names.is_empty() {
                crate::log::note(&crate::listing::empty_note(
                    &format!("connections of user '{u}'"),
                    Scope::of(vhost.as_deref()),
                    false,
                ));
                return Ok(());
            }
            names
        }
    };
    if !args.yes {
        // What will be closed, before asking (the connections' own listing).
        let spec = &super::list_connections::SPEC;
        let pick = spec.pick(&ColumnsArg::default(), false)?;
        let all = api.list(Kind::Connections, None)?;
        let shown: Vec<Value> = all
            .into_iter()
            .filter(|c| {
                c.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| names.iter().any(|x| x == n))
            })
            .collect();
        crate::listing::print(
            &spec.listing(&pick, shown, None),
            false,
            "connections",
            Scope::AllVhosts,
            false,
        )?;
    }
    confirm.ask(&format!("Close {} connection(s)?", names.len()))?;
    let mut closed = Vec::new();
    for name in &names {
        match api.connection_close(name, &args.reason) {
            Ok(()) => closed.push(name.clone()),
            // Already gone while closing a user's connections: fine.
            Err(Error::NotFound { .. }) if args.for_user.is_some() => {}
            Err(e) => return Err(e),
        }
    }
    crate::changes::done(
        ctx,
        &format!(
            "closed {} connection(s): {}",
            closed.len(),
            closed.join(", ")
        ),
        serde_json::json!({"closed": closed, "reason": args.reason}),
    )
}
