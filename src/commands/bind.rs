//! `rmq bind` and `rmq unbind`: add or remove queue bindings (headers exchanges too).

use crate::amqp::{Table, Value};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::kv;
use crate::log;

const BIND_EXAMPLES: &str = "\
Examples:
  rmq bind -Q q1 -e logs                            # fanout: no key needed (tutorial 3)
  rmq bind -Q errors -e direct_logs -k error -k warning    # one binding per key (tutorial 4)
  rmq bind -Q kern -e topic_logs -k 'kern.*'        # tutorial 5
  rmq bind -Q pdf -e matcher --header format=pdf --header type=report --match all
  rmq bind -Q any -e matcher --header format=pdf --header format2=zip --match any";

const UNBIND_EXAMPLES: &str = "\
Examples:
  rmq unbind -Q errors -e direct_logs -k warning
  rmq unbind -Q pdf -e matcher --header format=pdf --header type=report --match all";

/// How a headers exchange matches the binding's headers (x-match).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Match {
    /// Every header must match.
    All,
    /// At least one header must match.
    Any,
}

/// Bind a queue to an exchange
///
/// Adds one binding per -k KEY (none: one binding with the empty key). For a headers
/// exchange, give the headers to match with --header k=v (typed: integers and true/false)
/// and --match all|any (x-match, default all); the routing key is then ignored by the
/// broker. Binding again with the same key and headers is a no-op.
#[derive(Debug, clap::Args)]
#[command(after_long_help = BIND_EXAMPLES)]
pub struct Args {
    /// Queue: the binding's destination
    #[arg(short = 'Q', long, value_name = "QUEUE")]
    pub queue: String,

    /// Exchange: the binding's source
    #[arg(short = 'e', long, value_name = "EXCHANGE")]
    pub exchange: String,

    /// Binding (routing) key; repeat for several bindings
    #[arg(short = 'k', long = "routing-key", value_name = "KEY")]
    pub keys: Vec<String>,

    /// Header to match on a headers exchange (repeatable)
    #[arg(long = "header", value_name = "K=V", value_parser = kv::KvParser)]
    pub headers: Vec<(String, Value)>,

    /// Whether all or any of the --header values must match (x-match)
    #[arg(long = "match", value_name = "HOW", requires = "headers")]
    pub matching: Option<Match>,
}

/// Remove a binding between a queue and an exchange
///
/// Takes the same flags as `rmq bind`: a binding is identified by its key and, for headers
/// exchanges, its headers and --match. Like RabbitMQ, removing a binding that does not exist
/// succeeds (the queue and the exchange must exist: exit 5 otherwise); `rmq list-bindings`
/// shows what is there.
#[derive(Debug, clap::Args)]
#[command(after_long_help = UNBIND_EXAMPLES)]
pub struct UnbindArgs {
    /// The same flags as `rmq bind`.
    #[command(flatten)]
    pub args: Args,
}

fn binding_args(args: &Args) -> Table {
    let mut table = kv::table(&args.headers);
    if !args.headers.is_empty() {
        let how = match args.matching.unwrap_or(Match::All) {
            Match::All => "all",
            Match::Any => "any",
        };
        table.insert("x-match".into(), Value::Str(how.into()));
    }
    table
}

fn keys(args: &Args) -> Vec<String> {
    if args.keys.is_empty() {
        vec![String::new()]
    } else {
        args.keys.clone()
    }
}

fn check(args: &Args) -> Result<()> {
    crate::amqp::check_name(&args.queue)?;
    crate::amqp::check_name(&args.exchange)?;
    for k in &args.keys {
        crate::amqp::check_name(k)?;
    }
    Ok(())
}

/// Run `rmq bind`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    apply(true, &args, ctx)
}

/// Run `rmq unbind`.
pub fn run_unbind(args: UnbindArgs, ctx: &Ctx) -> Result<()> {
    apply(false, &args.args, ctx)
}

/// Add (`bind`) or remove one binding per key.
fn apply(bind: bool, args: &Args, ctx: &Ctx) -> Result<()> {
    check(args)?;
    let table = binding_args(args);
    let mut session = ctx.connect(if bind { "rmq bind" } else { "rmq unbind" })?;
    for key in keys(args) {
        session.queue_binding(bind, &args.queue, &args.exchange, &key, &table)?;
        log::info(&format!(
            "{} queue '{}' {} exchange '{}' (key '{key}')",
            if bind { "bound" } else { "unbound" },
            args.queue,
            if bind { "to" } else { "from" },
            args.exchange
        ));
    }
    session.close();
    Ok(())
}
