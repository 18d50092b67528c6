//! `rmq call`: the RPC client of tutorial 6, over direct reply-to: its options, publishing
//! one request and waiting for the reply with its correlation id. Broker access goes through
//! `amqp` (never amiquip itself), output through `output::Out`, messages through `log`.

use crate::amqp::{Event, Message, Properties, Returned, Value};
use crate::ctx::Ctx;
use crate::declare;
use crate::envelope;
use crate::error::{Error, Result};
use crate::input::{Input, Item};
use crate::kv;
use crate::output::Out;
use crate::{log, signals};
use std::ffi::OsString;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// The queue `call` uses without -Q/-e (the tutorial's name).
pub const DEFAULT_RPC_QUEUE: &str = "rpc_queue";

/// RabbitMQ's direct reply-to pseudo-queue.
const REPLY_TO: &str = super::worker::DIRECT_REPLY_TO;

const EXAMPLES: &str = "\
Examples:
  rmq call 30                                   # tutorial 6: fib(30) from the server on rpc_queue
  rmq worker -Q rpc_queue --exec 'read n; echo $((n * 2))' &   # a server to call
  echo '{\"n\": 5}' | rmq call -Q rpc_queue       # body from stdin
  rmq call -e rpc -k resize --timeout 5 photo.jpg   # through an exchange";

/// Send a request and print the reply (tutorial 6's RPC client)
///
/// BODY words are joined with single spaces into the request; without BODY, all of stdin is
/// the request. It is published with reply_to and a fresh correlation_id; the reply with
/// that correlation_id is printed with a newline after it (--json: as a JSON envelope), and
/// replies with another correlation_id are ignored. Replies come back over RabbitMQ's
/// direct reply-to, so no reply queue is declared.
///
/// Without -Q or -e, the request goes to queue rpc_queue (the tutorial's). A request the
/// broker cannot route (no such queue, no binding) fails at once; no reply within --timeout
/// exits 8.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Request body (words are joined with single spaces); read from stdin when absent
    #[arg(value_name = "BODY")]
    pub body: Vec<OsString>,

    /// Queue of the RPC server (declared unless it exists or --no-declare is given)
    #[arg(short = 'Q', long, value_name = "QUEUE", conflicts_with = "exchange")]
    pub queue: Option<String>,

    /// Exchange to publish the request to, instead of a queue (it must exist)
    #[arg(short = 'e', long, value_name = "EXCHANGE")]
    pub exchange: Option<String>,

    /// Routing key for --exchange
    #[arg(short = 'k', long, value_name = "KEY", requires = "exchange")]
    pub routing_key: Option<String>,

    /// Declare the queue durable when it does not exist
    #[arg(long)]
    pub durable: bool,

    /// Do not declare the queue; it must exist
    #[arg(long)]
    pub no_declare: bool,

    /// Add a header to the request (repeatable); integers and true/false are sent typed
    #[arg(short = 'H', long = "header", value_name = "K=V", value_parser = kv::KvParser)]
    pub headers: Vec<(String, Value)>,

    /// Seconds to wait for the reply (then exit 8)
    #[arg(long, value_name = "SECS", default_value = "30",
          value_parser = crate::cli::parse_positive_secs)]
    pub timeout: f64,
}

/// How often the wait looks at returns and Ctrl-C.
const TICK: Duration = Duration::from_millis(50);

