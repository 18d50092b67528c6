//! `rmq move`: move messages from one queue to another place without losing any (above all,
//! dead-letter replay). This file holds the arguments, the checks before the run and the
//! summary; the consume → publish → confirm → ack loop is move/relay.rs, routing move/route.rs.

mod reconnect;
mod relay;
mod route;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::log;
use crate::output::Out;
use relay::{Relay, Tally};
use route::Destination;
use std::time::Instant;

const EXAMPLES: &str = "\
Examples:
  rmq move --from orders.dlq --to-origin          # dead-letter replay: back where they died
  rmq move --from orders.dlq --to orders          # into one queue
  rmq move --from old -e events -k eu.new -n 100  # the first 100, to an exchange
  rmq move --from orders.dlq --to-origin --filter '.headers.tenant == \"acme\"'
  rmq move --from a --to b --json | jq .moved     # the summary as JSON
  rmq --url amqp://n1 --url amqp://n2 move --from a --to b   # a lost node: on through n2
  rmq move --from a --to b --no-reconnect         # a lost connection: exit 3 (run it again)

Output: a progress bar on a terminal; `moved N from 'Q' to ...` on stderr at the end (with
--json, an object on stdout: moved, skipped, filtered, unroutable, nacked,
possible_duplicates, reconnects, seconds). Exit 7 when the destination could not route some
messages (they stayed in the source), 5 when the source or destination queue does not
exist, 3 when the connection was lost with --no-reconnect (or could not be made again).";

/// Move messages from a queue to another queue or exchange, losing none
///
/// Each message is consumed from --from with a manual ack, published unchanged (body, every
/// property and header) to the destination with publisher confirms, and acked in the source
/// only once the broker has confirmed its copy; a window of unconfirmed copies keeps it at
/// the broker's speed. Ctrl-C, a lost connection or kill -9 leave every message in the source
/// or at the destination (a copy whose ack was lost can be there twice, never nowhere).
///
/// When the connection is lost (a broker restart, a forced close, a silent broker noticed by
/// the heartbeats, see --heartbeat), move reconnects, to the next --url when there are
/// several, and goes on until done: the messages not acked come back to the source and are
/// moved then. That is at-least-once: the copies unconfirmed at the loss (and those whose
/// ack the loss swallowed) may be at the destination twice; the summary counts them as
/// possible duplicates. --no-reconnect exits 3 instead.
///
/// It moves at most the messages the source held when it started (so a loop where the
/// destination dead-letters back into the source ends), or -n N. Messages that are not moved
/// (--filter does not match, --to-origin without an x-death header, returned unroutable by
/// the destination) stay in the source, in their order.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
#[command(group(clap::ArgGroup::new("destination").required(true).args(["to", "exchange", "to_origin"])))]
pub struct Args {
    /// Queue to take the messages from
    #[arg(long, value_name = "QUEUE")]
    pub from: String,

    /// Queue to move them to (through the default exchange)
    #[arg(long, value_name = "QUEUE")]
    pub to: Option<String>,

    /// Exchange to publish them to (with -k, or each message's own routing key)
    #[arg(short = 'e', long, value_name = "EXCHANGE")]
    pub exchange: Option<String>,

    /// Routing key for -e (default: the message's own)
    #[arg(short = 'k', long, value_name = "KEY", requires = "exchange")]
    pub routing_key: Option<String>,

    /// Dead-letter replay: each message goes to the exchange and routing key of its first
    /// x-death entry; messages never dead-lettered stay and are counted skipped
    #[arg(long)]
    pub to_origin: bool,

    /// Move at most N messages
    #[arg(short = 'n', long, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    /// Move only the messages for which this jq expression, run on the message's JSON
    /// envelope (as printed by `rmq receive --json`), yields true; the others stay in the
    /// source, in their order
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,

    /// Messages in flight at most (the source's prefetch; memory is about this many
    /// messages: lower it for large ones) [default: 1024]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub prefetch: Option<u16>,

    /// On connection loss exit 3 instead of reconnecting (every message is then in the
    /// source or at the destination; the summary counts the possible duplicates)
    #[arg(long)]
    pub no_reconnect: bool,
}

