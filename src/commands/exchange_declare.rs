//! `rmq exchange-declare`: declare an exchange exactly as described.

use crate::amqp::{ExchangeKind, ExchangeSpec, Value};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::kv;
use crate::log;
use crate::output::Out;

const EXAMPLES: &str = "\
Examples:
  rmq exchange-declare logs -t fanout                 # tutorial 3
  rmq exchange-declare direct_logs -t direct --durable
  rmq exchange-declare topic_logs -t topic --durable
  rmq exchange-declare matcher -t headers
  rmq exchange-declare events -t topic --durable --arg alternate-exchange=unrouted";

/// Declare an exchange
///
/// An exact declaration: when the exchange already exists with another type or other flags,
/// nothing is changed and rmq exits 6 with the broker's words (delete it first with
/// `rmq exchange-delete` to change it). Declaring it again with the same settings is a no-op.
/// Note that RabbitMQ compares only the type, the flags and `alternate-exchange`, not other
/// --arg values.
///
/// Prints nothing on stdout (with --json, the declared settings as a JSON object).
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Name of the exchange
    #[arg(value_name = "EXCHANGE")]
    pub exchange: String,

    /// Exchange type
    #[arg(short = 't', long = "type", value_name = "TYPE")]
    pub kind: ExchangeKind,

    /// Survive a broker restart
    #[arg(long)]
    pub durable: bool,

    /// Delete the exchange when its last binding is removed
    #[arg(long)]
    pub auto_delete: bool,

    /// Only other exchanges may publish to it (through exchange-to-exchange bindings)
    #[arg(long)]
    pub internal: bool,

    /// Exchange argument (repeatable), e.g. alternate-exchange=X; integers and true/false
    /// are sent typed
    #[arg(long = "arg", value_name = "K=V", value_parser = kv::KvParser)]
    pub args: Vec<(String, Value)>,
}

/// Run `rmq exchange-declare`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    crate::amqp::check_name(&args.exchange)?;
    let spec = ExchangeSpec {
        kind: args.kind,
        durable: args.durable,
        auto_delete: args.auto_delete,
        internal: args.internal,
        args: kv::table(&args.args),
    };
    let mut session = ctx.connect("rmq exchange-declare")?;
    let vhost = session.endpoint().vhost.clone();
    let name = &args.exchange;
    session.exchange_declare(name, &spec).map_err(|e| match e {
        Error::Precondition { reason, .. } if reason.contains("inequivalent") => {
            Error::Precondition {
                what: format!(
                    "exchange '{name}' in vhost '{vhost}' already exists with other settings"
                ),
                reason,
                hint: format!(
                    "declare it as it is (rmq list-exchanges shows its type and flags), or delete \
                 it first: rmq exchange-delete {name}"
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
    log::info(&format!(
        "exchange '{name}' in vhost '{vhost}' declared ({}{}{}{})",
        args.kind.as_str(),
        if args.durable { ", durable" } else { "" },
        if args.auto_delete {
            ", auto-delete"
        } else {
            ""
        },
        if args.internal { ", internal" } else { "" },
    ));
    if ctx.json() {
        let mut out = Out::new();
        out.json(&serde_json::json!({
            "name": name,
            "vhost": vhost,
            "type": args.kind.as_str(),
            "durable": args.durable,
            "auto_delete": args.auto_delete,
            "internal": args.internal,
            "arguments": crate::envelope::table_to_json(&spec.args),
        }))?;
        out.flush()?;
    }
    Ok(())
}
