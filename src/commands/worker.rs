//! `rmq worker`: the work-queue consumer (tutorial 2) and the RPC server (tutorial 6).
//!
//! The main thread owns the connection, the channel and the consumer, and does every ack,
//! nack and reply (amiquip: acks belong to the thread that owns the channel). Tasks run on a
//! pool of threads ([`task::Pool`]) and send their verdicts back over a crossbeam channel,
//! which the main thread waits on together with the consumer.

mod task;

use crate::amqp::{
    AckToken, Consumer, ConsumerChannel, Delivery, Event, Message, Next, Properties, Session,
};
use crate::ctx::Ctx;
use crate::declare;
use crate::envelope;
use crate::error::{Error, Result};
use crate::{log, signals};
use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::time::{Duration, Instant};
use task::{Done, Job, Mode, Outcome, Pool};

const EXAMPLES: &str = "\
Examples:
  rmq worker                                    # tutorial 2 on task_queue: a second per '.'
  rmq worker -Q task_queue --durable            # ... on a durable queue (prefetch 1: fair)
  rmq worker -Q jobs -- ./process.sh --verbose  # run a command per message, body on stdin
  rmq worker -Q jobs --concurrency 4 --exec 'gzip -c > \"/tmp/$RMQ_MESSAGE_ID.gz\"'
  rmq worker -Q rpc_queue --exec 'read n; echo $((n * 2))'   # tutorial 6: an RPC server
  rmq call -Q rpc_queue 21                      # ... and its client: prints 42";

/// Work on a queue's messages: the tutorial's worker, or a command per message
///
/// Without a command, this is the tutorial's worker.py: it prints ` [x] Received <body>`,
/// sleeps --dot-delay seconds per `.` in the body, prints ` [x] Done` and acks.
///
/// With `-- CMD ARGS...` or `--exec 'shell command'`, CMD runs once per message with the
/// body on its stdin and the environment variables RMQ_EXCHANGE, RMQ_ROUTING_KEY,
/// RMQ_REDELIVERED (true/false), RMQ_MESSAGE_ID, RMQ_CORRELATION_ID, RMQ_REPLY_TO and
/// RMQ_HEADERS (a JSON object); unset properties are empty. Exit 0 acks the message; exit 75
/// (EX_TEMPFAIL) requeues it; any other failure, or a command that cannot start, follows
/// --on-failure (reject by default: a dead-letter exchange on the queue keeps rejected
/// messages, otherwise the broker drops them). The command's stderr passes through; so does
/// its stdout, unless the message has a reply_to (RPC): then its stdout, less one trailing
/// newline, is published to reply_to with the message's correlation_id.
///
/// The broker sends at most --prefetch unacked messages (default: --concurrency, i.e. 1:
/// fair dispatch between workers). Ctrl-C or SIGTERM stops taking messages and lets running
/// commands finish (they are acked); a second Ctrl-C kills them and requeues their messages.
/// Commands run in their own process group, so the terminal's Ctrl-C does not reach them.
/// When the connection is lost, the worker reconnects (backing off up to 5 s between tries)
/// and goes on; messages in flight then are redelivered by the broker.
///
/// Without -Q, the queue is $RMQ_QUEUE or task_queue. A summary goes to stderr at exit.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Queue to consume from (declared unless it exists or --no-declare is given)
    #[arg(short = 'Q', long, value_name = "QUEUE")]
    pub queue: Option<String>,

    /// Declare the queue durable when it does not exist
    #[arg(long)]
    pub durable: bool,

    /// Do not declare the queue; it must exist
    #[arg(long)]
    pub no_declare: bool,

    /// How many unacked messages the broker may send ahead (basic.qos) [default: the
    /// --concurrency, so 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub prefetch: Option<u16>,

    /// Run up to N commands (or tutorial tasks) at once
    #[arg(long, value_name = "N", default_value = "1",
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub concurrency: u16,

    /// Tutorial mode: seconds to sleep for each '.' in the body
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = crate::cli::parse_secs,
          conflicts_with_all = ["exec", "command"])]
    pub dot_delay: f64,

    /// Run this shell command (sh -c) once per message
    #[arg(long, value_name = "SHELL_COMMAND", conflicts_with = "command")]
    pub exec: Option<String>,

    /// What to do with a message whose command failed (exit status other than 0 and 75)
    #[arg(long, value_name = "POLICY", default_value = "reject")]
    pub on_failure: OnFailure,

    /// On connection loss exit 3 instead of reconnecting
    #[arg(long)]
    pub no_reconnect: bool,

    /// The command to run once per message, with its arguments (after --)
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

