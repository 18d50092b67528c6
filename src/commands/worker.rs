//! `rmq worker`: the work-queue consumer (tutorial 2) and the RPC server (tutorial 6).
//! This file holds the arguments, the run across reconnects, and the state the parts share:
//! the consume loop is worker/consume.rs, acks/nacks/replies worker/verdicts.rs, connection
//! loss worker/reconnect.rs, the tasks themselves worker/task.rs.
//!
//! The main thread owns the connection, the channel and the consumer, and does every ack,
//! nack and reply (amiquip: acks belong to the thread that owns the channel). Tasks run on a
//! pool of threads ([`task::Pool`]) and send their verdicts back over a crossbeam channel,
//! which the main thread waits on together with the consumer.

mod consume;
mod reconnect;
mod task;
mod verdicts;

use crate::amqp::AckToken;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::{log, signals};
use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::time::{Duration, Instant};
use task::{Job, Mode, Pool};

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

/// RabbitMQ's direct reply-to pseudo-queue (what `rmq call` consumes); the reply addresses
/// it hands out start with this name.
pub const DIRECT_REPLY_TO: &str = "amq.rabbitmq.reply-to";
/// How often the main loop looks at Ctrl-C when nothing else happens.
const TICK: Duration = Duration::from_millis(100);

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
