//! `rmq definitions-import`: load definitions (the management API's JSON) into the broker;
//! `--dry-run` compares the file with the broker and changes nothing.

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::listing::Scope;
use crate::mgmt::Api;
use crate::output::Listing;
use serde_json::{Map, Value};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  rmq definitions-import defs.json --dry-run          # what would be created or changed
  rmq definitions-import defs.json
  rmq definitions-import prod.json --vhost staging     # one vhost's file into another vhost";

/// Import definitions into the broker
///
/// FILE is in the management API's format (from definitions-export, the management UI or
/// rabbitmqadmin). The broker creates what is missing and updates what differs; it deletes
/// nothing. With --vhost, FILE holds one vhost's definitions and goes into that vhost (which
/// must exist). --dry-run prints what would be created or changed (action, kind, name) and
/// touches nothing. A malformed file is exit 2 naming the line of the JSON error.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// The definitions file (JSON)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Only list what would be created or changed
    #[arg(long)]
    pub dry_run: bool,
}

/// The kinds of object a definitions file holds, and the fields that name one.
const KINDS: &[(&str, &[&str])] = &[
    ("users", &["name"]),
    ("vhosts", &["name"]),
    ("permissions", &["vhost", "user"]),
    ("topic_permissions", &["vhost", "user", "exchange"]),
    ("parameters", &["vhost", "component", "name"]),
    ("global_parameters", &["name"]),
    ("policies", &["vhost", "name"]),
    ("queues", &["vhost", "name"]),
    ("exchanges", &["vhost", "name"]),
    (
        "bindings",
        &[
            "vhost",
            "source",
            "destination_type",
            "destination",
            "routing_key",
            "arguments",
        ],
    ),
];

fn key(obj: &Value, fields: &[&str]) -> String {
    fields
        .iter()
        .filter_map(|f| obj.get(*f))
        .map(crate::output::cell_text)
        .collect::<Vec<_>>()
        .join(" ")
}

/// What importing `file` into a broker holding `current` would create or change.
pub fn plan(file: &Value, current: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (kind, fields) in KINDS {
        let now: Vec<&Value> = current
            .get(*kind)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect();
        for obj in file
            .get(*kind)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let k = key(obj, fields);
            let action = match now.iter().find(|o| key(o, fields) == k) {
                None => "create",
                Some(o) if *o != obj => "change",
                Some(_) => continue,
            };
            out.push((action.to_string(), kind.to_string(), k));
        }
    }
    out
}

/// Run `rmq definitions-import`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    let shown = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| Error::Usage(format!("cannot read definitions file '{shown}': {e}")))?;
    let defs: Value = serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "'{shown}' is not valid JSON: line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    if !defs.is_object() {
        return Err(Error::Usage(format!(
            "'{shown}' is not a definitions file: expected a JSON object (from definitions-export)"
        )));
    }
    let vhost = ctx.global.vhost.clone();
    let api = Api::new(ctx)?;
    let current = api.definitions(vhost.as_deref())?;
    let changes = plan(&defs, &current);
    if args.dry_run {
        let mut listing = Listing::new(&["action", "kind", "name"]);
        for (action, kind, name) in &changes {
            let mut row = Map::new();
            row.insert("action".into(), action.clone().into());
            row.insert("kind".into(), kind.clone().into());
            row.insert("name".into(), name.clone().into());
            listing.push(row);
        }
        let scope = vhost.as_deref().map_or(Scope::Broker, Scope::Vhost);
        return crate::listing::print(&listing, ctx.json(), "changes", scope, false);
    }
    api.definitions_import(vhost.as_deref(), &defs)?;
    crate::changes::done(
        ctx,
        &format!(
            "imported '{shown}': {} object(s) created or changed",
            changes.len()
        ),
        serde_json::json!({"file": shown, "changed": changes.len()}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plans_name_what_is_new_or_different() {
        let file =
            json!({"queues": [{"name": "a", "durable": true}, {"name": "b"}, {"name": "c"}]});
        let now =
            json!({"queues": [{"name": "a", "durable": true}, {"name": "b", "durable": true}]});
        let p = plan(&file, &now);
        assert_eq!(
            p,
            vec![
                ("change".into(), "queues".into(), "b".into()),
                ("create".into(), "queues".into(), "c".into())
            ]
        );
    }
}
