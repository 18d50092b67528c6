//! `rmq peek`: show messages without removing them.

use crate::amqp::{ConsumerChannel, Delivery, Event};
use crate::ctx::Ctx;
use crate::envelope;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::log;
use crate::output::Out;
use crate::stream_offset::StreamOffset;

const EXAMPLES: &str = "\
Examples:
  rmq peek -Q task_queue                 # the first 10 bodies
  rmq peek -Q orders.dlq -n 3 --json     # look into a dead-letter queue
  rmq peek -Q orders --filter '.routing_key | startswith(\"eu.\")'
  rmq peek -Q orders -n 1 --filter '(.body | fromjson? | .amount) > 100'
  rmq peek -Q events --offset 1h -n 5     # a stream: the first 5 of the last hour";

/// Show messages in a queue without removing them
///
/// Fetches up to N messages unacknowledged (with --filter, up to N that match), prints them (raw lines, or JSON envelopes with
/// --json), then returns them all to the queue. They keep their order but are marked
/// redelivered. Without -Q, the queue is $RMQ_QUEUE or task_queue.
///
/// On a stream, peek reads from --offset (default: first) until N messages or 1 s without
/// one; reading a stream removes nothing.
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

    /// Where to start reading a stream: first, last, next, an offset N, a time
    /// (2026-12-01T10:00:00Z) or an age (1h, 30m, 2D: that long ago); streams only
    #[arg(long, value_name = "OFFSET", value_parser = parse_offset)]
    pub offset: Option<StreamOffset>,

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
    let stream = crate::stream_offset::is_stream(&mut session, &queue, args.offset.is_some())?;
    let ch = session.consumer_channel(stream.then(|| prefetch(args.count)))?;
    let read = if stream {
        let offset = args.offset.clone().unwrap_or(StreamOffset::First);
        from_stream(&ch, &queue, &offset, args.count, filter.as_ref())
    } else {
        from_queue(&ch, &queue, args.count, filter.as_ref())
    };
    ch.close();
    let (shown, read) = read?;
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
    log::info(&match &filter {
        None => format!("showed {count} message(s) from queue '{queue}'"),
        Some(_) => format!(
            "showed {count} of {read} message(s) read from queue '{queue}' (matching --filter)"
        ),
    });
    Ok(())
}

/// A message to show, with its envelope when the filter already made it.
type Shown = Vec<(Delivery, Option<serde_json::Value>)>;

fn parse_offset(s: &str) -> std::result::Result<StreamOffset, String> {
    StreamOffset::parse(s).map_err(|e| e.to_string())
}

fn prefetch(count: u64) -> u16 {
    u16::try_from(count.min(1000)).unwrap_or(1000)
}

/// Keep `d` when it matches (or there is no filter).
fn keep(shown: &mut Shown, d: Delivery, filter: Option<&Filter>) -> Result<()> {
    match filter {
        None => shown.push((d, None)),
        Some(f) => {
            let json = envelope::to_json(&d);
            if f.matches(&json)? {
                shown.push((d, Some(json)));
            }
        }
    }
    Ok(())
}

/// basic.get up to `count` (matching) messages, then give them all back in their order.
fn from_queue(
    ch: &ConsumerChannel,
    queue: &str,
    count: u64,
    filter: Option<&Filter>,
) -> Result<(Shown, u64)> {
    let mut shown = Vec::new();
    let mut last = None;
    let mut read = 0u64;
    while (shown.len() as u64) < count {
        let Some(d) = ch.get(queue, false)? else {
            break;
        };
        read += 1;
        last = Some(d.token.clone());
        keep(&mut shown, d, filter)?;
    }
    // Give them all back first: printing may fail (closed pipe), the queue must not.
    if let Some(last) = last {
        ch.nack(last, true, true)?;
    }
    Ok((shown, read))
}

/// Read a stream from `offset`: up to `count` (matching) messages, or until it has been
/// quiet for a second. Never a nack (a stream answers it by closing the connection).
fn from_stream(
    ch: &ConsumerChannel,
    queue: &str,
    offset: &StreamOffset,
    count: u64,
    filter: Option<&Filter>,
) -> Result<(Shown, u64)> {
    let consumer = ch.consume_with(queue, false, false, &offset.consumer_args())?;
    let mut shown = Vec::new();
    let mut read = 0u64;
    while (shown.len() as u64) < count {
        match consumer.next(std::time::Duration::from_secs(1)) {
            Event::Delivery(d) => {
                read += 1;
                // An ack on a stream only grants credit for the next message.
                ch.ack(d.token.clone(), false)?;
                keep(&mut shown, *d, filter)?;
            }
            Event::Idle | Event::Cancelled => break,
            Event::Closed(e) => return Err(e),
        }
    }
    consumer.cancel()?;
    Ok((shown, read))
}
