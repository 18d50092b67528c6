//! `rmq send`: publish messages, confirmed by the broker, with returns counted.

use crate::amqp::{ConfirmEvent, ExchangeKind, Message, Properties, Publisher, Session, Value};
use crate::ctx::Ctx;
use crate::declare;
use crate::envelope;
use crate::error::{Error, Result};
use crate::input::{Input, Item};
use crate::kv;
use crate::progress::Progress;
use crate::{log, signals};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::rc::Rc;
use std::time::{Duration, Instant};

mod interactive;
mod watchdog;

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

/// At most this many unconfirmed messages in flight.
const WINDOW: usize = 2048;
/// At most this many bytes of unconfirmed bodies kept for re-publishing.
const WINDOW_BYTES: usize = 2 << 20;
/// Unconfirmed bytes are also what rmq's memory holds on the way to the socket, shared
/// `--repeat` bodies included: amiquip's I/O thread moves queued frames into its write
/// buffer in one pass for as long as the publisher keeps refilling the queue. With large
/// messages (see [`large_bodies`]: a small frame queue) 8 MiB unconfirmed sent 1,000 x 1 MiB
/// in 3.4-3.8 s at 10.7-11.5 MB peak RSS, against 4.7-4.9 s and 13.5 MB with 2 MiB and the
/// usual queue; 64 MiB was faster still but peaked at 46-73 MB. Once malloc kept its blocks
/// (see `keep_freed_memory`), scripts/bench W5 (2,000 x 1 MiB, persistent) took 5.3 s at
/// 16.7 MB with 16 MiB, against 5.8-6.2 s at 13-16 MB with 8 MiB and 5.3-6.2 s at 36 MB
/// with 32 MiB: the broker writes and confirms in larger batches.
const WINDOW_BYTES_LARGE: usize = 16 << 20;
/// A body of at least this size, known before connecting, makes the messages "large".
const LARGE_BODY: u64 = 64 << 10;
/// Connection losses with no confirm in between before giving up.
const MAX_LOSSES_IN_A_ROW: u32 = 5;
/// How long reconnection is tried before giving up.
const RECONNECT_FOR: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
enum Target {
    Queue(String),
    Exchange {
        name: String,
        key: String,
    },
    /// `--ndjson` without -Q/-e: each envelope names its exchange and routing key.
    FromEnvelope,
}

impl Target {
    fn describe(&self) -> String {
        match self {
            Target::Queue(q) => format!("queue '{q}'"),
            Target::Exchange { name, key } => format!("exchange '{name}' (routing key '{key}')"),
            Target::FromEnvelope => "the exchanges named in the input".into(),
        }
    }
}

#[derive(Clone)]
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

/// Where a message goes.
#[derive(PartialEq, Eq)]
struct Dest {
    exchange: String,
    routing_key: String,
}

#[derive(Clone, Default)]
struct Stats {
    sent: u64,
    confirmed: u64,
    returned: u64,
    nacked: u64,
    resent: u64,
}

/// Run `rmq send`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let target = target(&args, ctx)?;
    let flags = Message {
        body: Vec::new(),
        props: base_properties(&args),
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
        open_input(&args)?
    };
    if !interactive {
        signals::install(true);
    }
    let large = large_bodies(&args);
    let session = connect(ctx, large)?;
    let mut sender = Sender::new(ctx, &args, target, session, large)?;
    let outcome = if interactive {
        sender.progress = Progress::new(None, false);
        interactive::run(&mut sender)
    } else {
        sender.pump(input)
    };
    sender.finish(outcome)
}

/// Whether the message sizes are known before connecting (BODY words, or stdin that is a
/// regular file read whole) and large enough to publish with the large-message tuning.
fn large_bodies(args: &Args) -> bool {
    let size = if !args.body.is_empty() {
        args.body.iter().map(|w| w.len() as u64 + 1).sum()
    } else if args.lines || args.ndjson {
        0
    } else {
        crate::input::stdin_file_size().unwrap_or(0)
    };
    size >= LARGE_BODY
}

fn connect(ctx: &Ctx, large: bool) -> Result<Session> {
    let mut opts = ctx.connect_options("rmq send")?;
    opts.large_messages = large;
    Session::open(&opts)
}

