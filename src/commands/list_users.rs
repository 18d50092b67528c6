//! `rmq list-users`: users, through the management HTTP API (never their password hashes).

use crate::ctx::Ctx;
use crate::error::Result;
use crate::listing::{Col, ListArgs, Spec, computed, field};
use crate::mgmt::admin::Kind;
use serde_json::Value;

const EXAMPLES: &str = "\
Examples:
  rmq list-users
  rmq list-users --json | jq -r '.[] | select(.tags | test(\"administrator\")) | .name'";

/// List users (through the management HTTP API)
///
/// Columns: name, tags (comma-separated). Also: hashing_algorithm. Password hashes are never
/// shown, not even with --json (`rmq definitions-export` has them). --filter matches the name.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub list: ListArgs,
}

/// Tags as one string, whether the broker sent a list (3.9+) or a string.
fn tags(u: &Value) -> Value {
    match u.get("tags") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(",")
            .into(),
        Some(Value::String(s)) => s.clone().into(),
        _ => "".into(),
    }
}

const COLS: &[Col] = &[
    field("name"),
    computed("tags", tags),
    field("hashing_algorithm"),
];

const SPEC: Spec = Spec {
    kind: Kind::Users,
    command: "list-users",
    what: "users",
    cols: COLS,
    default: &["name", "tags"],
    name: "name",
    sort: &["name"],
    hidden: &["password_hash"],
};

/// Run `rmq list-users`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    SPEC.run(ctx, &args.list, false)
}
