//! `rmq receive`: consume messages and print them; each is acked only once printed.
//! One consume loop serves every ack mode ([`AckPolicy`]); printing goes through output.rs,
//! declaring and binding through declare.rs and amqp, never here.

use crate::amqp::{ConsumerChannel, Delivery, Event, ExchangeKind, QueueSpec, Session};
use crate::ctx::Ctx;
use crate::declare;
use crate::envelope;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::output::Out;
use crate::stream_offset::StreamOffset;
use crate::{log, signals};
use acks::{AckPolicy, Acks};

mod acks;
use std::time::{Duration, Instant};

const EXAMPLES: &str = "\
Examples:
  rmq receive -Q hello                          # tutorial 1 (Ctrl-C to stop)
  rmq receive -e logs -t fanout                 # tutorial 3: a private queue bound to logs
  rmq receive -e direct_logs -t direct -b warning -b error   # tutorial 4
  rmq receive -e topic_logs -t topic -b '*.critical' -b 'kern.#'   # tutorial 5
  rmq receive -Q q --json -n 100 --timeout 5 > dump.ndjson    # dump to NDJSON
  rmq receive -Q events --offset first -n 100   # a stream, from its start
  rmq receive -Q events --offset 1h             # a stream, from an hour ago on
  rmq receive -e orders -t topic -b '#' --filter '.headers.tenant == \"acme\"'";

/// Consume messages and print them
///
/// Each body is printed on its own line (bytes as received), or as one JSON envelope per
/// line with --json (exchange, routing_key, redelivered, properties, headers, body or
/// body_base64). A message is acked only after it was written and flushed to stdout, so
/// Ctrl-C, a closed pipe (`| head -1`) or a crash lose nothing: unprinted messages go back to
/// the queue. Without -Q or -e, the queue is $RMQ_QUEUE or task_queue.
///
/// Known limitation: amiquip drops the whole header table of a message whose header values
/// are not valid UTF-8; such messages are printed without headers.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Queue to consume from (declared unless it exists or --no-declare is given)
    #[arg(short = 'Q', long, value_name = "QUEUE", conflicts_with = "exchange")]
    pub queue: Option<String>,

    /// Consume from a private, server-named queue bound to this exchange
    #[arg(short = 'e', long, value_name = "EXCHANGE")]
    pub exchange: Option<String>,

    /// Exchange type: declare the exchange with this type first if it does not exist
    #[arg(short = 't', long = "type", value_name = "TYPE", requires = "exchange")]
    pub kind: Option<ExchangeKind>,

    /// Binding key for the private queue (repeatable; none: the empty key)
    #[arg(
        short = 'b',
        long = "binding-key",
        value_name = "KEY",
        requires = "exchange"
    )]
    pub binding_keys: Vec<String>,

    /// Declare the queue (or the exchange, with -t) durable when it does not exist
    #[arg(long)]
    pub durable: bool,

    /// Do not declare the queue; it must exist
    #[arg(long)]
    pub no_declare: bool,

    /// Exit after N messages
    #[arg(short = 'n', long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    /// Exit after SECS without a message (exit 8 if --count was not reached)
    #[arg(long, value_name = "SECS", value_parser = crate::cli::parse_secs)]
    pub timeout: Option<f64>,

    /// Consume in auto-ack mode: the broker forgets each message as it sends it
    #[arg(long)]
    pub no_ack: bool,

    /// How many unacked messages the broker may send ahead (basic.qos) [default: 256]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub prefetch: Option<u16>,

    /// Where to start reading a stream: first, last, next (the default), an offset N, a
    /// time (2026-12-01T10:00:00Z) or an age (1h, 30m, 2D: that long ago); streams only.
    /// The summary names the last offset read, to resume from the next one (also after a
    /// lost connection, exit 3: `receive` does not reconnect)
    #[arg(long, value_name = "OFFSET", value_parser = parse_offset)]
    pub offset: Option<StreamOffset>,

    /// With -e: print only the messages for which this jq expression, run on the JSON
    /// envelope, yields true (the others are copies in the private queue: dropped)
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
}

fn parse_offset(s: &str) -> std::result::Result<StreamOffset, String> {
    StreamOffset::parse(s).map_err(|e| e.to_string())
}