fn target(args: &Args, ctx: &Ctx) -> Result<Target> {
    let t = if let Some(q) = &args.queue {
        Target::Queue(q.clone())
    } else if let Some(x) = &args.exchange {
        Target::Exchange {
            name: x.clone(),
            key: args.routing_key.clone().unwrap_or_default(),
        }
    } else if args.ndjson {
        Target::FromEnvelope
    } else {
        Target::Queue(ctx.default_queue())
    };
    for name in [&args.queue, &args.exchange, &args.routing_key]
        .into_iter()
        .flatten()
    {
        if name.len() > 255 {
            return Err(Error::Usage(format!(
                "name '{}...' is longer than 255 bytes",
                &name[..name.floor_char_boundary(40)]
            )));
        }
    }
    log::info(&format!("publishing to {}", t.describe()));
    Ok(t)
}

fn open_input(args: &Args) -> Result<Input> {
    if !args.body.is_empty() {
        return Ok(Input::words(&args.body));
    }
    let tty = std::io::stdin().is_terminal();
    Ok(if args.ndjson {
        Input::lines(true, false)
    } else if args.lines {
        Input::lines(false, false)
    } else if tty {
        // Interactive mode reads the terminal itself; this is for stdin-only terminals.
        Input::lines(false, true)
    } else {
        Input::whole_stdin()
    })
}

struct Sender<'a> {
    ctx: &'a Ctx,
    args: &'a Args,
    target: Target,
    session: Session,
    publisher: Publisher,
    confirm: bool,
    pending: BTreeMap<u64, InFlight>,
    /// Body bytes of the unconfirmed messages, and of those only kept for them.
    pending_bytes: usize,
    retained_bytes: usize,
    /// Large-message tuning (see [`large_bodies`]).
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
    /// The -Q queue, while it is not known to exist (see [`probe_queue`]).
    probe: Option<String>,
    /// The broker returned the probe message: no queue has that name.
    probe_missed: bool,
    /// Connection losses since the last confirm: a message that makes the broker close the
    /// connection every time must not be re-sent forever.
    losses_in_a_row: u32,
}

impl<'a> Sender<'a> {
    fn new(
        ctx: &'a Ctx,
        args: &'a Args,
        target: Target,
        mut session: Session,
        large: bool,
    ) -> Result<Self> {
        let confirm = !args.no_confirm;
        let probe = probe_queue(&target, args);
        if probe.is_none() {
            declare_target(&mut session, &target, args)?;
        }
        let publisher = session.publisher(confirm)?;
        let watch = watchdog::Watch::start(
            args.timeout,
            target.describe(),
            confirm,
            ctx.json(),
            session.blocked_listener(),
            publisher.meter(),
        );
        let total = if args.body.is_empty() {
            None
        } else {
            Some(args.repeat)
        };
        Ok(Sender {
            ctx,
            args,
            target,
            session,
            publisher,
            confirm,
            pending: BTreeMap::new(),
            pending_bytes: 0,
            retained_bytes: 0,
            large,
            last_dest: None,
            stats: Stats::default(),
            base_props: base_properties(args),
            progress: Progress::new(total, args.repeat > 1 || args.body.is_empty()),
            started: Instant::now(),
            last_progress: Instant::now(),
            watch,
            run_id: args.auto_message_id.then(run_id),
            losses_in_a_row: 0,
            probe,
            probe_missed: false,
        })
    }

    /// Read and publish everything; an input error stops the run after what came before.
    fn pump(&mut self, mut input: Input) -> Result<()> {
        loop {
            if signals::stop_requested() {
                return Err(Error::Interrupted("stopped reading input".into()));
            }
            let Some(item) = input.next_item()? else {
                return Ok(());
            };
            self.input_arrived();
            let (exchange, routing_key, message) = self.resolve(item)?;
            let dest = self.dest(exchange, routing_key);
            let message = Rc::new(message);
            for _ in 0..self.args.repeat {
                self.publish_shared(&dest, &message)?;
            }
        }
    }

    /// With --auto-message-id, a copy carrying the id of the next message (when it has none).
    fn with_auto_id(&self, message: &Rc<Message>) -> Rc<Message> {
        match &self.run_id {
            Some(run) if message.props.message_id.is_none() => {
                let mut m = Message::clone(message);
                m.props.message_id = Some(format!("{run}-{}", self.stats.sent + 1));
                Rc::new(m)
            }
            _ => message.clone(),
        }
    }

