//! `rmq list-bindings`: the bindings of a vhost, through the management HTTP API.

use super::list_queues::str_field;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::listing::{ColumnsArg, Pick, Scope};
use crate::mgmt::Api;
use serde_json::{Map, Value};

const EXAMPLES: &str = "\
Examples:
  rmq list-bindings
  rmq list-bindings -Q errors              # what the queue errors is bound to
  rmq list-bindings -e topic_logs          # what the exchange topic_logs routes to
  rmq list-bindings --columns source,routing_key,destination
  rmq list-bindings --json | jq '.[] | select(.arguments[\"x-match\"])'   # headers bindings

Output: a table on a terminal (the default exchange shows as (AMQP default)); tab-separated
rows after a header line when stdout is not a terminal; a JSON array with --json. The
arguments column holds a headers binding's match (x-match and the headers) as JSON.
Every queue has an implicit binding from the default exchange with its own name as key.";

/// List bindings (through the management HTTP API)
///
/// Columns: source (exchange), destination, destination_type (queue or exchange),
/// routing_key, arguments. Lists the vhost of the connection settings; the global --vhost
/// picks another. Needs the management plugin (see `rmq list-queues --help`).
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Only bindings to this queue (exit 5 if it does not exist)
    #[arg(short = 'Q', long, value_name = "QUEUE")]
    pub queue: Option<String>,

    /// Only bindings from this exchange (exit 5 if it does not exist)
    #[arg(short = 'e', long, value_name = "EXCHANGE")]
    pub exchange: Option<String>,

    /// List the bindings of every vhost (ignores --vhost); adds a vhost column
    #[arg(long, conflicts_with_all = ["queue", "exchange"])]
    pub all_vhosts: bool,

    #[command(flatten)]
    pub columns: ColumnsArg,
}

/// Every column list-bindings can show (`--columns`).
const COLUMNS: &[&str] = &[
    "vhost",
    "source",
    "destination",
    "destination_type",
    "routing_key",
    "arguments",
];

/// Run `rmq list-bindings`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let mut columns = vec![
        "source",
        "destination",
        "destination_type",
        "routing_key",
        "arguments",
    ];
    if args.all_vhosts {
        columns.insert(0, "vhost");
    }
    let pick = Pick::new("list-bindings", &columns, COLUMNS, &args.columns.columns)?;
    let api = Api::new(ctx)?;
    let vhost = (!args.all_vhosts).then(|| api.vhost().to_string());
    let mut bindings = api.bindings(
        vhost.as_deref(),
        args.queue.as_deref(),
        args.exchange.as_deref(),
    )?;
    bindings.sort_by_key(sort_key);
    let mut listing = pick.listing().placeholder("source", "(AMQP default)");
    for b in &bindings {
        let mut row = Map::new();
        row.insert("vhost".into(), str_field(b, "vhost").into());
        row.insert("source".into(), str_field(b, "source").into());
        row.insert("destination".into(), str_field(b, "destination").into());
        row.insert(
            "destination_type".into(),
            str_field(b, "destination_type").into(),
        );
        row.insert("routing_key".into(), str_field(b, "routing_key").into());
        row.insert(
            "arguments".into(),
            b.get("arguments")
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new())),
        );
        listing.push(pick.row(row));
    }
    crate::listing::print(
        &listing,
        ctx.json(),
        "bindings",
        Scope::of(vhost.as_deref()),
        false,
    )
}

fn sort_key(b: &Value) -> (String, String, String, String, String) {
    (
        str_field(b, "vhost"),
        str_field(b, "source"),
        str_field(b, "destination"),
        str_field(b, "routing_key"),
        b.get("arguments").map(Value::to_string).unwrap_or_default(),
    )
}
