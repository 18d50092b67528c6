//! `rmq list-connections`: client connections, through the management HTTP API.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::listing::{Col, Spec, VhostListArgs, computed, field, path};
use crate::mgmt::admin::Kind;
use serde_json::Value;

const EXAMPLES: &str = "\
Examples:
  rmq list-connections                     # the connection's vhost (from --url / --vhost)
  rmq list-connections --all-vhosts
  rmq list-connections --columns name,client,peer
  rmq list-connections --json | jq -r '.[] | select(.user == \"guest\") | .name'
  rmq close-connection \"$(rmq list-connections --columns name | sed -n 2p)\" --yes

Output: a table on a terminal, a header and tab-separated rows on a pipe, a JSON array with
--json (the broker's objects, numbers as it sent them, plus the columns above).";

/// List client connections (through the management HTTP API)
///
/// Columns: name, user, vhost, client (product/version the client announced), peer
/// (host:port), state, channels. Also: node, protocol, ssl, connected_at, heartbeat,
/// recv_oct, send_oct. Lists the vhost of the connection settings; --all-vhosts lists all.
/// --filter matches the connection's name.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub list: VhostListArgs,
}

/// "RabbitMQ Java Client/5.16" from the announced client properties.
pub fn client(c: &Value) -> Value {
    let p = |k: &str| {
        c.get("client_properties")
            .and_then(|cp| cp.get(k))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    match (p("product"), p("version")) {
        (a, b) if a.is_empty() && b.is_empty() => Value::Null,
        (a, b) if b.is_empty() => a.into(),
        (a, b) => format!("{a}/{b}").into(),
    }
}

/// "10.0.0.5:51234" ("[::1]:51234" for IPv6).
pub fn peer(c: &Value) -> Value {
    let host = c.get("peer_host").and_then(Value::as_str).unwrap_or("?");
    let port = c
        .get("peer_port")
        .map(crate::output::cell_text)
        .unwrap_or_default();
    if host.contains(':') {
        format!("[{host}]:{port}").into()
    } else {
        format!("{host}:{port}").into()
    }
}

const COLS: &[Col] = &[
    field("name"),
    field("user"),
    field("vhost"),
    computed("client", client),
    computed("peer", peer),
    field("state"),
    field("channels"),
    field("node"),
    field("protocol"),
    field("ssl"),
    field("connected_at"),
    crate::listing::from("heartbeat", "timeout"),
    field("recv_oct"),
    field("send_oct"),
    path("connection_name", &["client_properties", "connection_name"]),
];

/// The listing's columns and API path.
pub const SPEC: Spec = Spec {
    kind: Kind::Connections,
    command: "list-connections",
    what: "connections",
    cols: COLS,
    default: &[
        "name", "user", "vhost", "client", "peer", "state", "channels",
    ],
    name: "name",
    sort: &["vhost", "name"],
    hidden: &[],
};

/// Run `rmq list-connections`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    SPEC.run(ctx, &args.list.list, args.list.all_vhosts)
}