    /// Time spent waiting for input is not the broker's delay (--timeout).
    fn input_arrived(&mut self) {
        if self.pending.is_empty() {
            self.last_progress = Instant::now();
        }
    }

    fn resolve(&self, item: Item) -> Result<(String, String, Message)> {
        let line = match &item {
            Item::Envelope { line, .. } => Some(*line),
            Item::Body(_) => None,
        };
        let (env_exchange, env_key, mut message) = match item {
            Item::Body(body) => (
                None,
                None,
                Message {
                    body,
                    props: self.base_props.clone(),
                },
            ),
            Item::Envelope { line, bytes } => {
                let env = envelope::parse(&bytes)
                    .map_err(|e| Error::Input(format!("stdin line {line}: {e}")))?;
                (env.exchange, env.routing_key, env.message)
            }
        };
        if self.args.ndjson {
            overlay(&mut message.props, &self.base_props);
        }
        let resolved = match &self.target {
            Target::Queue(q) => (String::new(), q.clone(), message),
            Target::Exchange { name, key } => (name.clone(), key.clone(), message),
            Target::FromEnvelope => (
                env_exchange.unwrap_or_default(),
                env_key.unwrap_or_default(),
                message,
            ),
        };
        // An envelope the broker would refuse stops the run here, naming its line (the
        // broker would close the whole connection, and a re-sent copy would fail again).
        if let Some(line) = line {
            crate::amqp::check_publish(&resolved.0, &resolved.1, &resolved.2)
                .map_err(|e| Error::Input(format!("stdin line {line}: {e}")))?;
        }
        Ok(resolved)
    }

    /// The same destination as the last message's is shared, not allocated again.
    fn dest(&mut self, exchange: String, routing_key: String) -> Rc<Dest> {
        let d = Dest {
            exchange,
            routing_key,
        };
        match &self.last_dest {
            Some(last) if **last == d => last.clone(),
            _ => {
                let d = Rc::new(d);
                self.last_dest = Some(d.clone());
                d
            }
        }
    }

    fn publish(&mut self, exchange: &str, routing_key: &str, message: Message) -> Result<()> {
        let dest = self.dest(exchange.to_string(), routing_key.to_string());
        self.publish_shared(&dest, &Rc::new(message))
    }

    fn publish_shared(&mut self, dest: &Rc<Dest>, message: &Rc<Message>) -> Result<()> {
        let message = &self.with_auto_id(message);
        loop {
            match self
                .publisher
                .publish(&dest.exchange, &dest.routing_key, message, true)
            {
                Ok(tag) => {
                    self.stats.sent += 1;
                    self.progress.inc();
                    if self.confirm {
                        let copy = self
                            .pending
                            .last_key_value()
                            .is_some_and(|(_, p)| Rc::ptr_eq(&p.message, message));
                        let retained = if copy { 0 } else { message.body.len() };
                        self.pending_bytes += message.body.len();
                        self.retained_bytes += retained;
                        self.pending.insert(
                            tag,
                            InFlight {
                                seq: self.stats.sent,
                                dest: dest.clone(),
                                message: message.clone(),
                                retained,
                            },
                        );
                    }
                    break;
                }
                Err(e) => self.recover(e)?,
            }
        }
        if self.probe.is_some() {
            return self.settle_probe(dest, message);
        }
        if self.stats.sent.is_multiple_of(256) {
            self.drain(Duration::ZERO)?;
        }
        while self.confirm && self.window_full() {
            self.drain(Duration::from_millis(100))?;
        }
        Ok(())
    }

    fn window_full(&self) -> bool {
        let max_bytes = if self.large {
            WINDOW_BYTES_LARGE
        } else {
            WINDOW_BYTES
        };
        self.pending.len() >= WINDOW
            || self.retained_bytes > WINDOW_BYTES
            || self.pending_bytes > max_bytes
    }

    /// Process confirms (waiting up to `wait` for the first) and returns.
    fn drain(&mut self, wait: Duration) -> Result<()> {
        match self.publisher.confirms(wait, exchange_of(&self.target)) {
            Ok(events) => {
                if !events.is_empty() {
                    self.last_progress = Instant::now();
                    self.losses_in_a_row = 0;
                }
                for e in events {
                    self.apply(e);
                }
            }
            Err(e) => self.recover(e)?,
        }
        self.take_returns();
        self.check_blocked()?;
        Ok(())
    }

