//! `rmq send`: publish messages, confirmed by the broker, with returns counted.
//! This file holds the arguments, the run from start to end, and the state its stages share.
//! The stages live in send/ (plan.rs: what to send, where; publish.rs: the loop and its
//! confirm window; reconnect.rs; summary.rs), never here.

use crate::amqp::{ExchangeKind, Message, Properties, Publisher, Session, Value};
use crate::confirm::ConfirmWindow;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::input::Input;
use crate::kv;
use crate::progress::Progress;
use crate::signals;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::rc::Rc;
use std::time::Instant;

mod interactive;
mod plan;
mod publish;
mod reconnect;
mod summary;
mod watchdog;

use plan::{Dest, Target};
use summary::Stats;

const EXAMPLES: &str = "\
Examples:
  rmq send \"Hello World!\" -Q hello                 # tutorial 1
  rmq send -p \"A task with dots...\" -Q task_queue --durable   # tutorial 2
  rmq send -e logs -t fanout \"info: started\"     # tutorial 3
  rmq send -e topic_logs -t topic -k kern.critical \"disk full\"   # tutorial 5
  seq 1 1000 | rmq send -Q jobs --lines           # one message per line
  rmq receive -Q q --json -n 10 | rmq send --ndjson -Q q2   # lossless copy";

/// Publish messages
///
/// BODY words are joined with single spaces into one message. Without BODY, stdin is read:
/// the whole of it is one message, or one message per line with --lines, or envelopes
/// written by `rmq receive --json` with --ndjson. With no BODY and stdin a terminal, each
/// line you type is sent.
///
/// Publisher confirms are on: exit 0 means the broker has every message. Messages are
/// published mandatory: unroutable ones are reported (exit 7 with --strict). Without -Q or
/// -e, the queue is $RMQ_QUEUE or task_queue. If the connection is lost, rmq reconnects and
/// publishes again every message not yet confirmed (at-least-once).
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Message body (words are joined with single spaces); read from stdin when absent
    #[arg(value_name = "BODY")]
    pub body: Vec<OsString>,

    /// Queue to publish to (declared unless it exists or --no-declare is given)
    #[arg(short = 'Q', long, value_name = "QUEUE", conflicts_with = "exchange")]
    pub queue: Option<String>,

    /// Exchange to publish to, instead of a queue
    #[arg(short = 'e', long, value_name = "EXCHANGE")]
    pub exchange: Option<String>,

    /// Routing key for --exchange
    #[arg(short = 'k', long, value_name = "KEY", requires = "exchange")]
    pub routing_key: Option<String>,

    /// Exchange type: declare the exchange with this type first if it does not exist
    #[arg(short = 't', long = "type", value_name = "TYPE", requires = "exchange")]
    pub kind: Option<ExchangeKind>,

    /// Declare the queue (or the exchange, with -t) durable when it does not exist
    #[arg(long)]
    pub durable: bool,

    /// Do not declare the queue; it must exist
    #[arg(long)]
    pub no_declare: bool,

    /// Send every line of stdin as one message (the newline stripped)
    #[arg(long, conflicts_with_all = ["ndjson", "body"])]
    pub lines: bool,

    /// Read stdin as JSON envelopes, one per line, as written by `rmq receive --json`;
    /// without -Q/-e each goes to the exchange and routing key it names
    #[arg(long, conflicts_with = "body")]
    pub ndjson: bool,

    /// Mark messages persistent (delivery mode 2)
    #[arg(short = 'p', long)]
    pub persistent: bool,

    /// Add a header (repeatable); integers and true/false are sent typed
    #[arg(short = 'H', long = "header", value_name = "K=V", value_parser = kv::KvParser)]
    pub headers: Vec<(String, Value)>,

    /// Set the content-type property
    #[arg(long, value_name = "TYPE")]
    pub content_type: Option<String>,

    /// Set the content-encoding property
    #[arg(long, value_name = "ENCODING")]
    pub content_encoding: Option<String>,

    /// Set the correlation-id property
    #[arg(long, value_name = "ID")]
    pub correlation_id: Option<String>,

    /// Set the reply-to property
    #[arg(long, value_name = "QUEUE")]
    pub reply_to: Option<String>,

    /// Set the message-id property
    #[arg(long, value_name = "ID")]
    pub message_id: Option<String>,

    /// Give every message without a message-id the id RUN-N: RUN is unique to this run, N is
    /// the message's position in it (1, 2, ...). A message re-sent after a reconnect keeps its
    /// id, so consumers can drop the duplicates (RMQ_MESSAGE_ID in `rmq worker`)
    #[arg(long, conflicts_with = "message_id")]
    pub auto_message_id: bool,

    /// Set a per-message TTL in milliseconds
    #[arg(long, value_name = "MS", allow_hyphen_values = true)]
    pub expiration: Option<u32>,

    /// Set the priority property (0-255)
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub priority: Option<u8>,

    /// Do not wait for publisher confirms (faster, no delivery guarantee)
    #[arg(long)]
    pub no_confirm: bool,

    /// Exit 7 when any message is returned as unroutable
    #[arg(long)]
    pub strict: bool,

    /// Send each message N times
    #[arg(long, value_name = "N", default_value = "1", value_parser = clap::value_parser!(u64).range(1..))]
    pub repeat: u64,

    /// On connection loss exit 3 (stderr says how many were confirmed) instead of reconnecting
    #[arg(long)]
    pub no_reconnect: bool,

    /// Give up after SECS without progress (broker blocked, no confirms): exit 8
    #[arg(long, value_name = "SECS", value_parser = crate::cli::parse_positive_secs)]
    pub timeout: Option<f64>,
}