/// Run `rmq move`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let filter = args.filter.as_deref().map(Filter::parse).transpose()?;
    let dest = destination(&args)?;
    crate::amqp::check_name(&args.from)?;
    crate::signals::install(true);
    let mut session = ctx.connect("rmq move")?;
    let vhost = session.endpoint().vhost.clone();
    let Some(source) = session.queue_inspect(&args.from)? else {
        return Err(missing_queue(&args.from, &vhost, "the source"));
    };
    check_destination(&mut session, &dest, &vhost)?;
    let started = Instant::now();
    let limit = args.count.map_or(source.messages.into(), |n| {
        n.min(u64::from(source.messages))
    });
    let relay = Relay::new(
        &args.from,
        dest.clone(),
        filter,
        u64::from(source.messages),
        limit,
        args.prefetch.unwrap_or(relay::WINDOW),
        !args.no_reconnect,
    );
    let (tally, result) = relay.run(ctx, session);
    summary(&tally, &args.from, &dest, started, ctx.json());
    result?;
    outcome(&tally, &args.from)
}

fn destination(args: &Args) -> Result<Destination> {
    if let Some(q) = &args.to {
        crate::amqp::check_name(q)?;
        if *q == args.from {
            return Err(Error::Usage(format!(
                "--from and --to are the same queue '{q}': nothing would move"
            )));
        }
        return Ok(Destination::Queue(q.clone()));
    }
    if let Some(x) = &args.exchange {
        crate::amqp::check_name(x)?;
        return Ok(Destination::Exchange {
            name: x.clone(),
            key: args.routing_key.clone(),
        });
    }
    Ok(Destination::Origin)
}

/// A missing destination queue or exchange is exit 5 before anything moves.
fn check_destination(
    session: &mut crate::amqp::Session,
    dest: &Destination,
    vhost: &str,
) -> Result<()> {
    match dest {
        Destination::Queue(q) => {
            if session.queue_inspect(q)?.is_none() {
                return Err(missing_queue(q, vhost, "the destination"));
            }
        }
        Destination::Exchange { name, .. } => {
            if !session.exchange_exists(name)? {
                return Err(Error::NotFound {
                    what: format!("exchange '{name}' in vhost '{vhost}'"),
                    reason: "the destination does not exist; nothing was moved".into(),
                    hint: format!("declare it first: rmq exchange-declare {name} -t TYPE"),
                });
            }
        }
        Destination::Origin => {}
    }
    Ok(())
}

fn missing_queue(name: &str, vhost: &str, role: &str) -> Error {
    Error::NotFound {
        what: format!("queue '{name}' in vhost '{vhost}'"),
        reason: format!("{role} does not exist; nothing was moved"),
        hint: "check the name: rmq list-queues (or declare it: rmq queue-declare)".into(),
    }
}

/// `moved N from 'Q' to ...` on stderr, or the same as a JSON object on stdout.
fn summary(t: &Tally, from: &str, dest: &Destination, started: Instant, json: bool) {
    let secs = started.elapsed().as_secs_f64();
    if json {
        let v = serde_json::json!({
            "from": from, "to": dest.describe(), "moved": t.moved, "skipped": t.skipped,
            "filtered": t.filtered, "unroutable": t.unroutable, "nacked": t.nacked,
            "possible_duplicates": t.duplicates, "reconnects": t.reconnects, "seconds": secs,
        });
        let mut out = Out::new();
        let _ = out.text(&v.to_string()).and_then(|()| out.flush());
        return;
    }
    let mut line = format!("moved {} from '{from}' to {}", t.moved, dest.describe());
    for (n, what) in [
        (t.skipped, "skipped (no x-death)"),
        (t.filtered, "left by the filter"),
        (t.unroutable, "unroutable"),
        (t.nacked, "nacked"),
        (t.reconnects, "reconnect(s)"),
        (
            t.duplicates,
            "possible duplicates (copies in flight when the connection was lost)",
        ),
    ] {
        if n > 0 {
            line += &format!(", {n} {what}");
        }
    }
    line += &format!(" in {secs:.3} s");
    if t.moved >= 100 && secs > 0.0 {
        line += &format!(" ({:.0} msg/s)", t.moved as f64 / secs);
    }
    log::note(&line);
}

/// Exit 7 when the destination refused some messages; 130 after Ctrl-C.
fn outcome(t: &Tally, from: &str) -> Result<()> {
    if t.interrupted {
        return Err(Error::Interrupted(format!(
            "stopped after moving {}; the rest stayed in '{from}'",
            t.moved
        )));
    }
    if t.unroutable > 0 {
        return Err(Error::Stayed {
            stayed: t.unroutable,
            queue: from.to_string(),
        });
    }
    if t.nacked > 0 {
        return Err(Error::Nacked { nacked: t.nacked });
    }
    Ok(())
}