    fn apply(&mut self, event: ConfirmEvent) {
        let (tag, multiple, ack) = match event {
            ConfirmEvent::Ack { tag, multiple } => (tag, multiple, true),
            ConfirmEvent::Nack { tag, multiple } => (tag, multiple, false),
        };
        let done: Vec<InFlight> = if multiple {
            let rest = self.pending.split_off(&(tag + 1));
            std::mem::replace(&mut self.pending, rest)
                .into_values()
                .collect()
        } else {
            self.pending.remove(&tag).into_iter().collect()
        };
        for m in &done {
            self.pending_bytes = self.pending_bytes.saturating_sub(m.message.body.len());
            self.retained_bytes = self.retained_bytes.saturating_sub(m.retained);
        }
        let n = done.len() as u64;
        if ack {
            self.stats.confirmed += n;
        } else {
            self.stats.nacked += n;
        }
    }

    /// The first message to an unchecked queue: wait for its confirm. Returned unroutable
    /// means the queue does not exist: declare it and publish the message again.
    fn settle_probe(&mut self, dest: &Rc<Dest>, message: &Rc<Message>) -> Result<()> {
        while self.probe.is_some() && !self.pending.is_empty() {
            self.drain(Duration::from_millis(100))?;
        }
        let Some(queue) = self.probe.take() else {
            // A reconnect declared the queue and published the message again.
            return Ok(());
        };
        if !std::mem::take(&mut self.probe_missed) {
            return Ok(());
        }
        // Not delivered: it is sent again below, and counted then.
        self.stats.sent -= 1;
        self.stats.confirmed = self.stats.confirmed.saturating_sub(1);
        declare::ensure_queue(&mut self.session, &queue, self.args.durable)?;
        self.publish_shared(dest, message)
    }

    fn take_returns(&mut self) {
        for r in self.publisher.returned() {
            if let Some(q) = &self.probe
                && r.reply_code == 312
                && r.exchange.is_empty()
                && r.routing_key == *q
            {
                self.probe_missed = true;
                continue;
            }
            self.stats.returned += 1;
            if self.stats.returned <= 5 {
                self.progress.suspend(|| {
                    log::warn(&format!(
                        "message returned unroutable: exchange '{}', routing key '{}' ({} {})",
                        r.exchange, r.routing_key, r.reply_code, r.reply_text
                    ))
                });
            }
        }
    }

    /// Hand the counts to the watchdog (which also reports the broker's flow-control
    /// notices), and enforce --timeout: no confirm for SECS while some are awaited.
    fn check_blocked(&mut self) -> Result<()> {
        self.watch.update(&self.stats, self.pending.len());
        if let Some(t) = self.args.timeout
            && self.last_progress.elapsed() > Duration::from_secs_f64(t)
            && !self.pending.is_empty()
        {
            let why = match self.watch.blocked() {
                Some(reason) => format!("broker blocked publishing: {}", watchdog::alarm(&reason)),
                None => "no publisher confirms arrived".to_string(),
            };
            return Err(Error::Timeout(format!(
                "{why} for {t} s; {} message(s) unconfirmed",
                self.pending.len()
            )));
        }
        Ok(())
    }

