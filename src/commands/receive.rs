//! `rmq receive`: consume messages and print them; each is acked only once printed.

use crate::amqp::{ConsumerChannel, Delivery, Event, ExchangeKind, QueueSpec, Session};
use crate::ctx::Ctx;
use crate::declare;
use crate::envelope;
use crate::error::{Error, Result};
use crate::output::Out;
use crate::{log, signals};
use std::time::{Duration, Instant};

const EXAMPLES: &str = "\
Examples:
  rmq receive -Q hello                          # tutorial 1 (Ctrl-C to stop)
  rmq receive -e logs -t fanout                 # tutorial 3: a private queue bound to logs
  rmq receive -e direct_logs -t direct -b warning -b error   # tutorial 4
  rmq receive -e topic_logs -t topic -b '*.critical' -b 'kern.#'   # tutorial 5
  rmq receive -Q q --json -n 100 --timeout 5 > dump.ndjson    # dump to NDJSON";

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
}

/// Ack in batches (with `multiple`) at most this many deliveries apart.
const ACK_EVERY: u64 = 128;
const TICK: Duration = Duration::from_millis(100);
/// With deliveries outstanding and none waiting, wait this long for the next before acking:
/// at full speed the consumer often drains its buffer for an instant, and acking each time
/// would cost the broker an ack per few messages (measured: W3 of scripts/bench).
const ACK_LINGER: Duration = Duration::from_millis(2);

/// Run `rmq receive`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let mut session = ctx.connect("rmq receive")?;
    let (queue, exclusive) = source(&args, ctx, &mut session)?;
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
    };
    let outcome = if args.no_ack && args.count.is_some() {
        r.consume_no_ack_counted(&channel, &queue, exclusive)
    } else {
        r.consume(&channel, &queue, exclusive)
    };
    channel.close();
    session.close();
    let stopped = signals::stop_requested();
    if !matches!(&outcome, Err(e) if e.is_broken_pipe()) {
        log::note(&format!(
            "received {} message(s) from queue '{queue}' in {:.3} s{}",
            r.received,
            r.started.elapsed().as_secs_f64(),
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
}

impl Receiver<'_> {
    /// Print one message. On a pipe, it counts as printed only once the reader took it.
    fn write(&mut self, d: &Delivery) -> Result<()> {
        if self.json {
            self.out.text(&envelope::to_json(d).to_string())?;
        } else {
            self.out.line(&d.message.body)?;
        }
        if self.out.is_pipe() {
            self.out.flush_and_wait_read()?;
        }
        self.received += 1;
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

    /// basic.consume; acks in batches after flushing stdout.
    fn consume(&mut self, ch: &ConsumerChannel, queue: &str, exclusive: bool) -> Result<()> {
        let consumer = ch.consume(queue, self.args.no_ack, exclusive)?;
        let mut last = Instant::now();
        let mut unacked = None;
        let mut batch = 0u64;
        let ack_every = ACK_EVERY.min((self.prefetch / 2).max(1));
        let result = loop {
            if signals::stop_requested() || self.done() {
                break Ok(());
            }
            let wait = if batch > 0 { ACK_LINGER } else { TICK };
            match consumer.next(wait) {
                Event::Delivery(d) => {
                    last = Instant::now();
                    if let Err(e) = self.write(&d) {
                        break Err(e);
                    }
                    if !self.args.no_ack {
                        unacked = Some(d.token);
                        batch += 1;
                    }
                    let due = batch >= ack_every || self.done();
                    if due && let Err(e) = self.settle(ch, &mut unacked, &mut batch) {
                        break Err(e);
                    }
                }
                Event::Idle => {
                    if batch > 0
                        && let Err(e) = self.settle(ch, &mut unacked, &mut batch)
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
        // Only what was printed is acked; the rest goes back to the queue on close.
        match result {
            Ok(()) => {
                self.settle(ch, &mut unacked, &mut batch)?;
                ch.sync()
            }
            Err(e) if e.is_broken_pipe() && self.out.is_pipe() => {
                // Every delivery in `unacked` was read by the pipe's reader before it left.
                if let Some(t) = unacked.take() {
                    ch.ack(t, true)?;
                }
                ch.sync()?;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    fn settle(
        &mut self,
        ch: &ConsumerChannel,
        unacked: &mut Option<crate::amqp::AckToken>,
        batch: &mut u64,
    ) -> Result<()> {
        self.out.flush()?;
        if let Some(t) = unacked.take() {
            ch.ack(t, true)?;
        }
        *batch = 0;
        Ok(())
    }

    /// [`Receiver::settle`], noting the delivery tag acked up to.
    fn settle_at(
        &mut self,
        ch: &ConsumerChannel,
        unacked: &mut Option<crate::amqp::AckToken>,
        batch: &mut u64,
        acked: &mut u64,
    ) -> Result<()> {
        let tag = unacked.as_ref().map(|t| t.tag());
        self.settle(ch, unacked, batch)?;
        if let Some(t) = tag {
            *acked = t;
        }
        Ok(())
    }

    /// `--no-ack --count N`: auto-ack would let the broker push (and forget) more than N, so
    /// consume with acks instead, each message acked as soon as it is written (the broker
    /// forgets it at once, as with auto-ack), but never more than N - prefetch before all N
    /// have arrived: at most N are ever delivered. On exit everything received is acked
    /// (at most once, like auto-ack). One basic.get per message was ~10x slower.
    fn consume_no_ack_counted(
        &mut self,
        ch: &ConsumerChannel,
        queue: &str,
        exclusive: bool,
    ) -> Result<()> {
        let n = self.args.count.unwrap_or(u64::MAX);
        let ackable = n.saturating_sub(self.prefetch);
        let consumer = ch.consume(queue, false, exclusive)?;
        let mut last = Instant::now();
        let mut safe = None; // the latest delivery that may be acked now
        let mut tail = None; // the latest delivery
        let mut batch = 0u64;
        let mut acked = 0u64; // delivery tag acked up to
        let result = loop {
            if signals::stop_requested() || self.done() {
                break Ok(());
            }
            let wait = if batch > 0 { ACK_LINGER } else { TICK };
            match consumer.next(wait) {
                Event::Delivery(d) => {
                    last = Instant::now();
                    let r = self.write(&d);
                    if self.received <= ackable {
                        safe = Some(d.token.clone());
                        batch += 1;
                    }
                    tail = Some(d.token);
                    if let Err(e) = r {
                        break Err(e);
                    }
                    // Acks are only credit here (the message is forgotten either way).
                    if batch >= (self.prefetch / 2).max(1)
                        && let Err(e) = self.settle_at(ch, &mut safe, &mut batch, &mut acked)
                    {
                        break Err(e);
                    }
                }
                Event::Idle => {
                    if batch > 0
                        && let Err(e) = self.settle_at(ch, &mut safe, &mut batch, &mut acked)
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
        // No more deliveries, then forget everything that arrived (as auto-ack would have).
        let _ = consumer.cancel();
        let flushed = self.out.flush();
        if let Some(t) = tail.take().filter(|t| t.tag() > acked) {
            ch.ack(t, true)?;
        }
        ch.sync()?;
        result.and(flushed)
    }
}
