//! `rmq queue-declare`: declare a queue exactly as described; print its name and counts.

use crate::amqp::{QueueSpec, Value};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::kv;
use crate::output::{ListFormat, Listing, Out};

const EXAMPLES: &str = "\
Examples:
  rmq queue-declare hello                            # tutorial 1
  rmq queue-declare task_queue --durable             # tutorial 2
  rmq queue-declare orders --quorum --dead-letter-exchange orders.dlx
  rmq queue-declare cache --message-ttl 60000 --max-length 1000
  rmq queue-declare lazy --durable --arg x-queue-mode=lazy
  rmq queue-declare events --stream --max-age 7D    # a stream: read it with rmq receive --offset
  rmq queue-declare '' --auto-delete                 # a server-named queue: prints its name

Output (stdout): name, messages and consumers; a table on a terminal, a header line and a
tab-separated row otherwise, a JSON object with --json.";

/// Declare a queue
///
/// An exact declaration: when the queue already exists with other flags or arguments,
/// nothing is changed and rmq exits 6 with the broker's words (delete it first with
/// `rmq queue-delete` to change it). Declaring it again with the same settings is a no-op
/// that shows its current message and consumer counts. RabbitMQ compares the flags and the
/// arguments it knows (x-queue-type, x-message-ttl, x-max-length, x-dead-letter-exchange, ...),
/// not custom --arg keys.
///
/// An empty name asks the broker for a generated one, which is printed.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Name of the queue ('' for a server-generated name)
    #[arg(value_name = "QUEUE")]
    pub queue: String,

    /// Survive a broker restart (implied by --quorum)
    #[arg(long)]
    pub durable: bool,

    /// Delete the queue when its last consumer goes away
    #[arg(long, conflicts_with = "quorum")]
    pub auto_delete: bool,

    /// A quorum queue (replicated, durable): x-queue-type=quorum
    #[arg(long, conflicts_with = "stream")]
    pub quorum: bool,

    /// A stream (an append-only log read from an offset, durable): x-queue-type=stream
    #[arg(long, conflicts_with = "auto_delete")]
    pub stream: bool,

    /// Stream retention: drop segments older than AGE, a number and one unit of Y M D h m s
    /// (7D, 12h): x-max-age
    #[arg(long, value_name = "AGE", requires = "stream", value_parser = parse_age)]
    pub max_age: Option<String>,

    /// Stream retention: keep at most N bytes: x-max-length-bytes
    #[arg(long, value_name = "N", requires = "stream")]
    pub max_length_bytes: Option<u64>,

    /// Size of a stream's segment files: x-stream-max-segment-size-bytes
    #[arg(long, value_name = "N", requires = "stream")]
    pub max_segment_size_bytes: Option<u64>,

    /// Discard (or dead-letter) messages older than MS milliseconds: x-message-ttl
    #[arg(long, value_name = "MS")]
    pub message_ttl: Option<u32>,

    /// Keep at most N messages; the oldest are dropped (or dead-lettered): x-max-length
    #[arg(long, value_name = "N")]
    pub max_length: Option<u32>,

    /// Send rejected, expired and dropped messages to exchange X: x-dead-letter-exchange
    #[arg(long, value_name = "EXCHANGE")]
    pub dead_letter_exchange: Option<String>,

    /// Queue argument (repeatable), e.g. x-dead-letter-routing-key=dlq; integers and
    /// true/false are sent typed
    #[arg(long = "arg", value_name = "K=V", value_parser = kv::KvParser)]
    pub args: Vec<(String, Value)>,
}

/// The queue arguments the flags stand for, checked against `--arg` duplicates.
fn arguments(args: &Args) -> Result<crate::amqp::Table> {
    let mut table = kv::table(&args.args);
    let mut set = |key: &str, flag: &str, value: Value| -> Result<()> {
        if table.contains_key(key) {
            return Err(Error::Usage(format!(
                "--arg {key}=... and {flag} set the same queue argument: give only one"
            )));
        }
        table.insert(key.to_string(), value);
        Ok(())
    };
    if args.quorum {
        set("x-queue-type", "--quorum", Value::Str("quorum".into()))?;
    }
    if args.stream {
        set("x-queue-type", "--stream", Value::Str("stream".into()))?;
    }
    if let Some(age) = &args.max_age {
        set("x-max-age", "--max-age", Value::Str(age.clone()))?;
    }
    for (key, flag, n) in [
        (
            "x-max-length-bytes",
            "--max-length-bytes",
            args.max_length_bytes,
        ),
        (
            "x-stream-max-segment-size-bytes",
            "--max-segment-size-bytes",
            args.max_segment_size_bytes,
        ),
    ] {
        if let Some(n) = n {
            set(key, flag, Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))?;
        }
    }
    if let Some(ms) = args.message_ttl {
        set("x-message-ttl", "--message-ttl", Value::Int(i64::from(ms)))?;
    }
    if let Some(n) = args.max_length {
        set("x-max-length", "--max-length", Value::Int(i64::from(n)))?;
    }
    if let Some(x) = &args.dead_letter_exchange {
        set(
            "x-dead-letter-exchange",
            "--dead-letter-exchange",
            Value::Str(x.clone()),
        )?;
    }
    Ok(table)
}

/// A stream's `--max-age`: the age form of `--offset` (a number and one unit).
fn parse_age(s: &str) -> std::result::Result<String, String> {
    match crate::stream_offset::StreamOffset::parse(s) {
        Ok(crate::stream_offset::StreamOffset::Age(a)) => Ok(a),
        _ => Err(format!(
            "'{s}' is not an age: a number and one unit of Y M D h m s, e.g. 7D or 12h"
        )),
    }
}

/// Run `rmq queue-declare`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    crate::amqp::check_name(&args.queue)?;
    let table = arguments(&args)?;
    // Quorum queues and streams are always durable.
    let quorum =
        matches!(table.get("x-queue-type"), Some(Value::Str(t)) if t == "quorum" || t == "stream");
    let spec = QueueSpec {
        durable: args.durable || quorum,
        auto_delete: args.auto_delete,
        exclusive: false,
        args: table,
    };
    let mut session = ctx.connect("rmq queue-declare")?;
    let vhost = session.endpoint().vhost.clone();
    let name = &args.queue;
    let info = session.queue_declare(name, &spec).map_err(|e| match e {
        Error::Precondition { reason, .. } if reason.contains("inequivalent") => {
            Error::Precondition {
                what: format!(
                    "queue '{name}' in vhost '{vhost}' already exists with other settings"
                ),
                reason,
                hint: format!(
                    "declare it as it is (rmq list-queues --json shows its flags and arguments), \
                     or delete it first: rmq queue-delete {name}"
                ),
            }
        }
        Error::Precondition { what, reason, .. } => Error::Precondition {
            what,
            reason,
            hint: "RabbitMQ refused an argument: check the --arg values and flags".into(),
        },
        other => other,
    })?;
    session.close();
    crate::log::info(&format!(
        "queue '{}' in vhost '{vhost}' declared{}",
        info.name,
        if spec.durable { " (durable)" } else { "" }
    ));
    let mut out = Out::new();
    let mut row = serde_json::Map::new();
    row.insert("name".into(), info.name.clone().into());
    row.insert("messages".into(), info.messages.into());
    row.insert("consumers".into(), info.consumers.into());
    if ctx.json() {
        out.json(&serde_json::Value::Object(row))?;
        return out.flush();
    }
    let mut listing = Listing::new(&["name", "messages", "consumers"]);
    listing.push(row);
    out.listing(&listing, ListFormat::detect(false))
}