    /// A failure while publishing: reconnect if it is a lost connection, else give up.
    fn recover(&mut self, e: Error) -> Result<()> {
        let Error::ConnectionLost { reason, .. } = e else {
            return Err(self.name_refused_message(e));
        };
        if self.args.no_reconnect || !self.confirm {
            return Err(Error::ConnectionLost {
                reason,
                confirmed: Some(self.confirmed_prefix()),
            });
        }
        self.losses_in_a_row += 1;
        if self.losses_in_a_row > MAX_LOSSES_IN_A_ROW {
            return Err(Error::ConnectionLost {
                reason: format!(
                    "{reason}; lost {} times in a row with nothing confirmed in between, giving up",
                    self.losses_in_a_row
                ),
                confirmed: Some(self.confirmed_prefix()),
            });
        }
        self.progress
            .suspend(|| log::warn(&format!("connection lost ({reason}); reconnecting")));
        let deadline = Instant::now() + RECONNECT_FOR;
        let mut delay = Duration::from_millis(200);
        loop {
            if signals::stop_requested() {
                return Err(Error::Interrupted("stopped while reconnecting".into()));
            }
            match self.reconnect_once() {
                Ok(()) => return Ok(()),
                Err(e @ (Error::AccessRefused { .. } | Error::Usage(_))) => return Err(e),
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(e) => {
                    log::debug(&format!("reconnect failed: {e}"));
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(3));
                }
            }
        }
    }

    fn reconnect_once(&mut self) -> Result<()> {
        let mut session = connect(self.ctx, self.large)?;
        declare_target(&mut session, &self.target, self.args)?;
        let mut publisher = session
            .publisher(self.confirm)?
            .with_meter(self.watch.meter());
        // Until every one is re-published, the old set stays: a failure here (the connection
        // lost again) must not forget any of them.
        let mut fresh = BTreeMap::new();
        for m in self.pending.values() {
            let tag = publisher.publish(&m.dest.exchange, &m.dest.routing_key, &m.message, true)?;
            fresh.insert(tag, m.clone());
        }
        let count = fresh.len() as u64;
        self.pending = fresh;
        self.probe = None;
        self.stats.resent += count;
        self.session = session;
        self.watch.follow(self.session.blocked_listener());
        self.publisher = publisher;
        self.last_progress = Instant::now();
        log::note(&format!(
            "reconnected to {}; re-published {count} unconfirmed message(s)",
            self.session.endpoint().redacted()
        ));
        Ok(())
    }

    /// The broker refused a message on its channel (too large): with confirms, it is the
    /// first unconfirmed one, and later ones were discarded with the channel.
    fn name_refused_message(&mut self, e: Error) -> Error {
        match e {
            Error::Precondition { reason, .. } if reason.contains("message size") => {
                // Confirms that arrived before the close still count.
                while let Ok(events) = self
                    .publisher
                    .confirms(Duration::ZERO, exchange_of(&self.target))
                    && !events.is_empty()
                {
                    for ev in events {
                        self.apply(ev);
                    }
                }
                let n = self.confirmed_prefix() + 1;
                let what = if self.args.lines || self.args.ndjson {
                    format!("message {n} (stdin line {n})")
                } else {
                    format!("message {n}")
                };
                Error::Precondition {
                    what,
                    reason,
                    hint: "the broker's max_message_size (128 MiB by default) limits each \
                           message: split the data, or raise the limit in rabbitmq.conf"
                        .into(),
                }
            }
            other => other,
        }
    }

    /// Messages confirmed with every earlier one confirmed too (safe to resume after).
    fn confirmed_prefix(&self) -> u64 {
        if !self.confirm {
            return 0;
        }
        match self.pending.values().map(|m| m.seq).min() {
            Some(first_unconfirmed) => first_unconfirmed - 1,
            None => self.stats.sent,
        }
    }

    /// Wait for the last confirms, report, and turn the outcome into the exit status.
    fn finish(mut self, outcome: Result<()>) -> Result<()> {
        let settle = if signals::stop_requested() {
            Some(Duration::from_secs(5))
        } else {
            None
        };
        let settled = self.settle(settle);
        if !self.watch.claim() {
            watchdog::Watch::park_forever();
        }
        self.progress.finish();
        self.summary();
        if let Err(e) = outcome.and(settled) {
            if matches!(e, Error::Timeout(_)) {
                // The broker reads nothing (blocked): closing would only wait on it.
                std::mem::forget(self);
            }
            return Err(e);
        }
        if self.stats.nacked > 0 {
            return Err(Error::Nacked {
                nacked: self.stats.nacked,
            });
        }
        if self.args.strict && self.stats.returned > 0 {
            return Err(Error::Unroutable {
                returned: self.stats.returned,
            });
        }
        // connection.close takes the channel with it: closing the channel first would cost
        // one more round trip (a one-message send is mostly round trips).
        let Sender {
            publisher, session, ..
        } = self;
        session.close_with(publisher);
        Ok(())
    }

    fn settle(&mut self, limit: Option<Duration>) -> Result<()> {
        let started = Instant::now();
        if !self.confirm {
            let r = self.publisher.sync(exchange_of(&self.target));
            self.take_returns();
            return r;
        }
        while !self.pending.is_empty() {
            if limit.is_some_and(|l| started.elapsed() > l) {
                return Err(Error::Timeout(format!(
                    "{} message(s) still unconfirmed",
                    self.pending.len()
                )));
            }
            self.drain(Duration::from_millis(100))?;
        }
        self.take_returns();
        Ok(())
    }

    fn summary(&self) {
        print_summary(
            &self.stats,
            &self.target.describe(),
            self.confirm,
            self.started.elapsed().as_secs_f64(),
            self.ctx.json(),
        );
    }
}

