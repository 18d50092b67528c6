//! The plan of what `send` publishes, and where: the target from -Q/-e (or each envelope),
//! the properties from the flags, where input comes from, and each input item turned into a
//! destination and a message. No publishing or confirms here (publish.rs does those).

use super::{Args, Sender};
use crate::amqp::{Message, Properties, Session};
use crate::ctx::Ctx;
use crate::declare;
use crate::envelope;
use crate::error::{Error, Result};
use crate::input::{Input, Item};
use crate::kv;
use crate::log;
use std::io::IsTerminal;
use std::rc::Rc;

/// A body of at least this size, known before connecting, makes the messages "large".
const LARGE_BODY: u64 = 64 << 10;

/// Where the messages go, as the flags say.
#[derive(Debug, Clone)]
pub(super) enum Target {
    Queue(String),
    Exchange {
        name: String,
        key: String,
    },
    /// `--ndjson` without -Q/-e: each envelope names its exchange and routing key.
    FromEnvelope,
}

impl Target {
    /// "queue 'q'", for messages and the summary.
    pub(super) fn describe(&self) -> String {
        match self {
            Target::Queue(q) => format!("queue '{q}'"),
            Target::Exchange { name, key } => format!("exchange '{name}' (routing key '{key}')"),
            Target::FromEnvelope => "the exchanges named in the input".into(),
        }
    }
}

/// Where a message goes.
#[derive(PartialEq, Eq)]
pub(super) struct Dest {
    pub(super) exchange: String,
    pub(super) routing_key: String,
}

/// Whether the message sizes are known before connecting (BODY words, or stdin that is a
/// regular file read whole) and large enough to publish with the large-message tuning.
pub(super) fn large_bodies(args: &Args) -> bool {
    let size = if !args.body.is_empty() {
        args.body.iter().map(|w| w.len() as u64 + 1).sum()
    } else if args.lines || args.ndjson {
        0
    } else {
        crate::input::stdin_file_size().unwrap_or(0)
    };
    size >= LARGE_BODY
}

/// A connection for `send` (tuned for large messages when they are).
pub(super) fn connect(ctx: &Ctx, large: bool) -> Result<Session> {
    let mut opts = ctx.connect_options("rmq send")?;
    opts.large_messages = large;
    Session::open(&opts)
}

/// The target from -Q/-e/--ndjson (else the default queue), its names checked.
pub(super) fn target(args: &Args, ctx: &Ctx) -> Result<Target> {
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
        crate::amqp::check_name(name)?;
    }
    log::info(&format!("publishing to {}", t.describe()));
    Ok(t)
}

/// Where the messages come from: BODY words, or stdin as the flags say.
pub(super) fn open_input(args: &Args) -> Result<Input> {
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

/// The queue whose existence the first message checks, instead of a passive declare before
/// it: that saves a round trip, a quarter of a one-message `send` (the default exchange
/// returns a message for a missing queue as unroutable, before its confirm). Only with
/// confirms (they say when the return would have come), and not with --durable, which
/// checks an existing queue's durability.
pub(super) fn probe_queue(target: &Target, args: &Args) -> Option<String> {
    match target {
        Target::Queue(q) if !args.no_declare && !args.no_confirm && !args.durable => {
            Some(q.clone())
        }
        _ => None,
    }
}

/// Declare the queue or exchange, when the flags ask for it.
pub(super) fn declare_target(session: &mut Session, target: &Target, args: &Args) -> Result<()> {
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

/// The message properties the flags set.
pub(super) fn base_properties(args: &Args) -> Properties {
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

/// A short id unique to this run: time and pid, 12 hex digits.
pub(super) fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mixed = nanos ^ (u64::from(std::process::id()) << 40) ^ (nanos >> 24);
    format!("{:012x}", mixed & 0xffff_ffff_ffff)
}

/// The exchange named in errors about the channel ("" for a queue).
pub(super) fn exchange_of(t: &Target) -> &str {
    match t {
        Target::Exchange { name, .. } => name,
        _ => "",
    }
}

impl Sender<'_> {
    /// With --auto-message-id, a copy carrying the id of the next message (when it has none).
    pub(super) fn with_auto_id(&self, message: &Rc<Message>) -> Rc<Message> {
        match &self.run_id {
            Some(run) if message.props.message_id.is_none() => {
                let mut m = Message::clone(message);
                m.props.message_id = Some(format!("{run}-{}", self.stats.sent + 1));
                Rc::new(m)
            }
            _ => message.clone(),
        }
    }

    /// An input item as (exchange, routing key, message); a bad envelope names its line.
    pub(super) fn resolve(&self, item: Item) -> Result<(String, String, Message)> {
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
    pub(super) fn dest(&mut self, exchange: String, routing_key: String) -> Rc<Dest> {
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
}
