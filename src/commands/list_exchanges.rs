//! `rmq list-exchanges`: the exchanges of a vhost, through the management HTTP API.

use super::list_queues::{bool_field, sort_by_vhost_and_name, str_field};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::listing::{ColumnsArg, Pick, Scope, parse_regex};
use crate::mgmt::Api;
use regex::Regex;
use serde_json::{Map, Value};

const EXAMPLES: &str = "\
Examples:
  rmq list-exchanges
  rmq list-exchanges --vhost prod --filter '^orders'
  rmq list-exchanges --columns name,type,arguments
  rmq list-exchanges --json | jq -r '.[] | select(.type == \"topic\") | .name'

Output: a table on a terminal (the default exchange, whose name is empty, shows as
(AMQP default)); tab-separated rows after a header line when stdout is not a terminal; a
JSON array with --json (each object also has vhost and arguments).";

/// List exchanges (through the management HTTP API)
///
/// Columns: name, type, durable, auto_delete, internal. Lists the vhost of the connection
/// settings; the global --vhost picks another. Needs the management plugin (see
/// `rmq list-queues --help`).
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Only exchanges whose name matches this regular expression (unanchored)
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    pub filter: Option<Regex>,

    /// List the exchanges of every vhost (ignores --vhost); adds a vhost column
    #[arg(long)]
    pub all_vhosts: bool,

    #[command(flatten)]
    pub columns: ColumnsArg,
}

/// Every column list-exchanges can show (`--columns`).
const COLUMNS: &[&str] = &[
    "vhost",
    "name",
    "type",
    "durable",
    "auto_delete",
    "internal",
    "arguments",
];

/// Run `rmq list-exchanges`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let mut columns = vec!["name", "type", "durable", "auto_delete", "internal"];
    if args.all_vhosts {
        columns.insert(0, "vhost");
    }
    let pick = Pick::new("list-exchanges", &columns, COLUMNS, &args.columns.columns)?;
    let api = Api::new(ctx)?;
    let vhost = (!args.all_vhosts).then(|| api.vhost().to_string());
    let mut exchanges = api.exchanges(vhost.as_deref())?;
    sort_by_vhost_and_name(&mut exchanges);
    let mut listing = pick.listing().placeholder("name", "(AMQP default)");
    for x in &exchanges {
        let name = str_field(x, "name");
        if args.filter.as_ref().is_some_and(|re| !re.is_match(&name)) {
            continue;
        }
        let mut row = Map::new();
        row.insert("name".into(), name.into());
        row.insert("vhost".into(), str_field(x, "vhost").into());
        row.insert("type".into(), str_field(x, "type").into());
        row.insert("durable".into(), bool_field(x, "durable"));
        row.insert("auto_delete".into(), bool_field(x, "auto_delete"));
        row.insert("internal".into(), bool_field(x, "internal"));
        row.insert(
            "arguments".into(),
            x.get("arguments")
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new())),
        );
        listing.push(pick.row(row));
    }
    crate::listing::print(
        &listing,
        ctx.json(),
        "exchanges",
        Scope::of(vhost.as_deref()),
        args.filter.is_some(),
    )
}
