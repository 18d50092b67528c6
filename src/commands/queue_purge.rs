//! `rmq queue-purge`: remove every ready message from a queue (asks first).

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::log;
use crate::output::Out;
use crate::prompt::Confirm;

const EXAMPLES: &str = "\
Examples:
  rmq queue-purge task_queue          # asks on a terminal
  rmq queue-purge task_queue --yes    # in scripts: no terminal, so --yes is required
  rmq queue-purge --pattern '^retry\\.' --dry-run   # the queues that match
  rmq queue-purge --pattern '^retry\\.' --yes";

/// Remove all ready messages from a queue
///
/// Destructive: on a terminal rmq asks first; elsewhere (scripts, pipes, RMQ_NON_INTERACTIVE
/// set) -y/--yes is required, else it exits 2 and changes nothing. Messages delivered to a
/// consumer but not yet acknowledged are not purged. Prints the number purged on stderr
/// (with --json, `{"queue": ..., "purged": N}` on stdout). A missing queue is exit 5.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Queue to purge
    #[arg(value_name = "QUEUE", required_unless_present = "pattern")]
    pub queue: Option<String>,

    #[command(flatten)]
    pub bulk: crate::bulk::BulkArgs,

    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// Run `rmq queue-purge`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    if let Some(re) = &args.bulk.pattern {
        return crate::bulk::run(ctx, &args.bulk, re, args.yes, "purge", |s, q| {
            s.queue_purge(q).map(u64::from)
        });
    }
    let name = args.queue.as_deref().unwrap_or_default();
    crate::amqp::check_name(name)?;
    let vhost = ctx.vhost()?;
    let confirm = Confirm::require(
        args.yes,
        &format!("purging queue '{name}' in vhost '{vhost}'"),
    )?;
    let mut session = ctx.connect("rmq queue-purge")?;
    let vhost = session.endpoint().vhost.clone();
    let Some(info) = session.queue_inspect(name)? else {
        return Err(queue_not_found(name, &vhost));
    };
    confirm.ask(&format!(
        "Purge {} ready message(s) from queue '{name}' in vhost '{vhost}'?",
        info.messages
    ))?;
    let purged = session.queue_purge(name)?;
    session.close();
    log::note(&format!(
        "purged {purged} message(s) from queue '{name}' in vhost '{vhost}'"
    ));
    if ctx.json() {
        let mut out = Out::new();
        out.json(&serde_json::json!({"queue": name, "vhost": vhost, "purged": purged}))?;
        out.flush()?;
    }
    Ok(())
}

/// Exit 5 for a queue a destructive command was asked to act on.
pub fn queue_not_found(name: &str, vhost: &str) -> Error {
    Error::NotFound {
        what: format!("queue '{name}' in vhost '{vhost}'"),
        reason: "no such queue; nothing was changed".into(),
        hint: "check the name and the vhost: rmq list-queues (or --vhost)".into(),
    }
}