/// `--filter` only where the messages it drops are copies (a subscription, `-e`).
fn filter_of(args: &Args) -> Result<Option<Filter>> {
    let Some(expr) = &args.filter else {
        return Ok(None);
    };
    let filter = Filter::parse(expr)?;
    if args.exchange.is_none() {
        return Err(Error::Usage(
            "--filter on receive -Q would consume (and lose) the messages it does not print: \
             use rmq peek -Q Q --filter (looks without taking) or rmq move --from Q --filter \
             (moves the matching ones), or receive -e EXCHANGE --filter (a subscription)"
                .into(),
        ));
    }
    Ok(Some(filter))
}

const TICK: Duration = Duration::from_millis(100);
/// With deliveries outstanding and none waiting, wait this long for the next before acking:
/// at full speed the consumer often drains its buffer for an instant, and acking each time
/// would cost the broker an ack per few messages.
const ACK_LINGER: Duration = Duration::from_millis(2);

/// Run `rmq receive`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let filter = filter_of(&args)?;
    let mut session = ctx.connect("rmq receive")?;
    let (queue, exclusive) = source(&args, ctx, &mut session)?;
    let consumer_args = match &args.offset {
        Some(offset) => {
            crate::stream_offset::is_stream(&mut session, &queue, true)?;
            offset.consumer_args()
        }
        None => Default::default(),
    };
    let prefetch = args.prefetch.unwrap_or(256).min(
        args.count
            .map_or(u16::MAX, |c| c.min(u64::from(u16::MAX)) as u16),
    );
    let channel = session.consumer_channel(Some(prefetch))?;
    signals::install(true);
    let mut r = Receiver {
        args: &args,
        prefetch: u64::from(prefetch),
        json: ctx.json(),
        out: Out::new(),
        received: 0,
        started: Instant::now(),
        filter,
        last_offset: None,
    };
    let acks = Acks::new(AckPolicy::of(&args, r.prefetch));
    let outcome = r.consume(&channel, &queue, exclusive, &consumer_args, acks);
    let outcome = outcome.map_err(|e| stream_refusal(session.why_lost(e), &queue));
    channel.close();
    session.close();
    let stopped = signals::stop_requested();
    if !matches!(&outcome, Err(e) if e.is_broken_pipe()) {
        log::note(&format!(
            "received {} message(s) from queue '{queue}' in {:.3} s{}{}",
            r.received,
            r.started.elapsed().as_secs_f64(),
            r.last_offset
                .map(|o| format!(", last offset {o} (resume with --offset {})", o + 1))
                .unwrap_or_default(),
            if stopped { " (stopped)" } else { "" }
        ));
    }
    match outcome {
        Err(e) if e.is_broken_pipe() => Ok(()),
        Err(e) => Err(e),
        Ok(()) => match args.count {
            Some(n) if r.received < n && !stopped => Err(Error::Timeout(format!(
                "received {} of {n} message(s) from queue '{queue}' within --timeout",
                r.received
            ))),
            _ => Ok(()),
        },
    }
}

/// A stream refuses auto-ack consumers by closing the connection (540): that is the flag's
/// fault, not a lost broker.
fn stream_refusal(e: Error, queue: &str) -> Error {
    match e {
        Error::ConnectionLost { reason, .. }
            if reason.contains("automatic acknowledgement not supported by stream") =>
        {
            Error::Usage(format!(
                "queue '{queue}' is a stream, which needs acknowledgements: drop --no-ack \
                 (reading a stream removes nothing anyway); the broker said: {reason}"
            ))
        }
        other => other,
    }
}

/// The queue to consume from (declaring/binding on the way), and whether it is ours alone.
fn source(args: &Args, ctx: &Ctx, s: &mut Session) -> Result<(String, bool)> {
    if let Some(x) = &args.exchange {
        declare::ensure_exchange(s, x, args.kind, args.durable)?;
        let spec = QueueSpec {
            exclusive: true,
            auto_delete: true,
            ..QueueSpec::default()
        };
        let q = s.queue_declare("", &spec)?.name;
        let keys = if args.binding_keys.is_empty() {
            vec![String::new()]
        } else {
            args.binding_keys.clone()
        };
        for k in &keys {
            s.queue_bind(&q, x, k, &Default::default())?;
        }
        log::info(&format!(
            "consuming from private queue '{q}' bound to exchange '{x}' with key(s) {keys:?}"
        ));
        return Ok((q, true));
    }
    let q = args.queue.clone().unwrap_or_else(|| ctx.default_queue());
    if !args.no_declare {
        declare::ensure_queue(s, &q, args.durable)?;
    }
    log::info(&format!("consuming from queue '{q}'"));
    Ok((q, false))
}

