//! `rmq list-queues`: the queues of a vhost, through the management HTTP API.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::listing::{ColumnsArg, Pick, Scope, empty_note, parse_regex};
use crate::mgmt::Api;
use crate::mgmt::topology::without_stats;
use crate::output::ListFormat;
use crate::row_writer::{Arrival, RowWriter};
use regex::Regex;
use serde_json::{Map, Value};

const EXAMPLES: &str = "\
Examples:
  rmq list-queues                          # the connection's vhost (from --url / --vhost)
  rmq list-queues --vhost prod             # another vhost
  rmq list-queues --all-vhosts             # every vhost the user can see (adds a vhost column)
  rmq list-queues --filter '^orders\\.'     # names matching a regular expression
  rmq list-queues --columns name,messages,state,arguments
  rmq list-queues | awk -F'\\t' 'NR > 1 && $2 > 1000 { print $1 }'   # scripts get TSV
  rmq list-queues --json | jq -r '.[] | select(.consumers == 0) | .name'

Output: a table on a terminal; tab-separated rows after a header line when stdout is not a
terminal (tabs, newlines and backslashes in names are written as \\t, \\n and \\\\); a JSON
array with --json (each object also has vhost, auto_delete, exclusive, state and arguments).
Rows are sorted by vhost, then name: by rmq, which holds only the text it prints (about
0.1 MB per 1,000 queues), sparing the broker its own sort; --json without --columns is sorted
by the broker and streamed. Counts come from the management plugin's
statistics, refreshed every 5 s by default; a count not known yet (a queue just created) is
empty (null in JSON).";

/// List queues (through the management HTTP API)
///
/// Columns: name, messages (ready + unacked), ready, unacked, consumers, durable, type. Lists
/// the vhost of the connection settings; the global --vhost picks another. AMQP cannot list
/// queues, so this needs the management plugin (rabbitmq-plugins enable
/// rabbitmq_management), reached at --api-url / RMQ_API_URL (default: http://<host of the
/// AMQP URL>:15672) with the same user and password.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Only queues whose name matches this regular expression (unanchored; use ^...$)
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    pub filter: Option<Regex>,

    /// List the queues of every vhost (ignores --vhost); adds a vhost column
    #[arg(long)]
    pub all_vhosts: bool,

    #[command(flatten)]
    pub columns: ColumnsArg,
}

/// Every column list-queues can show (`--columns`); `COLUMNS[1..8]` are the default ones.
const COLUMNS: &[&str] = &[
    "vhost",
    "name",
    "messages",
    "ready",
    "unacked",
    "consumers",
    "durable",
    "type",
    "auto_delete",
    "exclusive",
    "state",
    "policy",
    "arguments",
];

/// Run `rmq list-queues`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    // name, messages, ready, unacked, consumers, durable, type (and vhost first with
    // --all-vhosts).
    let columns = &COLUMNS[usize::from(!args.all_vhosts)..8];
    let pick = Pick::new("list-queues", columns, COLUMNS, &args.columns.columns)?;
    let api = Api::new(ctx)?;
    let vhost = (!args.all_vhosts).then(|| api.vhost().to_string());
    // A table or TSV shows only its columns, so only their fields are asked for and kept; JSON
    // without --columns has every field of QUEUE_COLUMNS.
    let only_shown = !ctx.json() || pick.asked().is_some();
    let mut fields = only_shown.then(|| api_fields(pick.shown(), args.all_vhosts));
    // When consumers are the only statistic asked (the default columns), they are counted
    // from the consumer list and the queues come without statistics (W8 in scripts/bench).
    let counts = match &mut fields {
        Some(f) if f.contains(&"consumers") => {
            f.retain(|k| *k != "consumers");
            if without_stats(f) {
                Some(api.consumer_counts(vhost.as_deref())?)
            } else {
                f.push("consumers");
                None
            }
        }
        _ => None,
    };
    // Each queue becomes its row as it is read. Small rows (a table, TSV, --columns) come in
    // any order, sparing the broker its sort (W8 in scripts/bench), and are held as the text
    // they will print until sorted; JSON objects of every field come sorted by the API and go
    // straight to stdout.
    let format = ListFormat::detect(ctx.json());
    let arrival = if only_shown {
        Arrival::AnyOrder
    } else {
        Arrival::InOrder
    };
    let mut out = RowWriter::new(pick.shown(), format, arrival);
    let sorted = arrival == Arrival::InOrder;
    api.queues_each(vhost.as_deref(), fields.as_deref(), sorted, &mut |mut q| {
        let name = str_field(&q, "name");
        if args.filter.as_ref().is_some_and(|re| !re.is_match(&name)) {
            return;
        }
        let vh = match &vhost {
            Some(v) => v.clone(),
            None => str_field(&q, "vhost"),
        };
        if let (Some(counts), Value::Object(o)) = (&counts, &mut q) {
            let n = counts
                .get(&(vh.clone(), name.clone()))
                .copied()
                .unwrap_or(0);
            o.insert("consumers".into(), n.into());
        }
        let mut row = pick.row(queue_row(&q, &vh));
        // One vhost: no need to keep its name in every held row's key.
        let vh = if args.all_vhosts { vh.as_str() } else { "" };
        if only_shown {
            let cells: Vec<Value> = pick
                .shown()
                .iter()
                .map(|c| row.remove(c).unwrap_or(Value::Null))
                .collect();
            out.cells(vh, &name, &cells);
        } else {
            out.fields(vh, &name, row);
        }
    })?;
    if out.is_empty() && format == ListFormat::Table {
        let scope = Scope::of(vhost.as_deref());
        crate::log::note(&empty_note("queues", scope, args.filter.is_some()));
    }
    out.finish()
}

