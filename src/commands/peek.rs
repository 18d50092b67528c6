//! `rmq peek`: show messages without removing them.

use crate::ctx::Ctx;
use crate::envelope;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::log;
use crate::output::Out;

const EXAMPLES: &str = "\
Examples:
  rmq peek -Q task_queue                 # the first 10 bodies
  rmq peek -Q orders.dlq -n 3 --json     # look into a dead-letter queue
  rmq peek -Q orders --filter '.routing_key | startswith(\"eu.\")'
  rmq peek -Q orders -n 1 --filter '(.body | fromjson? | .amount) > 100'";

/// Show messages in a queue without removing them
///
/// Fetches up to N messages unacknowledged (with --filter, up to N that match), prints them (raw lines, or JSON envelopes with
/// --json), then returns them all to the queue. They keep their order but are marked
/// redelivered. Without -Q, the queue is $RMQ_QUEUE or task_queue.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Queue to look into (it must exist)
    #[arg(short = 'Q', long, value_name = "QUEUE")]
    pub queue: Option<String>,

    /// How many messages to show at most (with --filter: matching messages)
    #[arg(short = 'n', long, value_name = "N", default_value = "10",
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub count: u64,

    /// Show only the messages for which the jq expression EXPR is true
    #[arg(long, value_name = "EXPR", long_help = filter_help())]
    pub filter: Option<String>,
}

fn filter_help() -> String {
    format!(
        "Show only the messages for which the jq expression EXPR is true\n\n{}\n\n\
         peek then reads the queue from its head until N messages matched or none is left, \
         and gives every message it read, matching or not, back to the queue in its order. \
         Example: --filter '.headers.tenant == \"acme\"'",
        crate::filter::HELP
    )
}

/// Run `rmq peek`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    // A bad expression is a usage error before any connection.
    let filter = args.filter.as_deref().map(Filter::parse).transpose()?;
    let queue = args.queue.clone().unwrap_or_else(|| ctx.default_queue());
    let mut session = ctx.connect("rmq peek")?;
    if session.queue_inspect(&queue)?.is_none() {
        return Err(Error::NotFound {
            what: format!("queue '{queue}' in vhost '{}'", session.endpoint().vhost),
            reason: "no such queue".into(),
            hint: "list the queues with rmq list-queues".into(),
        });
    }
    let ch = session.consumer_channel(None)?;
    // The messages to show, each with its envelope when one was needed already.
    let mut shown = Vec::new();
    let mut last = None;
    let mut read = 0u64;
    while (shown.len() as u64) < args.count {
        let Some(d) = ch.get(&queue, false)? else {
            break;
        };
        read += 1;
        last = Some(d.token.clone());
        match &filter {
            None => shown.push((d, None)),
            Some(f) => {
                let json = envelope::to_json(&d);
                if f.matches(&json)? {
                    shown.push((d, Some(json)));
                }
            }
        }
    }
    // Give them all back first: printing may fail (closed pipe), the queue must not.
    if let Some(last) = last {
        ch.nack(last, true, true)?;
    }
    ch.close();
    session.close();
    let mut out = Out::new();
    let count = shown.len();
    for (d, json) in shown {
        if ctx.json() {
            let json = json.unwrap_or_else(|| envelope::to_json(&d));
            out.text(&json.to_string())?;
        } else {
            out.line(&d.message.body)?;
        }
    }
    out.flush()?;
    log::info(&match filter {
        None => format!("showed {count} message(s) from queue '{queue}'"),
        Some(_) => format!(
            "showed {count} of {read} message(s) read from queue '{queue}' (matching --filter)"
        ),
    });
    Ok(())
}