struct Receiver<'a> {
    args: &'a Args,
    prefetch: u64,
    json: bool,
    out: Out,
    received: u64,
    started: Instant,
    /// `-e --filter`: the messages to print.
    filter: Option<Filter>,
    /// The stream offset of the last message printed.
    last_offset: Option<i64>,
}

impl Receiver<'_> {
    /// Print one message. On a pipe, it counts as printed only once the reader took it. A
    /// message the filter leaves out counts as done: it is a subscription's copy.
    fn write(&mut self, d: &Delivery) -> Result<()> {
        if let Some(f) = &self.filter
            && !f.matches(&envelope::to_json(d))?
        {
            return Ok(());
        }
        if self.json {
            self.out.text(&envelope::to_json(d).to_string())?;
        } else {
            self.out.line(&d.message.body)?;
        }
        if self.out.is_pipe() {
            self.out.flush_and_wait_read()?;
        }
        self.received += 1;
        if let Some(o) = envelope::stream_offset(&d.message) {
            self.last_offset = Some(o);
        }
        Ok(())
    }

    fn idle_for(&self, last: Instant) -> bool {
        self.args
            .timeout
            .is_some_and(|t| last.elapsed() >= Duration::from_secs_f64(t))
    }

    fn done(&self) -> bool {
        self.args.count.is_some_and(|n| self.received >= n)
    }

    /// basic.consume until done, idle, stopped or failed; acks as `acks` says.
    fn consume(
        &mut self,
        ch: &ConsumerChannel,
        queue: &str,
        exclusive: bool,
        consumer_args: &crate::amqp::Table,
        mut acks: Acks,
    ) -> Result<()> {
        let auto_ack = matches!(acks.policy, AckPolicy::Auto);
        let consumer = ch.consume_with(queue, auto_ack, exclusive, consumer_args)?;
        let mut last = Instant::now();
        let result = loop {
            if signals::stop_requested() || self.done() {
                break Ok(());
            }
            let wait = if acks.batch > 0 { ACK_LINGER } else { TICK };
            match consumer.next(wait) {
                Event::Delivery(d) => {
                    last = Instant::now();
                    let written = self.write(&d);
                    acks.delivered(d.token, written.is_ok(), self.received);
                    if let Err(e) = written {
                        break Err(e);
                    }
                    if acks.due(self.done())
                        && let Err(e) = self.settle(ch, &mut acks)
                    {
                        break Err(e);
                    }
                }
                Event::Idle => {
                    if acks.batch > 0
                        && let Err(e) = self.settle(ch, &mut acks)
                    {
                        break Err(e);
                    }
                    if self.idle_for(last) {
                        break Ok(());
                    }
                }
                Event::Cancelled => {
                    break Err(Error::Other(format!(
                        "the broker cancelled the consumer on queue '{queue}' (was it deleted?)"
                    )));
                }
                Event::Closed(e) => break Err(e),
            }
        };
        let _ = consumer.cancel();
        self.finish(ch, acks, result)
    }

    /// Flush stdout, then ack every delivery printed so far.
    fn settle(&mut self, ch: &ConsumerChannel, acks: &mut Acks) -> Result<()> {
        self.out.flush()?;
        if let Some(t) = acks.safe.take() {
            let tag = t.tag();
            ch.ack(t, true)?;
            acks.acked = tag;
        }
        acks.batch = 0;
        Ok(())
    }

    /// The consumer is cancelled: ack what the policy says is due at the end.
    fn finish(&mut self, ch: &ConsumerChannel, mut acks: Acks, result: Result<()>) -> Result<()> {
        if let AckPolicy::Credit { .. } = acks.policy {
            // Forget everything that arrived (as auto-ack would have).
            let flushed = self.out.flush();
            if let Some(t) = acks.tail.take().filter(|t| t.tag() > acks.acked) {
                ch.ack(t, true)?;
            }
            ch.sync()?;
            return result.and(flushed);
        }
        // Only what was printed is acked; the rest goes back to the queue on close.
        match result {
            Ok(()) => {
                self.settle(ch, &mut acks)?;
                ch.sync()
            }
            Err(e) if e.is_broken_pipe() && self.out.is_pipe() => {
                // Every delivery in `safe` was read by the pipe's reader before it left.
                if let Some(t) = acks.safe.take() {
                    ch.ack(t, true)?;
                }
                ch.sync()?;
                Err(e)
            }
            Err(e) => {
                // A lost connection: what was printed is on stdout before the summary names
                // the last offset printed (a stream's resume point).
                let _ = self.out.flush();
                Err(e)
            }
        }
    }
}