/// What happens to a message whose command failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnFailure {
    /// Nack without requeue: dead-lettered if the queue has a dead-letter exchange, else
    /// dropped
    Reject,
    /// Nack with requeue: it will be delivered again
    Requeue,
}

/// Prefix of the reply addresses of RabbitMQ's direct reply-to (what `rmq call` uses).
const DIRECT_REPLY_TO: &str = "amq.rabbitmq.reply-to";
/// How often the main loop looks at Ctrl-C when nothing else happens.
const TICK: Duration = Duration::from_millis(100);
/// Longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often "still reconnecting" is said.
const RECONNECT_NOTE_EVERY: Duration = Duration::from_secs(30);

/// Run `rmq worker`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let mode = mode(&args);
    let queue = args.queue.clone().unwrap_or_else(|| ctx.default_queue());
    let concurrency = usize::from(args.concurrency);
    let prefetch = args.prefetch.unwrap_or(args.concurrency);
    let reply = matches!(mode, Mode::Command { .. });
    log::info(&format!("running {} per message", mode.describe()));
    signals::install(false);
    let mut session = ctx.connect("rmq worker")?;
    let mut w = Worker {
        ctx,
        args: &args,
        queue,
        prefetch,
        concurrency,
        reply,
        pool: Pool::new(concurrency, mode),
        in_flight: HashMap::new(),
        backlog: VecDeque::new(),
        next_id: 0,
        epoch: 0,
        live: false,
        running: 0,
        draining: false,
        aborted: 0,
        output_closed: false,
        failure: None,
        stats: Stats::default(),
        started: Instant::now(),
    };
    let result = loop {
        match w.serve(&mut session) {
            End::Stopped => break Ok(()),
            End::Failed(e) => {
                w.finish_running();
                break Err(e);
            }
            End::Lost(e) if args.no_reconnect => {
                w.finish_running();
                break Err(e);
            }
            End::Lost(e) => match w.reconnect(&e) {
                Ok(Some(s)) => session = s,
                Ok(None) => break Ok(()),
                Err(e) => {
                    w.finish_running();
                    break Err(e);
                }
            },
        }
    };
    session.close();
    w.summary();
    result?;
    if w.aborted > 0 {
        return Err(Error::Interrupted(format!(
            "a second Ctrl-C stopped {} running task(s); their messages were requeued",
            w.aborted
        )));
    }
    Ok(())
}

fn mode(args: &Args) -> Mode {
    if let Some(script) = &args.exec {
        Mode::Command {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
        }
    } else if let Some((program, rest)) = args.command.split_first() {
        Mode::Command {
            program: program.clone(),
            args: rest.to_vec(),
        }
    } else {
        Mode::Tutorial {
            dot_delay: Duration::from_secs_f64(args.dot_delay),
        }
    }
}

/// How one connection's consuming ended.
enum End {
    /// Ctrl-C (or a closed stdout): everything running has finished.
    Stopped,
    /// The connection (or channel) is gone: reconnect.
    Lost(Error),
    /// Give up with this error (running tasks may still be finishing).
    Failed(Error),
}

/// A message handed to us and not yet settled.
struct Pending {
    token: AckToken,
    /// Connection generation it arrived on; its token is worthless on any other.
    epoch: u64,
    /// Names the message in warnings.
    label: String,
    reply_to: Option<String>,
    correlation_id: Option<String>,
}

#[derive(Default)]
struct Stats {
    acked: u64,
    rejected: u64,
    requeued: u64,
    replied: u64,
    /// Verdicts that came after their channel was lost (the broker redelivers).
    dropped: u64,
    /// First delivery and last settled verdict, for the rate.
    first: Option<Instant>,
    last: Option<Instant>,
}

struct Worker<'a> {
    ctx: &'a Ctx,
    args: &'a Args,
    queue: String,
    prefetch: u16,
    concurrency: usize,
    /// Command mode: publish the command's stdout to reply_to.
    reply: bool,
    pool: Pool,
    in_flight: HashMap<u64, Pending>,
    /// Delivered, not yet started (only when --prefetch exceeds --concurrency).
    backlog: VecDeque<Job>,
    next_id: u64,
    /// Connection generation, bumped on every (re)connect.
    epoch: u64,
    /// The channel of `epoch` is usable.
    live: bool,
    running: usize,
    draining: bool,
    /// Tasks stopped by the second Ctrl-C.
    aborted: usize,
    output_closed: bool,
    /// Why we are draining, when it is an error (e.g. the queue was deleted).
    failure: Option<Error>,
    stats: Stats,
    started: Instant,
}

