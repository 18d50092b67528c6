//! `rmq queue-delete`: delete a queue and its messages (asks first).

use crate::amqp::QueueInfo;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::log;
use crate::output::Out;
use crate::prompt::Confirm;

const EXAMPLES: &str = "\
Examples:
  rmq queue-delete hello                   # asks on a terminal
  rmq queue-delete hello --yes             # in scripts
  rmq queue-delete jobs --if-empty --yes   # exit 6 if it still holds messages
  rmq queue-delete jobs --yes || [ $? -eq 5 ]   # already gone is fine too
  rmq queue-delete --pattern '^tmp\\.' --dry-run # list the queues that match; change nothing
  rmq queue-delete --pattern '^tmp\\.' --yes     # delete them all";

/// Delete a queue
///
/// Destructive: on a terminal rmq asks first; elsewhere (scripts, pipes, RMQ_NON_INTERACTIVE
/// set) -y/--yes is required, else it exits 2 and changes nothing. Messages in the queue are
/// lost and its bindings removed; consumers are cancelled.
///
/// A queue that does not exist is exit 5 (RabbitMQ itself would answer "deleted, 0
/// messages"; rmq checks first so that a typo does not look like success). With --if-empty
/// or --if-unused, a queue that holds messages or has consumers is left alone: exit 6 (for
/// quorum queues, which RabbitMQ cannot delete conditionally, rmq checks the counts itself
/// just before deleting).
/// Prints the number of messages deleted on stderr (with --json,
/// `{"queue": ..., "messages": N}` on stdout).
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Queue to delete
    #[arg(value_name = "QUEUE", required_unless_present = "pattern")]
    pub queue: Option<String>,

    #[command(flatten)]
    pub bulk: crate::bulk::BulkArgs,

    /// Only if it has no consumers (exit 6 otherwise)
    #[arg(long)]
    pub if_unused: bool,

    /// Only if it holds no messages (exit 6 otherwise)
    #[arg(long)]
    pub if_empty: bool,

    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// Run `rmq queue-delete`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    if let Some(re) = &args.bulk.pattern {
        return crate::bulk::run(ctx, &args.bulk, re, args.yes, "delete", |s, q| {
            s.queue_delete(q, args.if_unused, args.if_empty)
                .map(u64::from)
        });
    }
    let name = args.queue.as_deref().unwrap_or_default();
    crate::amqp::check_name(name)?;
    let vhost = ctx.vhost()?;
    let confirm = Confirm::require(
        args.yes,
        &format!("deleting queue '{name}' in vhost '{vhost}'"),
    )?;
    let mut session = ctx.connect("rmq queue-delete")?;
    let vhost = session.endpoint().vhost.clone();
    let Some(info) = session.queue_inspect(name)? else {
        return Err(super::queue_purge::queue_not_found(name, &vhost));
    };
    // What the broker would refuse anyway: say so before asking.
    check_flags(&args, name, &vhost, &info)?;
    confirm.ask(&format!(
        "Delete queue '{name}' in vhost '{vhost}' ({} ready message(s), {} consumer(s))?",
        info.messages, info.consumers
    ))?;
    let deleted = match session.queue_delete(name, args.if_unused, args.if_empty) {
        Ok(n) => n,
        // Quorum and stream queues refuse if-unused/if-empty (RabbitMQ 3.10 closes the
        // connection with 540 NOT_IMPLEMENTED): check the counts ourselves right before an
        // unconditional delete.
        Err(Error::ConnectionLost { reason, .. })
            if reason.contains("NOT_IMPLEMENTED") && (args.if_unused || args.if_empty) =>
        {
            log::info(&format!(
                "queue '{name}' does not support --if-unused/--if-empty in RabbitMQ; checking \
                 its counts instead"
            ));
            drop(session);
            session = ctx.connect("rmq queue-delete")?;
            let Some(info) = session.queue_inspect(name)? else {
                return Err(super::queue_purge::queue_not_found(name, &vhost));
            };
            check_flags(&args, name, &vhost, &info)?;
            session.queue_delete(name, false, false)?
        }
        Err(Error::Precondition { reason, .. }) => {
            return Err(refused(
                name,
                &vhost,
                &reason,
                "drop --if-empty/--if-unused, or consume/purge it first",
            ));
        }
        Err(e) => return Err(e),
    };
    session.close();
    log::note(&format!(
        "deleted queue '{name}' in vhost '{vhost}' ({deleted} message(s))"
    ));
    if ctx.json() {
        let mut out = Out::new();
        out.json(&serde_json::json!({"queue": name, "vhost": vhost, "messages": deleted}))?;
        out.flush()?;
    }
    Ok(())
}

/// --if-empty / --if-unused against the counts of a passive declaration.
fn check_flags(args: &Args, name: &str, vhost: &str, info: &QueueInfo) -> Result<()> {
    if args.if_empty && info.messages > 0 {
        return Err(refused(
            name,
            vhost,
            &format!(
                "it holds {} ready message(s) and --if-empty was given",
                info.messages
            ),
            "purge or consume it first, or drop --if-empty",
        ));
    }
    if args.if_unused && info.consumers > 0 {
        return Err(refused(
            name,
            vhost,
            &format!(
                "it has {} consumer(s) and --if-unused was given",
                info.consumers
            ),
            "stop its consumers first, or drop --if-unused",
        ));
    }
    Ok(())
}

fn refused(name: &str, vhost: &str, reason: &str, hint: &str) -> Error {
    Error::Precondition {
        what: format!("queue '{name}' in vhost '{vhost}' was not deleted"),
        reason: reason.to_string(),
        hint: hint.to_string(),
    }
}