/// The one-line summary on stderr, or a JSON object on stdout with --json.
fn print_summary(s: &Stats, target: &str, confirm: bool, secs: f64, json: bool) {
    let rate = if secs > 0.0 {
        s.sent as f64 / secs
    } else {
        0.0
    };
    if json {
        let v = serde_json::json!({
            "sent": s.sent, "confirmed": s.confirmed, "returned": s.returned,
            "nacked": s.nacked, "resent": s.resent, "seconds": secs,
            "target": target,
        });
        let mut out = crate::output::Out::new();
        let _ = out.text(&v.to_string()).and_then(|()| out.flush());
        return;
    }
    let mut line = format!("sent {} to {target}", s.sent);
    if confirm {
        line += &format!(", confirmed {}", s.confirmed);
    }
    line += &format!(", returned {}", s.returned);
    if s.nacked > 0 {
        line += &format!(", nacked {}", s.nacked);
    }
    if s.resent > 0 {
        line += &format!(", re-sent {}", s.resent);
    }
    line += &format!(" in {secs:.3} s");
    if s.sent >= 100 {
        line += &format!(" ({rate:.0} msg/s)");
    }
    log::note(&line);
}

/// A short id unique to this run: time and pid, 12 hex digits.
fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mixed = nanos ^ (u64::from(std::process::id()) << 40) ^ (nanos >> 24);
    format!("{:012x}", mixed & 0xffff_ffff_ffff)
}

fn exchange_of(t: &Target) -> &str {
    match t {
        Target::Exchange { name, .. } => name,
        _ => "",
    }
}

/// The queue whose existence the first message checks, instead of a passive declare before
/// it: that saves a round trip, a quarter of a one-message `send` (the default exchange
/// returns a message for a missing queue as unroutable, before its confirm). Only with
/// confirms (they say when the return would have come), and not with --durable, which
/// checks an existing queue's durability.
fn probe_queue(target: &Target, args: &Args) -> Option<String> {
    match target {
        Target::Queue(q) if !args.no_declare && !args.no_confirm && !args.durable => {
            Some(q.clone())
        }
        _ => None,
    }
}

fn declare_target(session: &mut Session, target: &Target, args: &Args) -> Result<()> {
    match target {
        Target::Queue(q) if !args.no_declare => {
            declare::ensure_queue(session, q, args.durable)?;
        }
        Target::Queue(_) | Target::FromEnvelope => {}
        Target::Exchange { name, .. } => {
            declare::ensure_exchange(session, name, args.kind, args.durable)?;
        }
    }
    Ok(())
}

fn base_properties(args: &Args) -> Properties {
    Properties {
        content_type: args.content_type.clone(),
        content_encoding: args.content_encoding.clone(),
        headers: if args.headers.is_empty() {
            None
        } else {
            Some(kv::table(&args.headers))
        },
        delivery_mode: args.persistent.then_some(2),
        priority: args.priority,
        correlation_id: args.correlation_id.clone(),
        reply_to: args.reply_to.clone(),
        expiration: args.expiration.map(|e| e.to_string()),
        message_id: args.message_id.clone(),
        ..Properties::default()
    }
}

/// Flags given on the command line win over what an envelope says.
fn overlay(p: &mut Properties, flags: &Properties) {
    macro_rules! over {
        ($($f:ident),*) => {$(
            if flags.$f.is_some() {
                p.$f = flags.$f.clone();
            }
        )*};
    }
    over!(
        content_type,
        content_encoding,
        delivery_mode,
        priority,
        correlation_id,
        reply_to,
        expiration,
        message_id
    );
    if let Some(h) = &flags.headers {
        let mut merged = p.headers.clone().unwrap_or_default();
        merged.extend(h.clone());
        p.headers = Some(merged);
    }
}
