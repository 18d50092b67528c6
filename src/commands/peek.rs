//! `rmq peek`: show messages without removing them.

use crate::ctx::Ctx;
use crate::envelope;
use crate::error::{Error, Result};
use crate::log;
use crate::output::Out;

const EXAMPLES: &str = "\
Examples:
  rmq peek -Q task_queue                 # the first 10 bodies
  rmq peek -Q orders.dlq -n 3 --json     # look into a dead-letter queue";

/// Show messages in a queue without removing them
///
/// Fetches up to N messages unacknowledged, prints them (raw lines, or JSON envelopes with
/// --json), then returns them all to the queue. They keep their order but are marked
/// redelivered. Without -Q, the queue is $RMQ_QUEUE or task_queue.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Queue to look into (it must exist)
    #[arg(short = 'Q', long, value_name = "QUEUE")]
    pub queue: Option<String>,

    /// How many messages to show at most
    #[arg(short = 'n', long, value_name = "N", default_value = "10",
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub count: u64,
}

/// Run `rmq peek`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
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
    let mut got = Vec::new();
    while (got.len() as u64) < args.count {
        match ch.get(&queue, false)? {
            Some(d) => got.push(d),
            None => break,
        }
    }
    // Give them back first: printing may fail (closed pipe), the queue must not.
    if let Some(last) = got.last() {
        ch.nack(last.token.clone(), true, true)?;
    }
    ch.close();
    session.close();
    let mut out = Out::new();
    for d in &got {
        if ctx.json() {
            out.text(&envelope::to_json(d).to_string())?;
        } else {
            out.line(&d.message.body)?;
        }
    }
    out.flush()?;
    log::info(&format!(
        "showed {} message(s) from queue '{queue}'",
        got.len()
    ));
    Ok(())
}