impl Worker<'_> {
    /// Declare, consume and work until stopped or the connection is lost.
    fn serve(&mut self, session: &mut Session) -> End {
        let ch = match self.open(session) {
            Ok(ch) => ch,
            Err(e) => return classify(e),
        };
        let consumer = match ch.consume(&self.queue, false, false) {
            Ok(c) => c,
            Err(e) => return classify(e),
        };
        self.epoch += 1;
        self.live = true;
        if self.epoch == 1 {
            log::note(&format!(
                "waiting for messages on queue '{}' (prefetch {}); Ctrl-C to stop",
                self.queue, self.prefetch
            ));
        }
        let end = self.pump(&ch, &consumer);
        if matches!(end, End::Lost(_)) {
            self.lost();
        }
        drop(consumer);
        ch.close();
        end
    }

    fn open(&mut self, session: &mut Session) -> Result<ConsumerChannel> {
        if !self.args.no_declare {
            declare::ensure_queue(session, &self.queue, self.args.durable)?;
        }
        log::info(&format!("consuming from queue '{}'", self.queue));
        session.consumer_channel(Some(self.prefetch))
    }

    /// The main loop on a live channel.
    fn pump(&mut self, ch: &ConsumerChannel, consumer: &Consumer<'_>) -> End {
        loop {
            if (signals::stop_requested() || self.output_closed) && !self.draining {
                self.begin_drain(ch, Some(consumer));
            }
            self.check_abort();
            if self.draining && self.running == 0 {
                return match self.failure.take() {
                    Some(e) => End::Failed(e),
                    None => End::Stopped,
                };
            }
            self.dispatch();
            let next = if self.draining {
                // The consumer is cancelled: only finishing tasks matter now.
                match self.pool.done().recv_timeout(TICK) {
                    Ok(d) => Next::Other(d),
                    Err(_) => Next::Event(Event::Idle),
                }
            } else {
                consumer.next_or(self.pool.done(), TICK)
            };
            let step = match next {
                Next::Other(done) => self.settle(ch, done),
                Next::Event(Event::Delivery(d)) => {
                    self.accept(*d);
                    Ok(())
                }
                Next::Event(Event::Idle) => Ok(()),
                Next::Event(Event::Cancelled) => {
                    self.failure = Some(Error::Other(format!(
                        "the broker cancelled the consumer on queue '{}' (was it deleted?)",
                        self.queue
                    )));
                    self.begin_drain(ch, None);
                    Ok(())
                }
                Next::Event(Event::Closed(e)) => Err(e),
            };
            if let Err(e) = step {
                return classify(e);
            }
            for r in ch.returned() {
                log::warn(&format!(
                    "the reply to '{}' was returned unroutable ({} {}): the caller is gone \
                     (timed out?)",
                    r.routing_key, r.reply_code, r.reply_text
                ));
            }
        }
    }

    /// A delivery: remember its token, queue its job.
    fn accept(&mut self, d: Delivery) {
        self.stats.first.get_or_insert_with(Instant::now);
        let id = self.next_id;
        self.next_id += 1;
        let props = &d.message.props;
        let reply_to = props
            .reply_to
            .clone()
            .filter(|r| self.reply && !r.is_empty());
        let job = Job {
            id,
            env: env_of(&d),
            capture: reply_to.is_some(),
            body: d.message.body,
        };
        self.in_flight.insert(
            id,
            Pending {
                label: label_of(&d.message.props, &d.routing_key, d.token.tag()),
                token: d.token,
                epoch: self.epoch,
                reply_to,
                correlation_id: d.message.props.correlation_id,
            },
        );
        self.backlog.push_back(job);
    }

    fn dispatch(&mut self) {
        while self.running < self.concurrency && !self.draining {
            let Some(job) = self.backlog.pop_front() else {
                break;
            };
            self.running += 1;
            self.pool.start(job);
        }
    }

    /// Act on a finished task: ack (and reply), requeue or reject its message.
    fn settle(&mut self, ch: &ConsumerChannel, done: Done) -> Result<()> {
        self.running -= 1;
        let Some(p) = self.in_flight.remove(&done.id) else {
            return Ok(());
        };
        self.stats.last = Some(Instant::now());
        if !self.live || p.epoch != self.epoch {
            // Its delivery tag belonged to a channel that is gone; the broker redelivers it.
            self.stats.dropped += 1;
            log::info(&format!(
                "{} finished after its connection was lost: not acked (the broker redelivers it)",
                p.label
            ));
            return Ok(());
        }
        let r = self.apply(ch, p, done);
        if r.is_err() {
            // The channel died under us: the broker redelivers this one too.
            self.stats.dropped += 1;
        }
        r
    }

    fn apply(&mut self, ch: &ConsumerChannel, p: Pending, done: Done) -> Result<()> {
        match done.outcome {
            Outcome::Ok => {
                if let Some(to) = &p.reply_to {
                    let mut body = done.stdout;
                    if body.last() == Some(&b'\n') {
                        body.pop();
                    }
                    let reply = Message {
                        body,
                        props: Properties {
                            correlation_id: p.correlation_id.clone(),
                            ..Properties::default()
                        },
                    };
                    if to.starts_with(DIRECT_REPLY_TO) {
                        // RabbitMQ returns mandatory publishes to direct reply-to even when it
                        // delivers them (seen on 3.10): publish those plainly.
                        ch.publish("", to, &reply)?;
                    } else {
                        ch.publish_mandatory("", to, &reply)?;
                    }
                    self.stats.replied += 1;
                }
                ch.ack(p.token, false)?;
                self.stats.acked += 1;
            }
            Outcome::TempFail => {
                ch.nack(p.token, false, true)?;
                self.stats.requeued += 1;
                log::info(&format!(
                    "command exited {} (EX_TEMPFAIL) for {}: requeued",
                    task::EX_TEMPFAIL,
                    p.label
                ));
            }
            Outcome::Failed(why) => {
                let requeue = self.args.on_failure == OnFailure::Requeue;
                ch.nack(p.token, false, requeue)?;
                let what = if requeue {
                    self.stats.requeued += 1;
                    "requeued (--on-failure requeue)".to_string()
                } else {
                    self.stats.rejected += 1;
                    format!(
                        "rejected without requeue: a dead-letter exchange on queue '{}' keeps \
                         it, without one the broker drops it (--on-failure requeue retries \
                         instead)",
                        self.queue
                    )
                };
                log::warn(&format!("command {why} for {}: {what}", p.label));
            }
            Outcome::Aborted => {
                ch.nack(p.token, false, true)?;
                self.stats.requeued += 1;
            }
            Outcome::OutputClosed => {
                ch.nack(p.token, false, true)?;
                self.output_closed = true;
            }
        }
        Ok(())
    }

    /// First Ctrl-C (or a closed stdout, or a cancelled consumer): take no more messages and
    /// give back the ones not started; running tasks go on.
    fn begin_drain(&mut self, ch: &ConsumerChannel, consumer: Option<&Consumer<'_>>) {
        self.draining = true;
        if let Some(c) = consumer {
            let _ = c.cancel();
            // Deliveries that crossed the cancel: back to the queue at once.
            while let Event::Delivery(d) = c.next(Duration::ZERO) {
                let _ = ch.nack(d.token, false, true);
            }
        }
        for job in std::mem::take(&mut self.backlog) {
            if let Some(p) = self.in_flight.remove(&job.id) {
                let _ = ch.nack(p.token, false, true);
            }
        }
        if self.running > 0 && signals::stop_requested() {
            log::note(&format!(
                "stopping: waiting for {} running task(s) to finish (Ctrl-C again to kill them \
                 and requeue their messages)",
                self.running
            ));
        }
    }

    /// Second Ctrl-C: kill what runs (once).
    fn check_abort(&mut self) {
        if signals::count() >= 2 && self.aborted == 0 && self.running > 0 {
            self.pool.abort_all();
            self.aborted = self.running;
            log::note(&format!(
                "stopping {} running task(s) now; their messages go back to the queue",
                self.running
            ));
        }
    }

    /// The channel is gone: tokens of this generation are worthless, jobs not started are
    /// forgotten (the broker redelivers them).
    fn lost(&mut self) {
        self.live = false;
        for job in std::mem::take(&mut self.backlog) {
            self.in_flight.remove(&job.id);
        }
    }

    /// Wait for running tasks when there is no channel to settle them on.
    fn finish_running(&mut self) {
        self.live = false;
        while self.running > 0 {
            self.check_abort();
            if let Ok(done) = self.pool.done().recv_timeout(TICK) {
                // Not live: this only counts it as dropped.
                self.drop_verdict(done);
            }
        }
    }

    fn drop_verdict(&mut self, done: Done) {
        self.running -= 1;
        if self.in_flight.remove(&done.id).is_some() {
            self.stats.dropped += 1;
        }
    }

    /// Reconnect with backoff. `Ok(None)`: stopped by Ctrl-C meanwhile.
    fn reconnect(&mut self, why: &Error) -> Result<Option<Session>> {
        log::warn(&format!("{why}; reconnecting (Ctrl-C to stop)"));
        let mut delay = Duration::from_millis(200);
        let mut said = Instant::now();
        loop {
            if signals::stop_requested() {
                self.finish_running();
                return Ok(None);
            }
            match self.ctx.connect("rmq worker") {
                Ok(s) => {
                    log::note(&format!("reconnected to {}", s.endpoint().redacted()));
                    return Ok(Some(s));
                }
                Err(
                    e @ (Error::AccessRefused { .. } | Error::NotFound { .. } | Error::Usage(_)),
                ) => {
                    return Err(e);
                }
                Err(e) => {
                    if said.elapsed() >= RECONNECT_NOTE_EVERY {
                        log::note(&format!("still reconnecting: {e}"));
                        said = Instant::now();
                    } else {
                        log::debug(&format!("reconnect failed: {e}"));
                    }
                }
            }
            // Meanwhile, tasks of the lost connection finish: their verdicts are dropped.
            let until = Instant::now() + delay;
            while Instant::now() < until && !signals::stop_requested() {
                let left = until.saturating_duration_since(Instant::now()).min(TICK);
                if let Ok(done) = self.pool.done().recv_timeout(left) {
                    self.drop_verdict(done);
                }
            }
            delay = (delay * 2).min(MAX_BACKOFF);
        }
    }

    fn summary(&self) {
        if self.epoch == 0 {
            // It never consumed (e.g. the queue declaration failed): nothing to sum up.
            return;
        }
        let s = &self.stats;
        let processed = s.acked + s.rejected + s.requeued;
        let mut line = format!(
            "processed {processed} message(s) from queue '{}' in {:.1} s: acked {}, rejected {}, \
             requeued {}",
            self.queue,
            self.started.elapsed().as_secs_f64(),
            s.acked,
            s.rejected,
            s.requeued
        );
        if s.replied > 0 {
            line += &format!(", replied {}", s.replied);
        }
        if let (Some(first), Some(last)) = (s.first, s.last)
            && processed > 1
            && last > first
        {
            let span = (last - first).as_secs_f64();
            let rate = processed as f64 / span;
            line += &format!(" (first to last message: {span:.1} s, {rate:.0} msg/s)");
        }
        if s.dropped > 0 {
            line += &format!(
                "; {} task(s) finished after their connection was lost: not acked, the broker \
                 redelivers those messages",
                s.dropped
            );
        }
        log::note(&line);
    }
}