/// The API fields the columns `shown` need: name always, vhost across vhosts (sorting) or
/// when shown (one vhost's is known: not asking it spares the broker ~5% of its answer), and
/// the statistics only if a column needs them (see [`crate::mgmt::topology::without_stats`]).
fn api_fields(shown: &[String], all_vhosts: bool) -> Vec<&'static str> {
    let mut fields = vec!["name"];
    if all_vhosts {
        fields.push("vhost");
    }
    for c in shown {
        let f = match c.as_str() {
            "ready" => "messages_ready",
            "unacked" => "messages_unacknowledged",
            c => COLUMNS.iter().copied().find(|k| *k == c).unwrap_or("name"),
        };
        if !fields.contains(&f) {
            fields.push(f);
        }
    }
    fields
}

/// The row of queue `q` (its vhost `vhost`: the API leaves it out when one was asked).
fn queue_row(q: &Value, vhost: &str) -> Map<String, Value> {
    let mut row = Map::new();
    row.insert("name".into(), str_field(q, "name").into());
    row.insert("vhost".into(), vhost.into());
    row.insert("messages".into(), num_field(q, "messages"));
    row.insert("ready".into(), num_field(q, "messages_ready"));
    row.insert("unacked".into(), num_field(q, "messages_unacknowledged"));
    row.insert("consumers".into(), num_field(q, "consumers"));
    row.insert("durable".into(), bool_field(q, "durable"));
    let kind = q
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("classic")
        .to_string();
    row.insert("type".into(), kind.into());
    row.insert("auto_delete".into(), bool_field(q, "auto_delete"));
    row.insert("exclusive".into(), bool_field(q, "exclusive"));
    row.insert(
        "state".into(),
        q.get("state").cloned().unwrap_or(Value::Null),
    );
    row.insert(
        "policy".into(),
        q.get("policy").cloned().unwrap_or(Value::Null),
    );
    row.insert(
        "arguments".into(),
        q.get("arguments")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new())),
    );
    row
}

/// Sort API rows by vhost, then name (the API's order is not guaranteed).
pub fn sort_by_vhost_and_name(rows: &mut [Value]) {
    rows.sort_by(|a, b| {
        (str_field(a, "vhost"), str_field(a, "name"))
            .cmp(&(str_field(b, "vhost"), str_field(b, "name")))
    });
}

/// A string field of an API object ("" when absent).
pub fn str_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A number field (null when the statistics do not have it yet).
pub fn num_field(v: &Value, key: &str) -> Value {
    match v.get(key) {
        Some(n @ Value::Number(_)) => n.clone(),
        _ => Value::Null,
    }
}

/// A boolean field (false when absent).
pub fn bool_field(v: &Value, key: &str) -> Value {
    Value::Bool(v.get(key).and_then(Value::as_bool).unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(cols: &str) -> Vec<&'static str> {
        let shown: Vec<String> = cols.split(',').map(String::from).collect();
        api_fields(&shown, true)
    }

    #[test]
    fn columns_without_consumers_take_the_path_without_statistics() {
        assert_eq!(fields("name,messages"), ["name", "vhost", "messages"]);
        // One vhost: its name is known, not asked.
        let shown = ["name".to_string(), "messages".into()];
        assert_eq!(api_fields(&shown, false), ["name", "messages"]);
        assert!(without_stats(&fields("name,messages")));
        assert!(without_stats(&fields(
            "name,ready,unacked,state,policy,arguments,type"
        )));
        assert_eq!(
            fields("ready,unacked"),
            ["name", "vhost", "messages_ready", "messages_unacknowledged"]
        );
        assert!(!without_stats(&fields("name,consumers")));
        assert!(!without_stats(&fields(
            "name,messages,ready,unacked,consumers,durable,type"
        )));
    }
}
