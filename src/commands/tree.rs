//! `rmq tree`: the topology of a vhost (exchanges, their bindings, the queues and exchanges
//! they lead to) from the management HTTP API, in three requests (exchanges, bindings,
//! queues). The model is tree/model.rs; the outputs are tree/text.rs, tree/dot.rs and
//! tree/json.rs.

mod dot;
mod json;
mod model;
mod text;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::mgmt::Api;
use crate::output::Out;
use model::Topology;

const EXAMPLES: &str = "\
Examples:
  rmq tree                                  # the connection's vhost
  rmq tree --vhost prod --all               # with the default exchange and amq.* ones
  rmq tree --dot | dot -Tsvg > topology.svg # a picture (Graphviz)
  rmq tree --json | jq -r '.unbound[].name' # queues no exchange routes to

Output: one block per exchange, `name (type exchange)`, and under it its binding keys
(`\"\"` for an empty one), under each key the queues it leads to, `name (queue, 3
messages, 1 consumer)`, and the exchanges (exchange-to-exchange bindings), with their
own bindings nested. A fanout exchange ignores keys, so its destinations stand directly
under it; under a headers exchange the bindings' arguments (`x-match=all, format=pdf`)
take the keys' place. An exchange bound from another one appears under its source (under
each source when several), not at the top; where bindings go round in a cycle, the
exchange met again is marked and not expanded twice. Queues bound to no exchange come
last, under (unbound queues). Everything is sorted by name. The lines are the same on a
terminal and on a pipe (UTF-8 box-drawing branches); control characters in names are
escaped. Counts come from the management plugin's statistics (refreshed every 5 s by
default); a count not known yet shows as ?.

Every queue has an implicit binding from the default exchange (its own name as the key),
and every vhost has the broker's amq.* exchanges: both are left out unless --all (an
amq.* exchange that something is bound to or from is always shown).

--dot: a Graphviz digraph: exchanges as rounded boxes, queues as cylinders (every queue,
bound or not), bindings as edges labelled with their key.
--json: {\"vhost\", \"exchanges\": [exchange], \"unbound\": [queue]}, where an exchange is
{\"name\", \"type\", \"bindings\": [binding]} (and \"cycle\": true, without bindings, where a
cycle comes back to it), a binding {\"routing_key\", \"arguments\" (only when it has any),
\"destination_type\": \"queue\" or \"exchange\", and \"queue\" or \"exchange\"}, a queue
{\"name\", \"messages\", \"consumers\"} with the broker's numbers (null when not known yet).";

/// Show the topology of a vhost: exchanges, bindings, queues (management HTTP API)
///
/// Exchange → binding key → queue (with messages and consumers), exchange-to-exchange
/// bindings nested under their source. Shows the vhost of the connection settings; the
/// global --vhost picks another. Needs the management plugin (see `rmq list-queues --help`).
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub struct Args {
    /// Print a Graphviz digraph instead of the tree (rmq tree --dot | dot -Tsvg > topo.svg)
    #[arg(long)]
    pub dot: bool,

    /// Also show the default exchange with its implicit bindings, and the amq.* exchanges
    /// nothing is bound to
    #[arg(long)]
    pub all: bool,
}

/// The queue fields the tree shows (with statistics: consumers are one).
const QUEUE_FIELDS: &[&str] = &["name", "messages", "consumers"];

/// Run `rmq tree`.
pub fn run(args: Args, ctx: &Ctx) -> Result<()> {
    if args.dot && ctx.json() {
        return Err(Error::Usage(
            "--dot and --json are two different outputs: pick one".into(),
        ));
    }
    let api = Api::new(ctx)?;
    let vhost = api.vhost().to_string();
    // The exchanges first: a vhost that does not exist is a 404 there (exit 5, naming it).
    let exchanges = api.exchanges(Some(&vhost))?;
    let bindings = api.bindings(Some(&vhost), None, None)?;
    let mut queues = Vec::new();
    api.queues_each(Some(&vhost), Some(QUEUE_FIELDS), false, &mut |q| {
        queues.push(q)
    })?;
    let topology = Topology::new(&exchanges, &bindings, &queues, args.all);
    let mut out = Out::new();
    if args.dot {
        out.text(&dot::digraph(&vhost, &topology))?;
        return out.flush();
    }
    let tree = topology.tree();
    if ctx.json() {
        out.json(&json::document(&vhost, &tree))?;
        return out.flush();
    }
    if tree.roots.is_empty() && tree.unbound.is_empty() {
        crate::log::note(&format!(
            "no exchanges or queues in vhost '{vhost}' but the broker's own (--all shows them)"
        ));
    }
    for line in text::lines(&tree) {
        out.text(&line)?;
    }
    out.flush()
}