/// Run `rmq send`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let target = plan::target(&args, ctx)?;
    let flags = Message {
        body: Vec::new(),
        props: plan::base_properties(&args),
    };
    crate::amqp::check_publish("", "", &flags).map_err(Error::Usage)?;
    let interactive = args.body.is_empty()
        && !args.lines
        && !args.ndjson
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal();
    let input = if interactive {
        Input::words(&[])
    } else {
        plan::open_input(&args)?
    };
    if !interactive {
        signals::install(true);
    }
    let large = plan::large_bodies(&args);
    let session = plan::connect(ctx, large)?;
    let mut sender = Sender::new(ctx, &args, target, session, large)?;
    let outcome = if interactive {
        sender.progress = Progress::new(None, false);
        interactive::run(&mut sender)
    } else {
        sender.pump(input)
    };
    sender.finish(outcome)
}

/// A message published and not yet confirmed: what re-publishing it needs.
struct InFlight {
    /// 1-based position in the input stream.
    seq: u64,
    /// Shared by every message of one input item (and, for a fixed target, by all).
    dest: Rc<Dest>,
    /// Shared by the `--repeat` copies: kept for re-publishing, never cloned.
    message: Rc<Message>,
    /// Body bytes this entry alone keeps alive (0 for a copy of the previous message).
    retained: usize,
}

/// One `send` run: the connection, the confirm window, the counts.
struct Sender<'a> {
    ctx: &'a Ctx,
    args: &'a Args,
    target: Target,
    session: Session,
    publisher: Publisher,
    confirm: bool,
    /// The unconfirmed messages, kept for re-publishing (with confirms only).
    window: ConfirmWindow<InFlight>,
    /// Body bytes of the unconfirmed messages, and of those only kept for them.
    pending_bytes: usize,
    retained_bytes: usize,
    /// Large-message tuning (see [`plan::large_bodies`]).
    large: bool,
    last_dest: Option<Rc<Dest>>,
    stats: Stats,
    base_props: Properties,
    progress: Progress,
    started: Instant,
    last_progress: Instant,
    /// Reports flow-control notices and enforces --timeout even while a publish is stuck.
    watch: std::sync::Arc<watchdog::Watch>,
    /// `--auto-message-id`: the RUN part of the ids.
    run_id: Option<String>,
    /// The -Q queue, while it is not known to exist (see [`plan::probe_queue`]).
    probe: Option<String>,
    /// The broker returned the probe message: no queue has that name.
    probe_missed: bool,
    /// Connection losses since the last confirm: a message that makes the broker close the
    /// connection every time must not be re-sent forever.
    losses_in_a_row: u32,
}