/// Run `rmq call`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let (exchange, key) = match (&args.exchange, &args.queue) {
        (Some(x), _) => (x.clone(), args.routing_key.clone().unwrap_or_default()),
        (None, Some(q)) => (String::new(), q.clone()),
        (None, None) => (String::new(), DEFAULT_RPC_QUEUE.to_string()),
    };
    let body = read_body(&args)?;
    signals::install(true);
    let started = Instant::now();
    let mut session = ctx.connect("rmq call")?;
    if exchange.is_empty() {
        let info = if args.no_declare {
            session
                .queue_inspect(&key)?
                .ok_or_else(|| Error::NotFound {
                    what: format!("queue '{key}' in vhost '{}'", session.endpoint().vhost),
                    reason: "no such queue (--no-declare)".into(),
                    hint: format!("start the RPC server first: rmq worker -Q {key} -- CMD"),
                })?
        } else {
            declare::ensure_queue(&mut session, &key, args.durable)?
        };
        if info.consumers == 0 {
            log::warn(&format!(
                "queue '{key}' has no consumer: the request waits there until an RPC server \
                 takes it (e.g. rmq worker -Q {key} -- CMD), at most --timeout {} s",
                args.timeout
            ));
        }
    } else {
        declare::ensure_exchange(&mut session, &exchange, None, false)?;
    }
    let ch = session.consumer_channel(None)?;
    let replies = ch.consume(REPLY_TO, true, false)?;
    let correlation_id = fresh_id();
    let request = Message {
        body,
        props: Properties {
            reply_to: Some(REPLY_TO.into()),
            correlation_id: Some(correlation_id.clone()),
            headers: (!args.headers.is_empty()).then(|| kv::table(&args.headers)),
            ..Properties::default()
        },
    };
    ch.publish_mandatory(&exchange, &key, &request)?;
    let target = if exchange.is_empty() {
        format!("queue '{key}'")
    } else {
        format!("exchange '{exchange}' (routing key '{key}')")
    };
    log::info(&format!("sent request {correlation_id} to {target}"));
    let deadline = started + Duration::from_secs_f64(args.timeout);
    let reply = loop {
        if let Some(r) = ch.returned().into_iter().next() {
            return Err(unroutable(&r, &target));
        }
        if signals::stop_requested() {
            return Err(Error::Interrupted(format!("no reply yet from {target}")));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::Timeout(format!(
                "no reply from {target} within {} s (is an RPC server consuming it? e.g. rmq \
                 worker -Q {key} -- CMD)",
                args.timeout
            )));
        }
        match replies.next(left.min(TICK)) {
            Event::Delivery(d)
                if d.message.props.correlation_id.as_deref() == Some(&correlation_id) =>
            {
                break d;
            }
            Event::Delivery(d) => log::debug(&format!(
                "ignoring a reply with correlation id {:?}",
                d.message.props.correlation_id
            )),
            Event::Idle => {}
            Event::Cancelled => {
                return Err(Error::Other(
                    "the broker cancelled the reply consumer".into(),
                ));
            }
            Event::Closed(e) => return Err(e),
        }
    };
    log::info(&format!(
        "reply after {:.3} s",
        started.elapsed().as_secs_f64()
    ));
    let mut out = Out::new();
    if ctx.json() {
        out.text(&envelope::to_json(&reply).to_string())?;
    } else {
        out.line(&reply.message.body)?;
    }
    out.flush()?;
    drop(replies);
    ch.close();
    session.close();
    Ok(())
}

fn read_body(args: &Args) -> Result<Vec<u8>> {
    let mut input = if args.body.is_empty() {
        if std::io::stdin().is_terminal() {
            log::note("reading the request from stdin; end it with Ctrl-D");
        }
        Input::whole_stdin()
    } else {
        Input::words(&args.body)
    };
    Ok(match input.next_item()? {
        Some(Item::Body(b)) => b,
        _ => Vec::new(),
    })
}

fn unroutable(r: &Returned, target: &str) -> Error {
    Error::NotFound {
        what: format!("a queue for the request to {target}"),
        reason: format!(
            "the broker returned it as unroutable ({} {})",
            r.reply_code, r.reply_text
        ),
        hint: "bind a queue for that routing key (rmq bind) and start an RPC server on it \
               (rmq worker -Q QUEUE -- CMD)"
            .into(),
    }
}

/// A random correlation id: a UUID v4, as pika's tutorial client uses.
fn fresh_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_look_like_uuids_and_differ() {
        let (a, b) = (fresh_id(), fresh_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_eq!(a.matches('-').count(), 4);
    }
}
