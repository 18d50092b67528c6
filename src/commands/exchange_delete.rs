//! `rmq exchange-delete`: delete an exchange and its bindings (asks first).

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::log;
use crate::prompt::Confirm;

const EXAMPLES: &str = "\
Examples:
  rmq exchange-delete logs                   # asks on a terminal
  rmq exchange-delete logs --yes             # in scripts
  rmq exchange-delete logs --if-unused --yes # exit 6 while queues are bound to it";

/// Delete an exchange
///
/// Destructive: on a terminal rmq asks first; elsewhere (scripts, pipes, RMQ_NON_INTERACTIVE
/// set) -y/--yes is required, else it exits 2 and changes nothing. Its bindings are removed;
/// messages published to it afterwards are lost (or fail with exit 5 in `rmq send`).
///
/// An exchange that does not exist is exit 5 (RabbitMQ itself would answer "deleted"). With
/// --if-unused, an exchange that still has bindings to queues or exchanges is left alone:
/// exit 6. The default exchange and the amq.* exchanges cannot be deleted (exit 4).
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Exchange to delete
    #[arg(value_name = "EXCHANGE")]
    pub exchange: String,

    /// Only if nothing is bound to it (exit 6 otherwise)
    #[arg(long)]
    pub if_unused: bool,

    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// Run `rmq exchange-delete`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let name = &args.exchange;
    crate::amqp::check_name(name)?;
    let vhost = ctx.vhost()?;
    let confirm = Confirm::require(
        args.yes,
        &format!("deleting exchange '{name}' in vhost '{vhost}'"),
    )?;
    if name.is_empty() || name.starts_with("amq.") {
        return Err(Error::AccessRefused {
            what: format!("exchange '{name}' in vhost '{vhost}'"),
            reason: "the default exchange and the amq.* exchanges are built in and cannot be \
                     deleted"
                .into(),
            hint: "nothing to do: they always exist".into(),
        });
    }
    let mut session = ctx.connect("rmq exchange-delete")?;
    let vhost = session.endpoint().vhost.clone();
    if !session.exchange_exists(name)? {
        return Err(Error::NotFound {
            what: format!("exchange '{name}' in vhost '{vhost}'"),
            reason: "no such exchange; nothing was changed".into(),
            hint: "check the name and the vhost: rmq list-exchanges (or --vhost)".into(),
        });
    }
    confirm.ask(&format!("Delete exchange '{name}' in vhost '{vhost}'?"))?;
    session
        .exchange_delete(name, args.if_unused)
        .map_err(|e| match e {
            Error::Precondition { reason, .. } => Error::Precondition {
                what: format!("exchange '{name}' in vhost '{vhost}' was not deleted"),
                reason,
                hint: format!(
                    "remove its bindings first (rmq list-bindings -e {name}, rmq unbind), or \
                     drop --if-unused"
                ),
            },
            other => other,
        })?;
    session.close();
    log::note(&format!("deleted exchange '{name}' in vhost '{vhost}'"));
    Ok(())
}