/// A lost connection (or a channel closed by the broker's ack timeout) is worth a
/// reconnect; anything else ends the worker.
fn classify(e: Error) -> End {
    match e {
        Error::ConnectionLost { .. } => End::Lost(e),
        Error::Precondition { ref reason, .. } if reason.contains("acknowledgement") => {
            log::warn(
                "a message stayed unacked longer than the broker's consumer_timeout (30 min by \
                 default; raise it in rabbitmq.conf for long tasks): its channel was closed",
            );
            End::Lost(e)
        }
        e => End::Failed(e),
    }
}

/// The command's environment for a delivery.
fn env_of(d: &Delivery) -> Vec<(&'static str, String)> {
    let p = &d.message.props;
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        ("RMQ_EXCHANGE", d.exchange.clone()),
        ("RMQ_ROUTING_KEY", d.routing_key.clone()),
        ("RMQ_REDELIVERED", d.redelivered.to_string()),
        ("RMQ_MESSAGE_ID", s(&p.message_id)),
        ("RMQ_CORRELATION_ID", s(&p.correlation_id)),
        ("RMQ_REPLY_TO", s(&p.reply_to)),
        (
            "RMQ_HEADERS",
            p.headers
                .as_ref()
                .map_or_else(|| "{}".into(), |h| envelope::table_to_json(h).to_string()),
        ),
    ]
}

/// "message id 'm-1' (routing key 'jobs', delivery tag 7)".
fn label_of(p: &Properties, routing_key: &str, tag: u64) -> String {
    let id = match &p.message_id {
        Some(id) => format!("message id '{id}'"),
        None => "message (no message id)".into(),
    };
    format!("{id} (routing key '{routing_key}', delivery tag {tag})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_the_message() {
        let p = Properties {
            message_id: Some("m-1".into()),
            ..Properties::default()
        };
        assert_eq!(
            label_of(&p, "jobs", 7),
            "message id 'm-1' (routing key 'jobs', delivery tag 7)"
        );
        assert_eq!(
            label_of(&Properties::default(), "k", 1),
            "message (no message id) (routing key 'k', delivery tag 1)"
        );
    }
}
